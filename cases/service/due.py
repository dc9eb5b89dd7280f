"""The service's dated work, run by the scheduler's ``service-due`` job (workers/scheduler.py) and by
``caseflow scheduler --once``: training reminders before a session (cases/service/training.py), risk
reviews whose date has come (cases/service/risks.py), the reminders the day before confirmed visits
and the internal tasks maintenance schedules open on their dates (cases/service/visits_due.py). Each
is sent or opened once: its row is marked with the moment it was done (a visit's
``reminder_sent_at``, a schedule's ``next_due``), so a run that is late or repeated loses and doubles
nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.core.models import utcnow
from cases.service import risks, training, visits_due


@dataclass(frozen=True)
class DueReport:
    reminded_sessions: list[int]
    reviews_due: list[int]
    visit_reminders: int
    maintenance_tasks: int


def run(now: datetime | None = None) -> DueReport:
    now = now or utcnow()
    visits = visits_due.run(now)
    return DueReport(training.send_due_reminders(now), risks.open_due_reviews(now), visits.reminders,
                     visits.maintenance_tasks)
