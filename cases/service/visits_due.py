"""The reminder the day before a confirmed visit, a step of the visit's process
(processes/service_visit.bpmn, operation ``visit_reminder``): its timer waits for :func:`reminder_due`,
10:00 (local) the day before the window starts, and the step mails the customer (the case's reporter
and contact address) and the technician, once (``reminder_sent_at``), and puts a public event on the
case. A window that has already begun when the step runs (a scheduler down for long) is not reminded
of. The scheduler fires the timer like any other; a run that is late or repeated loses and doubles
nothing."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.db import db
from cases.core.models import User, utcnow
from cases.core.services import ServiceContext, operation
from cases.outbox import notifications
from cases.service.common import local_day, zone
from cases.service.visit_models import Visit
from engine.errors import HandlerError

#: the reminder goes at this local time on the day before the visit (or at once if booked later)
REMINDER_TIME = time(10, 0)


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


def send_reminder(visit: Visit, now: datetime) -> bool:
    """Remind of a confirmed visit not yet reminded whose window is still ahead; whether it went."""
    if visit.status != "confirmed" or visit.reminder_sent_at is not None or visit.window_start <= now:
        return False
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
    return True


@operation("visit_reminder")
def reminder_step(ctx: ServiceContext, visit_id: int) -> dict[str, Any]:
    """The process's step at the reminder moment: ``sent`` (False: reminded already, no longer
    confirmed, or the window has begun)."""
    visit: Visit | None = db.session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update(of=Visit))
    if visit is None or visit.process_case_id not in (None, ctx.case_id):
        raise HandlerError("bad_parameter", f"visit {visit_id} is not run by this case")
    return {"sent": send_reminder(visit, utcnow())}
