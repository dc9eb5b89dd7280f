"""The service's dated work that is not (yet) a process, run by the scheduler's ``service-due`` job
(workers/scheduler.py) and by ``caseflow scheduler --once``: training reminders before a session
(cases/service/training.py), each sent once (its row is marked), so a run that is late or repeated
loses and doubles nothing.

Risk reviews, visits and maintenance schedules are processes (processes/risk_review.bpmn,
service_visit.bpmn, maintenance_schedule.bpmn, whose timers the scheduler fires like any other): this
job only starts the process of rows that have none yet (saved before the process was deployed):
open risks (``risks.start_missing_reviews``), open visits whose window is ahead
(``visits.start_missing_processes``) and active maintenance schedules
(``maintenance.start_missing_processes``, which also renews a schedule's long-lived process)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.core.models import utcnow
from cases.service import maintenance, risks, training, visits


@dataclass(frozen=True)
class DueReport:
    reminded_sessions: list[int]
    #: the risks whose review process this run started
    reviews_started: list[int]
    #: the visits and the maintenance schedules whose process this run started
    visits_started: list[int]
    schedules_started: list[int]


def run(now: datetime | None = None) -> DueReport:
    now = now or utcnow()
    return DueReport(training.send_due_reminders(now), risks.start_missing_reviews(),
                     visits.start_missing_processes(), maintenance.start_missing_processes())
