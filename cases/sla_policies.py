"""SLA policies: per priority x customer tier, the business-time targets of a case.

Versions are immutable; the newest stored version is active, and without any stored version
the built-in policy (version 0) applies. A case copies its targets when it opens (see
cases/sla.py), so publishing a new version never moves a running case's deadlines unless
someone re-applies the policy to that case.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from . import calendars
from .business_time import is_working
from .db import db
from .models import SlaPolicyVersion

KINDS = ("first_response", "next_update", "resolution")
ANY = "*"


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

    def rule_for(self, priority: str | None, tier: str | None) -> dict[str, Any] | None:
        """The most specific rule: exact priority and tier, then one wildcard, then both."""
        best, best_score = None, -1
        for rule in self.rules:
            if rule.get("priority", ANY) not in (ANY, priority) or rule.get("tier", ANY) not in (ANY, tier):
                continue
            score = (rule.get("priority", ANY) != ANY) * 2 + (rule.get("tier", ANY) != ANY)
            if score > best_score:
                best, best_score = rule, score
        return best

    def targets_for(self, priority: str | None, tier: str | None, opened_at: datetime) -> list[TargetSpec]:
        """The targets of a case with this priority and tier that opened at ``opened_at``.

        When the policy names an office calendar and the case opened outside its working time,
        the rule's ``off_hours`` values replace the regular ones (slower promises at night)."""
        rule = self.rule_for(priority, tier)
        if rule is None:
            return []
        values = {kind: rule.get(kind) for kind in KINDS}
        off_hours = rule.get("off_hours") or {}
        if off_hours and self.office_calendar and not is_working(calendars.get(self.office_calendar), opened_at):
            values.update({kind: minutes for kind, minutes in off_hours.items() if kind in KINDS})
        calendar = rule.get("calendar") or self.calendar
        return [TargetSpec(kind, int(minutes), calendar) for kind, minutes in values.items() if minutes]


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
    ])


def from_row(row: SlaPolicyVersion) -> Policy:
    return Policy(version=row.id, calendar=row.calendar, rules=list(row.rules),
                  office_calendar=row.office_calendar, warning_percent=row.warning_percent,
                  manager_after_minutes=row.manager_after_minutes, comment=row.comment)


def active() -> Policy:
    row = db.session.scalar(select(SlaPolicyVersion).order_by(SlaPolicyVersion.id.desc()).limit(1))
    return BUILTIN if row is None else from_row(row)


def version(number: int) -> Policy | None:
    if number == 0:
        return BUILTIN
    row = db.session.get(SlaPolicyVersion, number)
    return None if row is None else from_row(row)
