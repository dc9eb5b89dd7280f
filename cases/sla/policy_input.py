"""An SLA policy as an administrator publishes it, checked field by field.

``check(fields)`` answers the column values of a new version (rules normalised: every key
present, ``*`` for a wildcard) or raises ValidationFailed listing every problem at once, with
fields named as the request spells them (``rules.2.off_hours.resolution``). Besides each
value, the rules as a whole must give every case targets: every priority x tier, and a case
not classified yet (no priority: only ``*`` rules match), must meet a rule, and no two rules
may be for the same priority and tier.
"""
from __future__ import annotations

from typing import Any

from cases.core.errors import ValidationFailed
from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES, TIERS, CaseKind
from cases.sla import calendars
from cases.sla import ladder as sla_ladder

ANY = "*"
#: a major incident is no case kind of its own, but its targets come from rules for it (cases/service/)
MAJOR_INCIDENT = "major_incident"
CASE_KINDS = (CaseKind.SUPPORT.value, CaseKind.COMPLAINT.value, MAJOR_INCIDENT)
KINDS = ("first_response", "next_update", "resolution")
REQUIRED_KINDS = ("first_response", "resolution")
FIELDS = ("calendar", "office_calendar", "warning_percent", "manager_after_minutes", "comment", "rules", "ladder")
RULE_FIELDS = ("priority", "tier", "case_kind", "category", "channel", "calendar", *KINDS, "off_hours")
#: The keys a rule may narrow besides priority and tier; kept in a rule only when they narrow it.
NARROWING = (("case_kind", CASE_KINDS), ("category", CATEGORIES), ("channel", CHANNELS))
MAX_MINUTES = 365 * 24 * 60
MAX_RULES = 200
DEFAULTS = {"office_calendar": None, "warning_percent": 75, "manager_after_minutes": 120, "comment": None,
            "ladder": None}
UNCLASSIFIED = "unclassified"  # how the coverage message names a case without a priority


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, field: str | None, message: str) -> None:
        self.items.append({"field": field, "message": message})


