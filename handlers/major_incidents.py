"""The major incident process's steps (processes/major_incident.bpmn): a rung of the incident's own
ladder that came due, and resolving the incident's linked cases with its solution. The incident
(cases/service/major_incidents.py) does both."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation

TARGETS = ("first_response", "resolution")


def _incident_id(incident_id: Any) -> int:
    if not isinstance(incident_id, int) or isinstance(incident_id, bool):
        raise HandlerError("bad_parameter", "the major incident steps need the process variable 'incident_id' "
                                            "(a number)")
    return incident_id


@operation("major_incident_escalate")
def major_incident_escalate(ctx: Services, incident_id: Any = None, target: Any = None,
                            rung: Any = None) -> dict[str, Any]:
    """The rung ``rung`` of the incident's ``target`` (first_response, resolution) came due: its
    people are told and it is recorded, once; ``escalated`` false when the target was met or the
    rung was reached already (or the policy's ladder has no such rung)."""
    if target not in TARGETS:
        raise HandlerError("bad_parameter", "major_incident_escalate: 'target' must be first_response or resolution")
    if not isinstance(rung, str) or not rung:
        raise HandlerError("bad_parameter", "major_incident_escalate: 'rung' names a rung of the ladder")
    return ctx.major_incident_escalate(_incident_id(incident_id), target, rung)


@operation("resolve_major_incident")
def resolve_major_incident(ctx: Services, incident_id: Any = None, solution: Any = None,
                           cause: Any = None) -> dict[str, Any]:
    """Resolve the incident with ``solution`` (and ``cause``) and every linked case at its resolve
    step, each reported (``results``)."""
    if not isinstance(solution, str) or not solution.strip():
        raise HandlerError("bad_parameter", "resolve_major_incident: 'solution' is required")
    if cause is not None and not isinstance(cause, str):
        raise HandlerError("bad_parameter", "resolve_major_incident: 'cause' is a text")
    return ctx.resolve_major_incident(_incident_id(incident_id), solution, cause)
