"""The service's processes started where a row has none, run by the scheduler's ``service-due`` job
(workers/scheduler.py) and by ``caseflow scheduler --once``.

Risk reviews, training sessions, major incidents, visits and maintenance schedules are processes
(processes/risk_review.bpmn, training_session.bpmn, major_incident.bpmn, service_visit.bpmn,
maintenance_schedule.bpmn, whose timers the scheduler fires like any other: the reminders, the review
dates, a major incident's ladder, the maintenance dates): this job only starts the process of rows that
have none yet (saved before the process was deployed): open risks (``risks.start_missing_reviews``),
planned future sessions (``training.start_missing_processes``), open incidents
(``major_incidents.start_missing_processes``), open visits whose window is ahead
(``visits.start_missing_processes``) and active maintenance schedules
(``maintenance.start_missing_processes``, which also renews a schedule's long-lived process). Each starts
once: a run that is late or repeated loses and doubles nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.core.models import utcnow
from cases.service import maintenance, major_incidents, risks, training, visits


@dataclass(frozen=True)
class DueReport:
    #: the training sessions whose process this run started
    trainings_started: list[int]
    #: the risks whose review process this run started
    reviews_started: list[int]
    #: the major incidents whose process this run started
    incident_processes_started: list[int]
    #: the visits and the maintenance schedules whose process this run started
    visits_started: list[int]
    schedules_started: list[int]


def run(now: datetime | None = None) -> DueReport:
    now = now or utcnow()
    return DueReport(training.start_missing_processes(now), risks.start_missing_reviews(),
                     major_incidents.start_missing_processes(), visits.start_missing_processes(),
                     maintenance.start_missing_processes())
