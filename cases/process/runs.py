"""The one engine of the application, wired to the handler registry and the version table."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.db import db
from cases.core.errors import Conflict
from cases.core.models import Case, User, utcnow
from cases.outbox import hq, notifications
from cases.process import assignment
from cases.process.models import ProcessInstance, ProcessVersion
from cases.sla import business_time, calendars
from cases.sla import clock as sla
from engine.runtime import Engine, ProcessRun
from engine.serialization import SERIALIZER_VERSION
from handlers import REGISTRY

#: a working day of the default calendar (09:00-17:00), as the SLA policy counts "2 working days"
WORKING_DAY = timedelta(hours=8)


def _load_spec_json(content_hash: str) -> str:
    spec = db.session.scalar(select(ProcessVersion.spec_json).where(ProcessVersion.content_hash == content_hash))
    if spec is None:
        raise KeyError(f"no deployed version {content_hash}")
    return spec


@functools.cache
def get_engine() -> Engine:
    return Engine(REGISTRY, spec_loader=_load_spec_json)


@dataclass
class ServiceContext:
    """What service-task handlers may use: the case being run and a few domain operations."""

    case: Case
    actor: User | None

    def next_user(self, role: str) -> str | None:
        user = assignment.next_user(role)
        return user.username if user else None

    @property
    def case_id(self) -> int:
        return self.case.id

    def escalate(self, recipients: dict[str, str]) -> list[dict[str, Any]]:
        """Record the rungs of the SLA ladder that came due (see cases/sla.py)."""
        return sla.escalate_due(self.case, utcnow(), recipients)

    def dedicated_consultant(self, resolution_hours: float) -> str | None:
        """Give the case to its customer's dedicated consultant, if it has an active one (see
        cases/assignment.py); their user name, else None."""
        return assignment.assign_dedicated(self.case, self.actor, resolution_hours)

    def report_to_hq(self, category: str | None, priority: str | None, note: str | None = None) -> dict[str, Any]:
        """Record a bug report for HQ, posted to HQ_WEBHOOK_URL after the step (cases/hq.py)."""
        return hq.report(self.case, self.actor, category, priority, note)

    def record_fixed_version(self, version: Any, notes: Any) -> dict[str, Any]:
        return hq.record_fixed_version(self.case, self.actor, version, notes)

    def deadline_missed(self, step: str) -> dict[str, Any]:
        """A step drawn with a deadline is still open when it passed: a case event says so."""
        events.record(self.case, "deadline_missed", self.actor, step=step)
        return {"step": step, "at": utcnow().isoformat()}

    # Complaints, surveys and callbacks. The modules are imported when called: they open cases and
    # deliver messages, which runs the engine through this module.
    def business_deadline(self, working_days: int) -> str:
        """The instant ``working_days`` working days of the default calendar from now (ISO 8601)."""
        calendar = calendars.get(calendars.DEFAULT)
        return business_time.add(calendar, utcnow(), WORKING_DAY * working_days).isoformat()

    def send_survey(self, kind: str, milestone: int | None) -> dict[str, Any]:
        from cases.casework import surveys
        return surveys.send(self.case, self.actor, kind, milestone)

    def open_complaint(self, origin: str, reason: str | None) -> dict[str, Any]:
        from cases.casework import complaints
        complaint = complaints.open_linked(self.case, self.actor, origin, reason)
        return {"case_id": complaint.id, "number": complaint.number}

    def send_complaint_response(self, response: str, outcome: str | None) -> dict[str, Any]:
        """The signed-off response: the case's solution, in its public history, mailed to the contact."""
        self.case.solution = response
        events.record(self.case, "complaint_response", self.actor, public=True, response=response,
                      outcome=outcome)
        address = self.case.contact_email
        if address:
            subject, body = notifications.complaint_response_mail(self.case, response)
            notifications.enqueue("complaint_response", [address], subject, body, case=self.case)
        return {"mailed_to": address}

    def report_complaint_outcome(self, outcome: dict[str, Any]) -> dict[str, Any]:
        from cases.casework import complaints
        return complaints.report_outcome(self.case, self.actor, outcome)


def start_run(version: ProcessVersion, process_id: str, data: dict[str, Any], case: Case,
              actor: User | None) -> ProcessRun:
    return get_engine().start(version.content_hash, process_id, data, ServiceContext(case, actor))


def load_run(instance: ProcessInstance, case: Case, actor: User | None) -> ProcessRun:
    if instance.serializer_version != SERIALIZER_VERSION:
        # an engine upgrade changed the format: such instances need a tested migration first
        raise Conflict(f"instance {instance.id} was stored in engine format {instance.serializer_version}; "
                       f"this installation reads {SERIALIZER_VERSION}", code="engine_format")
    return get_engine().load(instance.version.content_hash, instance.process_id, instance.state,
                             ServiceContext(case, actor))
