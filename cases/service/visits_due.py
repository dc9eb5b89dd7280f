"""What comes due for the service, run by the scheduler (``workers/scheduler.py``, job
``service-due``) and by ``caseflow scheduler --once``: the reminders the day before confirmed visits and
the internal tasks maintenance schedules open on their dates. Both are idempotent: a visit is
reminded once (``reminder_sent_at``), a schedule date opens one task (``next_due`` moves on), so a run
that is late or repeated loses and doubles nothing. Tests pass ``now``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from cases.core import events
from cases.core.db import db, unit_of_work
from cases.core.models import User, utcnow
from cases.outbox import notifications
from cases.service import maintenance
from cases.service.common import local_day, zone
from cases.service.visit_models import Visit

#: the reminder goes at this local time on the day before the visit (or at once if booked later)
REMINDER_TIME = time(10, 0)


@dataclass(frozen=True)
class DueReport:
    reminders: int
    maintenance_tasks: int


def reminder_due(visit: Visit) -> datetime:
    """10:00 (local) on the day before the visit's window starts."""
    day_before = local_day(visit.window_start) - timedelta(days=1)
    return datetime.combine(day_before, REMINDER_TIME, tzinfo=zone())


def _reminder_text(visit: Visit) -> tuple[str, str]:
    case, tz = visit.case, zone()
    start, end = visit.window_start.astimezone(tz), visit.window_end.astimezone(tz)
    when = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if start.date() == end.date() else \
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    subject = f"[{case.number}] 明天上门服务提醒 / Reminder: our visit tomorrow"
    body = (f"您好，\n\n我们的工程师将于 {when}（{tz.key}）上门，处理服务单 {case.number}：{visit.purpose}\n"
            f"如需更改时间，请在客户门户中提出新的时间。\n\n"
            f"Hello,\n\nOur engineer will visit you on {when} ({tz.key}) for case {case.number}: {visit.purpose}\n"
            f"To change the time, propose another window in the customer portal.\n")
    return subject, body


def send_reminders(now: datetime) -> int:
    sent = 0
    upcoming = db.session.scalars(select(Visit).where(
        Visit.status == "confirmed", Visit.reminder_sent_at.is_(None), Visit.window_start > now,
        Visit.window_start <= now + timedelta(days=2)).order_by(Visit.window_start, Visit.id))
    for visit in upcoming:
        if reminder_due(visit) > now:
            continue
        case = visit.case
        recipients: list[User | str] = []
        if case.reporter_id is not None:
            reporter = db.session.get(User, case.reporter_id)
            if reporter is not None and reporter.is_customer:
                recipients.append(reporter)
        if case.contact_email:
            recipients.append(case.contact_email)
        subject, body = _reminder_text(visit)
        queued = notifications.enqueue("visit_reminder", recipients, subject, body, case=case)
        if visit.technician is not None:
            notifications.enqueue("visit_reminder", [visit.technician], subject, body, case=case)
        visit.reminder_sent_at = now
        events.record(case, "visit_reminder", None, public=True, visit_id=visit.id,
                      window_start=visit.window_start.isoformat(), window_end=visit.window_end.isoformat(),
                      mails=len(queued))
        sent += 1
    return sent


def run(now: datetime | None = None) -> DueReport:
    """Send the due reminders and open the due maintenance tasks, in one transaction."""
    now = now or utcnow()
    with unit_of_work():
        reminders = send_reminders(now)
        opened = maintenance.open_due(local_day(now))
    return DueReport(reminders, opened)
