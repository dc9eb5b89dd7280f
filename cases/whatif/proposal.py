"""A proposal as a manager sends it, checked field by field, and the world of rules it makes.

``{"policy": {...} | {"version": n} | null, "calendars": {name: {...}}, "classification": {"dmn": "..."}}``:

* ``policy`` — a draft SLA policy in the format an administrator publishes (cases/sla/policy_input.py),
  or ``{"version": n}`` for a published version (0: the built-in one), or null: the targets each case
  was given stay (only the calendars change).
* ``calendars`` — drafts of existing calendars by name (cases/sla/calendar_input.py's fields): the
  replay counts business time on the draft instead of the stored calendar. A draft must replace a
  calendar that exists (built-in or stored); create a new calendar first.
* ``classification`` — a draft of the classification decision table (``classify_case``) as DMN text,
  checked like an upload: replayed over the cases' stored texts (cases/whatif/routing.py).
* ``assignment`` — strategies per step or lane, rosters, skills, dedicated consultants: who would have
  received each task of the period (cases/whatif/assignment.py); ``{}`` gives its control alone.

An empty proposal (``{}``) is the control itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases.core.errors import ValidationFailed
from cases.sla import calendar_input, calendars
from cases.sla import policies as sla_policies
from cases.sla import policy_input as sla_policy_input
from cases.sla.business_time import BusinessCalendar
from cases.sla.models import Calendar
from cases.whatif import assignment as assignments
from cases.whatif import routing
from cases.whatif.replay import World
from engine.decisions import Decision
from engine.isolation.sandbox import default_sandbox

FIELDS = ("policy", "calendars", "classification", "assignment")
MAX_CALENDARS = 20


@dataclass(frozen=True)
class Proposal:
    raw: dict[str, Any]  # as sent (normalised), saved with a replay
    policy: sla_policies.Policy | None
    calendars: dict[str, BusinessCalendar]
    classification: Decision | None = None
    assignment: assignments.AssignmentProposal | None = None

    @property
    def empty(self) -> bool:
        """Nothing changes the SLA replay (a classification draft is replayed beside it)."""
        return self.policy is None and not self.calendars

    def world(self, stored: dict[str, BusinessCalendar]) -> World:
        return World({**stored, **self.calendars}, self.policy)


def _prefixed(exc: ValidationFailed, prefix: str) -> list[dict[str, Any]]:
    return [{"field": f"{prefix}.{e['field']}" if e.get("field") else prefix, "message": e["message"]}
            for e in exc.errors]


def _policy(value: Any, problems: list[dict[str, Any]]) -> tuple[sla_policies.Policy | None, Any]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        problems.append({"field": "proposal.policy", "message": "an SLA policy object, {\"version\": n} or null"})
        return None, None
    if set(value) == {"version"}:
        number = value["version"]
        policy = sla_policies.version(number) if type(number) is int and number >= 0 else None
        if policy is None:
            problems.append({"field": "proposal.policy.version", "message": f"no SLA policy version {number!r}"})
        return policy, value
    try:
        values = sla_policy_input.check(value)
    except ValidationFailed as exc:
        problems.extend(_prefixed(exc, "proposal.policy"))
        return None, None
    policy = sla_policies.Policy(version=-1, calendar=values["calendar"], rules=values["rules"],
                                 office_calendar=values["office_calendar"],
                                 warning_percent=values["warning_percent"],
                                 manager_after_minutes=values["manager_after_minutes"], comment=values["comment"])
    return policy, values


def _calendar(name: str, value: Any, problems: list[dict[str, Any]]) -> tuple[BusinessCalendar | None, Any]:
    where = f"proposal.calendars.{name}"
    if not calendars.exists(name):
        problems.append({"field": where, "message": f"no calendar {name!r}: a draft replaces an existing "
                                                    "calendar (create the calendar first)"})
        return None, None
    if not isinstance(value, dict):
        problems.append({"field": where, "message": "a calendar object (timezone, hours, holidays ...)"})
        return None, None
    base = calendars.current_fields(name, calendars.find(name))  # a draft changes the calendar as it stands
    try:
        values = calendar_input.check({**base, **value})
        return calendars.to_business_calendar(Calendar(name=name, version=0, **values)), values
    except ValidationFailed as exc:
        problems.extend(_prefixed(exc, where))
    except ValueError as exc:
        problems.append({"field": where, "message": str(exc)})
    return None, None


def check(fields: Any) -> Proposal:
    """The proposal, or ValidationFailed naming every problem (fields as ``proposal.<path>``)."""
    if not isinstance(fields, dict):
        raise ValidationFailed("the proposal is not valid", [{"field": "proposal", "message": "an object"}])
    problems: list[dict[str, Any]] = [{"field": f"proposal.{name}", "message": "unknown field"} for name in sorted(set(fields) - set(FIELDS))]
    policy, policy_raw = _policy(fields.get("policy"), problems)
    drafts = fields.get("calendars") or {}
    found: dict[str, BusinessCalendar] = {}
    raw_calendars: dict[str, Any] = {}
    if not isinstance(drafts, dict) or len(drafts) > MAX_CALENDARS:
        problems.append({"field": "proposal.calendars", "message": f"an object of at most {MAX_CALENDARS} "
                                                                   "calendars by name"})
        drafts = {}
    for name, value in sorted(drafts.items()):
        calendar, raw = _calendar(str(name), value, problems)
        if calendar is not None:
            found[str(name)], raw_calendars[str(name)] = calendar, raw
    classification, classification_raw = routing.check(fields.get("classification"), problems, default_sandbox())
    assignment, assignment_raw = assignments.check(fields.get("assignment"), problems)
    if problems:
        raise ValidationFailed("the proposal is not valid", problems)
    raw_out: dict[str, Any] = {}
    if assignment_raw is not None:
        raw_out["assignment"] = assignment_raw
    if classification_raw is not None:
        raw_out["classification"] = classification_raw
    if policy_raw is not None:
        raw_out["policy"] = policy_raw
    if raw_calendars:
        raw_out["calendars"] = raw_calendars
    return Proposal(raw_out, policy, found, classification, assignment)
