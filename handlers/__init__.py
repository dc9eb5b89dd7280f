"""Service-task operations, registered by name; the engine calls them through the registry.

A handler is a plain function ``handler(ctx, **params)`` returning JSON-able data. ``ctx`` is
the service context the caller passes in (see ``cases.core.services.ServiceContext``): handlers never
import the database or Flask themselves. :class:`Services` is what the handlers ask of it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

REGISTRY: dict[str, Callable[..., Any]] = {}


class Services(Protocol):
    """The service context as the handlers use it: the application's operations they call.

    The application implements them (``@operation(...)`` in ``cases/``); this is their signature.
    """

    @property
    def case_id(self) -> int: ...

    def next_user(self, role: str) -> str | None: ...

    def dedicated_consultant(self, resolution_hours: float) -> str | None: ...

    def escalate(self, recipients: dict[str, str]) -> list[dict[str, Any]]: ...

    def deadline_missed(self, step: str) -> dict[str, Any]: ...

    def report_to_hq(self, category: str | None, priority: str | None,
                     note: str | None = None) -> dict[str, Any]: ...

    def record_fixed_version(self, version: Any, notes: Any) -> dict[str, Any]: ...

    def business_deadline(self, working_days: int) -> str: ...

    def send_survey(self, kind: str, milestone: int | None) -> dict[str, Any]: ...

    def open_complaint(self, origin: str, reason: str | None) -> dict[str, Any]: ...

    def send_complaint_response(self, response: str, outcome: str | None) -> dict[str, Any]: ...

    def report_complaint_outcome(self, outcome: dict[str, Any]) -> dict[str, Any]: ...

    def enrol_for_training(self, wanted: bool) -> dict[str, Any]: ...

    def risk_review_due(self, risk_id: int) -> dict[str, Any]: ...

    def apply_risk_review(self, risk_id: int, outcome: str, level: Any, note: Any,
                          next_review_on: Any) -> dict[str, Any]: ...

    def training_invitations(self, session_id: int, invite: bool) -> dict[str, Any]: ...

    def training_reminder(self, session_id: int) -> dict[str, Any]: ...

    def training_attendance_due(self, session_id: int) -> dict[str, Any]: ...

    def apply_training_attendance(self, session_id: int, entries: list[Any]) -> dict[str, Any]: ...

    def apply_training_follow_up(self, session_id: int, decisions: list[Any]) -> dict[str, Any]: ...

    def major_incident_escalate(self, incident_id: int, target: str, rung: str) -> dict[str, Any]: ...

    def resolve_major_incident(self, incident_id: int, solution: str, cause: str | None) -> dict[str, Any]: ...

    def visit_state(self, visit_id: int) -> dict[str, Any]: ...

    def visit_reminder(self, visit_id: int) -> dict[str, Any]: ...

    def write_repair_log(self, visit_id: int, arrived_at: Any, minutes: Any, parts: Any, result: Any,
                         notes: Any) -> dict[str, Any]: ...

    def maintenance_state(self, schedule_id: int) -> dict[str, Any]: ...

    def open_maintenance_task(self, schedule_id: int) -> dict[str, Any]: ...


def operation(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"operation {name!r} registered twice")
        REGISTRY[name] = fn
        return fn

    return register


from handlers import assignment, feedback, hq, major_incidents, risks, sla, training, visits  # noqa: F401  (register their operations)
