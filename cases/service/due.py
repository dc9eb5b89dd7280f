"""The service's dated work, run by the scheduler's ``service_due`` job (workers/scheduler.py) and by
``caseflow run-once``: training reminders before a session (cases/service/training.py) and risk
reviews whose date has come (cases/service/risks.py). Each is sent or opened once: its row is locked
and read again in its own transaction, and marked with the moment it was done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.core.models import utcnow
from cases.service import risks, training


@dataclass(frozen=True)
class DueReport:
    reminded_sessions: list[int]
    reviews_due: list[int]


def run(now: datetime | None = None) -> DueReport:
    now = now or utcnow()
    return DueReport(training.send_due_reminders(now), risks.open_due_reviews(now))
