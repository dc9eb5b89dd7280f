"""SLA policies: per priority x customer tier, the business-time targets of a case.

Versions are immutable; the newest stored version is active, and without any stored version
the built-in policy (version 0) applies. A case copies its targets when it opens (see
cases/sla/clock.py), so publishing a new version never moves a running case's deadlines unless
someone re-applies the policy to that case.

Administration: ``publish`` (admins; checked by cases/sla/policy_input.py, audited),
``list_versions``, ``read_version``, ``read_active`` and ``explain`` (which rule a case with a
given priority, tier and opening instant meets, and its targets) for staff.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, ValidationFailed
from cases.core.models import STAFF_ROLES, Role, User, utcnow
from cases.sla import calendars
from cases.sla import policy_input as sla_policy_input
from cases.sla.business_time import add, is_working
from cases.sla.models import SlaPolicyVersion, SlaTarget
from cases.sla.policy_input import ANY, KINDS


@dataclass(frozen=True)
class TargetSpec:
    kind: str
    minutes: int
    calendar: str


@dataclass(frozen=True)
class Policy:
    version: int
    calendar: str
    rules: list[dict[str, Any]]
    office_calendar: str | None = None
    warning_percent: int = 75
    manager_after_minutes: int = 120
    comment: str | None = field(default=None, compare=False)
    ladder: list[dict[str, Any]] | None = None  # None: warning, breach, manager (cases/sla/ladder.py)

    def matching(self, priority: str | None, tier: str | None, case_kind: str = "support",
                 category: str | None = None, channel: str | None = None) -> list[tuple[int, dict[str, Any]]]:
        """The rules a case meets, the most specific first (see ``specificity``)."""
        facts = {"priority": priority, "tier": tier, "case_kind": case_kind, "category": category,
                 "channel": channel}
        found = [(i, rule) for i, rule in enumerate(self.rules)
                 if all(rule.get(key, ANY) in (ANY, value) for key, value in facts.items())]
        return sorted(found, key=lambda item: (specificity(item[1]), -item[0]), reverse=True)

    def rule_for(self, priority: str | None, tier: str | None, case_kind: str = "support",
                 category: str | None = None, channel: str | None = None) -> dict[str, Any] | None:
        """The most specific rule the case meets (None: none)."""
        found = self.matching(priority, tier, case_kind, category, channel)
        return found[0][1] if found else None

    def targets_for(self, priority: str | None, tier: str | None, opened_at: datetime,
                    case_kind: str = "support", category: str | None = None,
                    channel: str | None = None) -> list[TargetSpec]:
        """The targets of a case of ``case_kind`` with this priority and tier that opened at ``opened_at``.

        When the policy names an office calendar and the case opened outside its working time,
        the rule's ``off_hours`` values replace the regular ones (slower promises at night)."""
        rule = self.rule_for(priority, tier, case_kind, category, channel)
        if rule is None:
            return []
        values = {kind: rule.get(kind) for kind in KINDS}
        off_hours = rule.get("off_hours") or {}
        if off_hours and self.office_calendar and not is_working(calendars.get(self.office_calendar), opened_at):
            values.update({kind: minutes for kind, minutes in off_hours.items() if kind in KINDS})
        calendar = rule.get("calendar") or self.calendar
        return [TargetSpec(kind, int(minutes), calendar) for kind, minutes in values.items() if minutes]


#: What makes a rule specific, in order of weight: a rule for the case's kind (a complaint's own
#: promises) first; then the rule that narrows more of the case's facts; among equals, the one
#: naming the category, then the channel, then the tier (a contract's promises), then the priority.
SPECIFIC_KEYS = ("category", "channel", "tier", "priority")


def specificity(rule: dict[str, Any]) -> tuple:
    narrowed = [rule.get(key, ANY) != ANY for key in SPECIFIC_KEYS]
    return (rule.get("case_kind", ANY) != ANY, sum(narrowed), *narrowed)


def why(rule: dict[str, Any], index: int, matched: int) -> str:
    """In words: which rule applied and why."""
    named = [f"{key.replace('_', ' ')} {rule[key]}" for key in ("case_kind", *SPECIFIC_KEYS)
             if rule.get(key, ANY) != ANY]
    what = ", ".join(named) if named else "any case (the catch-all)"
    others = f"; the most specific of {matched} matching rules" if matched > 1 else "; the only matching rule"
    return f"rule {index} applies: it is for {what}{others}"


def _rule(priority: str, tier: str, first: int, update: int, resolution: int, **extra: Any) -> dict[str, Any]:
    return {"priority": priority, "tier": tier, "first_response": first, "next_update": update,
            "resolution": resolution, **extra}


