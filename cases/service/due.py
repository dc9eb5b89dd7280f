"""The service's dated work that is not (yet) a process, run by the scheduler's ``service-due`` job
(workers/scheduler.py) and by ``caseflow scheduler --once``: training reminders before a session
(cases/service/training.py), the reminders the day before confirmed visits and the internal tasks
maintenance schedules open on their dates (cases/service/visits_due.py). Each is sent or opened once:
its row is marked with the moment it was done (a visit's ``reminder_sent_at``, a schedule's
``next_due``), so a run that is late or repeated loses and doubles nothing.

Risk reviews are a process (processes/risk_review.bpmn, whose date timers the scheduler fires like any
other): this job only starts the review process of open risks that have none yet (raised before the
process was deployed), ``risks.start_missing_reviews``. Major incidents are a process too
(processes/major_incident.bpmn: its ladder is the process's timers); this job starts the process of
open incidents declared before it was deployed, ``major_incidents.start_missing_processes``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cases.core.models import utcnow
from cases.service import major_incidents, risks, training, visits_due


@dataclass(frozen=True)
class DueReport:
    reminded_sessions: list[int]
    #: the risks whose review process this run started
    reviews_started: list[int]
    visit_reminders: int
    maintenance_tasks: int
    #: the major incidents whose process this run started
    incident_processes_started: list[int]


def run(now: datetime | None = None) -> DueReport:
    now = now or utcnow()
    visits = visits_due.run(now)
    return DueReport(training.send_due_reminders(now), risks.start_missing_reviews(), visits.reminders,
                     visits.maintenance_tasks, major_incidents.start_missing_processes())
