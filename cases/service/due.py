"""The service's dated work that is not (yet) a process, run by the scheduler's ``service-due`` job
(workers/scheduler.py) and by ``caseflow scheduler --once``: the reminders the day before confirmed
visits and the internal tasks maintenance schedules open on their dates (cases/service/visits_due.py).
Each is sent or opened once: its row is marked with the moment it was done (a visit's
``reminder_sent_at``, a schedule's ``next_due``), so a run that is late or repeated loses and doubles
nothing.

Risk reviews, training sessions and major incidents are processes (processes/risk_review.bpmn,
processes/training_session.bpmn, processes/major_incident.bpmn, whose date timers the scheduler fires
like any other: a major incident's ladder is its process's timers): this job only starts the process of
open risks, of planned future sessions and of open incidents that have none yet (entered before the
process was deployed), ``risks.start_missing_reviews``, ``training.start_missing_processes`` and
``major_incidents.start_missing_processes``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.core.models import utcnow
from cases.service import major_incidents, risks, training, visits_due


@dataclass(frozen=True)
class DueReport:
    #: the training sessions whose process this run started
    trainings_started: list[int]
    #: the risks whose review process this run started
    reviews_started: list[int]
    visit_reminders: int
    maintenance_tasks: int
    #: the major incidents whose process this run started
    incident_processes_started: list[int]


def run(now: datetime | None = None) -> DueReport:
    now = now or utcnow()
    visits = visits_due.run(now)
    return DueReport(training.start_missing_processes(now), risks.start_missing_reviews(), visits.reminders,
                     visits.maintenance_tasks, major_incidents.start_missing_processes())