#: From DOMAIN.md "Time promises": VIP customers get 7x24 first responses within 15 minutes
#: (slower, within an hour, outside office hours); technical problems are answered within
#: 4 working hours and solved within 2 working days (960 minutes of a 09:00-17:00 calendar).
BUILTIN = Policy(
    version=0, calendar=calendars.DEFAULT, office_calendar=calendars.DEFAULT, comment="built-in",
    rules=[
        _rule("urgent", "vip", 15, 60, 480, calendar=calendars.ALWAYS_OPEN, off_hours={"first_response": 60}),
        _rule("high", "vip", 15, 120, 960, calendar=calendars.ALWAYS_OPEN, off_hours={"first_response": 60}),
        _rule(ANY, "vip", 30, 240, 960),
        _rule("urgent", ANY, 60, 120, 480),
        _rule("high", ANY, 120, 240, 960),
        _rule("medium", ANY, 240, 480, 960),
        _rule("low", ANY, 480, 960, 1920),
        _rule(ANY, ANY, 240, 480, 960),
        # complaints (complaint_handling.bpmn): acknowledged within 4 working hours, resolved -- the
        # response signed off and sent -- within 2 working days ("feedback answered within 2
        # working days", seed 004), whatever the tier
        _rule(ANY, ANY, 240, 480, 960, case_kind="complaint"),
        # a major incident (cases/service/major_incidents.py) keeps its own promises, around the clock:
        # the first update to the affected customers within 30 minutes, resolved within 8 hours
        _rule(ANY, ANY, 30, 120, 480, case_kind="major_incident", calendar=calendars.ALWAYS_OPEN),
    ])


def from_row(row: SlaPolicyVersion) -> Policy:
    return Policy(version=row.id, calendar=row.calendar, rules=list(row.rules),
                  office_calendar=row.office_calendar, warning_percent=row.warning_percent,
                  manager_after_minutes=row.manager_after_minutes, comment=row.comment, ladder=row.ladder)


def active() -> Policy:
    row = db.session.scalar(select(SlaPolicyVersion).order_by(SlaPolicyVersion.id.desc()).limit(1))
    return BUILTIN if row is None else from_row(row)


def version(number: int) -> Policy | None:
    if number == 0:
        return BUILTIN
    row = db.session.get(SlaPolicyVersion, number)
    return None if row is None else from_row(row)


# --- administration -------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionView:
    policy: Policy
    active: bool
    builtin: bool
    created_at: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class TargetView:
    kind: str
    minutes: int
    calendar: str
    off_hours: bool  # the rule's off-hours value applies
    due_at: datetime  # if the clock ran from the opening without a pause
    due_at_local: datetime


@dataclass(frozen=True)
class Explanation:
    version: int
    priority: str | None
    tier: str | None
    opened_at: datetime
    office_calendar: str | None
    office_hours: bool | None  # None: the policy has no office calendar
    rule_index: int | None
    rule: dict[str, Any] | None
    targets: list[TargetView]
    category: str | None = None
    channel: str | None = None
    case_kind: str = "support"
    matched: list[int] = field(default_factory=list)  # every rule the case meets, the most specific first
    why: str | None = None


def _require_staff(actor: User) -> None:
    require_role(actor, *sorted(STAFF_ROLES))


def _newest_id() -> int:
    return db.session.scalar(select(SlaPolicyVersion.id).order_by(SlaPolicyVersion.id.desc()).limit(1)) or 0


def _with_author():
    return (select(SlaPolicyVersion, User.username)
            .outerjoin(User, User.id == SlaPolicyVersion.created_by_id))


def _view(row: SlaPolicyVersion, author: str | None, newest: int) -> VersionView:
    return VersionView(from_row(row), row.id == newest, False, row.created_at, author)


def reach_problems(values: dict[str, Any], now: datetime) -> list[dict]:
    """Every target of the checked policy ``values`` must be reachable on its calendar within
    calendars.REACH_DAYS of now (a calendar of one working minute a week cannot hold a day's target)."""
    problems, available = [], {}
    for i, rule in enumerate(values["rules"]):
        name = rule.get("calendar") or values["calendar"]
        if name not in available:
            available[name] = calendars.reachable_minutes(calendars.get(name), now)
        minutes = {kind: rule[kind] for kind in KINDS if rule.get(kind)}
        minutes.update({f"off_hours.{kind}": value for kind, value in (rule.get("off_hours") or {}).items()})
        for kind, value in minutes.items():
            problems += calendars.reach_problems(available[name], [(f"{kind} on calendar {name!r}", int(value))],
                                                 field=f"rules.{i}.{kind}")
    return problems