def _whole(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _calendar(value: Any, field: str, problems: _Problems, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not calendars.exists(value):
        problems.add(field, f"{value!r} is neither a built-in nor a stored calendar")


def _minutes(value: Any, field: str, problems: _Problems) -> None:
    if not _whole(value, 1, MAX_MINUTES):
        problems.add(field, f"a whole number of minutes from 1 to {MAX_MINUTES} (365 days)")


def _one_of(value: Any, allowed: tuple[str, ...], field: str, problems: _Problems) -> None:
    if value not in (ANY, *allowed):
        problems.add(field, f"{value!r} is not one of: {', '.join((ANY, *allowed))}")


def _rule(rule: Any, where: str, office_calendar: Any, problems: _Problems) -> dict[str, Any] | None:
    if not isinstance(rule, dict):
        problems.add(where, "a rule is an object {priority, tier, first_response, resolution, ...}")
        return None
    for name in sorted(set(rule) - set(RULE_FIELDS)):
        problems.add(f"{where}.{name}", "unknown field")
    out = {"priority": rule.get("priority", ANY), "tier": rule.get("tier", ANY),
           "calendar": rule.get("calendar")}
    _one_of(out["priority"], PRIORITIES, f"{where}.priority", problems)
    _one_of(out["tier"], TIERS, f"{where}.tier", problems)
    for key, allowed in NARROWING:
        if rule.get(key, ANY) != ANY:  # kept only when it narrows the rule
            out[key] = rule[key]
            _one_of(out[key], allowed, f"{where}.{key}", problems)
    _calendar(out["calendar"], f"{where}.calendar", problems, optional=True)
    for kind in KINDS:
        out[kind] = rule.get(kind)
        if out[kind] is None and kind not in REQUIRED_KINDS:
            continue
        _minutes(out[kind], f"{where}.{kind}", problems)
    off_hours = rule.get("off_hours") or None
    if off_hours is not None and not isinstance(off_hours, dict):
        problems.add(f"{where}.off_hours", "an object {kind: minutes} for cases opened outside office hours")
    elif off_hours is not None:
        for kind, minutes in off_hours.items():
            if kind not in KINDS:
                problems.add(f"{where}.off_hours.{kind}", f"not one of: {', '.join(KINDS)}")
            else:
                _minutes(minutes, f"{where}.off_hours.{kind}", problems)
        if office_calendar is None:
            problems.add(f"{where}.off_hours", "needs the policy's office_calendar: its working time decides "
                                               "what is outside office hours")
    out["off_hours"] = off_hours
    return out


def _whole_policy(rules: list[dict], problems: _Problems) -> None:
    seen: dict[tuple[str, ...], int] = {}
    for i, rule in enumerate(rules):
        key = (rule["priority"], rule["tier"], *(rule.get(name, ANY) for name, _ in NARROWING))
        if key in seen:
            more = "".join(f" and {name.replace('_', ' ')} {value}"
                           for (name, _), value in zip(NARROWING, key[2:], strict=False) if value != ANY)
            problems.add(f"rules.{i}", f"a second rule for priority {key[0]} and tier {key[1]}{more} "
                                       f"(the first is rules.{seen[key]})")
        seen.setdefault(key, i)
    # a rule for one category or channel covers nobody else: the coverage counts the general ones
    support = [r for r in rules if r.get("case_kind", ANY) in (ANY, CaseKind.SUPPORT.value)
               and r.get("category", ANY) == ANY and r.get("channel", ANY) == ANY]
    uncovered = [f"{priority or UNCLASSIFIED}/{tier}" for priority in (*PRIORITIES, None) for tier in TIERS
                 if not any(r["priority"] in (ANY, priority) and r["tier"] in (ANY, tier) for r in support)]
    if uncovered:
        problems.add("rules", f"no rule covers priority/tier: {', '.join(uncovered)} (add rules, or a rule "
                              f"with priority '*' and tier '*')")


def check(fields: dict[str, Any]) -> dict[str, Any]:
    """The new version's column values, or ValidationFailed naming every problem."""
    problems = _Problems()
    for name in sorted(set(fields) - set(FIELDS)):
        problems.add(name, "unknown field")
    values = {**DEFAULTS, **{k: v for k, v in fields.items() if k in FIELDS}}
    if "calendar" not in fields:
        problems.add("calendar", "required: the calendar of rules that name none")
    else:
        _calendar(values["calendar"], "calendar", problems, optional=False)
    _calendar(values["office_calendar"], "office_calendar", problems, optional=True)
    if not _whole(values["warning_percent"], 1, 99):
        problems.add("warning_percent", "a whole number from 1 to 99")
    if not _whole(values["manager_after_minutes"], 1, MAX_MINUTES):
        problems.add("manager_after_minutes", f"a whole number of minutes from 1 to {MAX_MINUTES}")
    ladder_problems: list[dict] = []
    values["ladder"] = sla_ladder.check(values["ladder"], ladder_problems)
    problems.items.extend(ladder_problems)
    comment = values["comment"]
    if comment is not None and (not isinstance(comment, str) or len(comment) > 500):
        problems.add("comment", "text of at most 500 characters")
    rules = values.get("rules")
    if not isinstance(rules, list) or not rules or len(rules) > MAX_RULES:
        problems.add("rules", f"a list of 1 to {MAX_RULES} rules")
        rules = []
    checked = [_rule(rule, f"rules.{i}", values["office_calendar"], problems) for i, rule in enumerate(rules)]
    values["rules"] = [rule for rule in checked if rule is not None]
    if rules and len(values["rules"]) == len(rules) and all(
            r["priority"] in (ANY, *PRIORITIES) and r["tier"] in (ANY, *TIERS) for r in values["rules"]):
        _whole_policy(values["rules"], problems)
    if problems.items:
        raise ValidationFailed("the SLA policy is not valid", problems.items)
    return values