@use_case
def publish(actor: User, fields: dict[str, Any]) -> VersionView:
    """A new version, active at once; cases already open keep their targets."""
    require_role(actor, Role.ADMIN.value)
    values = sla_policy_input.check(fields)
    if problems := reach_problems(values, utcnow()):
        raise ValidationFailed("a target cannot be reached on its calendar", problems)
    row = SlaPolicyVersion(**values, created_at=utcnow(), created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "sla_policy_published", row.id, calendar=row.calendar,
                 office_calendar=row.office_calendar, rules=len(row.rules), comment=row.comment)
    return VersionView(from_row(row), True, False, row.created_at, actor.username)


def list_versions(actor: User) -> list[VersionView]:
    """Every version, the newest (active) first, the built-in version 0 last."""
    _require_staff(actor)
    rows = db.session.execute(_with_author().order_by(SlaPolicyVersion.id.desc())).all()
    newest = rows[0][0].id if rows else 0
    return [_view(row, author, newest) for row, author in rows] + [VersionView(BUILTIN, not rows, True)]


def read_version(actor: User, number: int) -> VersionView:
    _require_staff(actor)
    newest = _newest_id()
    if number == 0:
        return VersionView(BUILTIN, newest == 0, True)
    found = db.session.execute(_with_author().where(SlaPolicyVersion.id == number)).first()
    if found is None:
        raise NotFound(f"SLA policy version {number} not found", resource="sla_policy_version", id=number)
    return _view(*found, newest)


def read_active(actor: User) -> VersionView:
    _require_staff(actor)
    return read_version(actor, _newest_id())


def explain(actor: User, priority: str | None, tier: str | None, opened_at: datetime,
            number: int | None = None, category: str | None = None, channel: str | None = None,
            case_kind: str = "support") -> Explanation:
    """Which rule of the active version (or of version ``number``) a case meets, why, and its targets."""
    if problems := calendars.instant_problems(opened_at=opened_at):
        raise ValidationFailed("the request is not valid", problems)
    policy = (read_active(actor) if number is None else read_version(actor, number)).policy
    matched = policy.matching(priority, tier, case_kind, category, channel)
    index, rule = matched[0] if matched else (None, None)
    office_hours = None
    if policy.office_calendar:
        office_hours = is_working(calendars.get(policy.office_calendar), opened_at)
    off_kinds = set((rule or {}).get("off_hours") or ()) if office_hours is False else set()
    targets = []
    for spec in policy.targets_for(priority, tier, opened_at, case_kind, category, channel):
        calendar = calendars.get(spec.calendar)
        due = add(calendar, opened_at, timedelta(minutes=spec.minutes))
        targets.append(TargetView(spec.kind, spec.minutes, spec.calendar, spec.kind in off_kinds, due,
                                  due.astimezone(calendar.tz)))
    reason = why(rule, index, len(matched)) if rule is not None else "no rule matches"
    if rule is not None:
        reason += f"; targets on calendar {rule.get('calendar') or policy.calendar!r}"
        if off_kinds:
            reason += f"; opened outside office hours: off_hours for {', '.join(sorted(off_kinds))}"
    return Explanation(policy.version, priority, tier, opened_at.astimezone(timezone.utc), policy.office_calendar,
                       office_hours, index, rule, targets, category, channel, case_kind,
                       [i for i, _ in matched], reason)


# --- a calendar in use: what the policy and the running clocks would lose ---------------------

def calendar_users(name: str) -> list[str]:
    """What would lose the calendar ``name``: the active SLA policy, running SLA clocks."""
    policy = active()
    found = []
    if name in (policy.calendar, policy.office_calendar):
        found.append(f"the active SLA policy (version {policy.version})")
    rules = [i for i, rule in enumerate(policy.rules) if rule.get("calendar") == name]
    if rules:
        found.append(f"rules {', '.join(map(str, rules))} of the active SLA policy (version {policy.version})")
    clocks = db.session.scalar(select(func.count()).select_from(SlaTarget).where(
        SlaTarget.calendar == name, SlaTarget.state.in_(("running", "paused"))))
    if clocks:
        found.append(f"{clocks} running SLA targets")
    return found


@use_case
def delete_calendar(actor: User, name: str, seen_version: int | None = None) -> None:
    """Delete a stored calendar. A stored override of a built-in one may always go (the built-in
    one applies again); another one not while the active SLA policy or a running clock uses it."""
    require_role(actor, Role.ADMIN.value)
    row = calendars.find(name)
    if row is None:
        if name in calendars.BUILTIN:
            raise Conflict(f"{name!r} is a built-in calendar; it cannot be deleted", code="builtin_calendar")
        raise NotFound(f"calendar {name!r} not found", resource="calendar", id=name)
    if seen_version is not None:
        calendars.check_seen(row.version, seen_version, name)
    if name not in calendars.BUILTIN and (users := calendar_users(name)):
        raise Conflict(f"calendar {name!r} is in use by {'; '.join(users)}", code="calendar_in_use")
    db.session.delete(row)
    audit.record(actor, "calendar_deleted", name, version=row.version)
