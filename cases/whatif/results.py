"""Adding replayed outcomes up: the figures of what happened, of the control and of the proposal.

Every figure is a :class:`Tally` (counts and sums, additive), kept in total and per group (tier at
opening, priority, category, the owner's team, the owner) for three columns: ``actual`` (the stored
outcomes, read as the KPI report reads them), ``control`` (the replay with no change) and
``proposal``. The shares are those of the KPI report: first response and resolution within the
SLA, of the targets whose outcome is known.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cases.sla import calendars
from cases.whatif.history import CaseFacts
from cases.whatif.replay import LEVELS, Outcome

COLUMNS = ("actual", "control", "proposal")
GROUPINGS = ("tier", "priority", "category", "team", "agent")
MAX_CHANGED = 500  # cases listed with their changed outcome (all are counted)
MAX_MISMATCHES = 50
TIMEZONE = ZoneInfo(calendars.DEFAULT_TIMEZONE)


@dataclass
class Tally:
    cases: int = 0
    first_in_time: int = 0
    first_decided: int = 0
    first_seconds: int = 0  # business seconds of the first responses met
    first_met: int = 0
    resolution_in_time: int = 0
    resolution_decided: int = 0
    breaches: int = 0  # targets breached (any kind, any cycle)
    rungs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))

    def count(self, outcomes: list[Outcome]) -> None:
        self.cases += 1
        for o in outcomes:
            if o.kind == "first_response" and o.cycle == 1:
                self.first_in_time += o.in_time
                self.first_decided += o.decided
                if o.state == "met":
                    self.first_met += 1
                    self.first_seconds += o.elapsed_seconds
            elif o.kind == "resolution" and o.cycle == 1:
                self.resolution_in_time += o.in_time
                self.resolution_decided += o.decided
            self.breaches += o.breached
            for level in o.rungs:
                self.rungs[level] += 1

    def figures(self) -> dict[str, Any]:
        def share(n: int, d: int) -> dict[str, Any]:
            return {"numerator": n, "denominator": d, "value": round(n / d, 4) if d else None}
        return {"cases": self.cases,
                "first_response_within_sla": share(self.first_in_time, self.first_decided),
                "resolution_within_sla": share(self.resolution_in_time, self.resolution_decided),
                "first_response_average_seconds": round(self.first_seconds / self.first_met, 1)
                if self.first_met else None,
                "breaches": self.breaches, "rungs": dict(self.rungs)}


def _key(outcome: Outcome) -> tuple[str, bool, bool]:
    return (outcome.state, outcome.breached, outcome.decided)


def verdict(outcome: Outcome) -> str:
    if outcome.state in ("cancelled", "not_replayed"):
        return outcome.state
    if outcome.breached:
        return "breached"
    return "in_time" if outcome.state == "met" else outcome.state


@dataclass
class Accumulator:
    """The running sums of a replay, fed one case at a time."""

    totals: dict[str, Tally] = field(default_factory=lambda: {c: Tally() for c in COLUMNS})
    groups: dict[str, dict[str | None, dict[str, Tally]]] = field(
        default_factory=lambda: {g: defaultdict(lambda: {c: Tally() for c in COLUMNS}) for g in GROUPINGS})
    changed: list[dict[str, Any]] = field(default_factory=list)
    changed_cases: int = 0
    changed_targets: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    mismatched_cases: int = 0
    limits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tier_sources: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, case: CaseFacts, actual: list[Outcome], control: list[Outcome], proposal: list[Outcome]) -> None:
        columns = {"actual": actual, "control": control, "proposal": proposal}
        keys = {"tier": case.tier, "priority": case.priority, "category": case.category, "team": case.team,
                "agent": case.owner}
        for column, outcomes in columns.items():
            self.totals[column].count(outcomes)
            for grouping, key in keys.items():
                self.groups[grouping][key][column].count(outcomes)
        self.tier_sources[case.tier_source] += 1
        if not case.targets:
            self.limits["no_targets"] += 1
        for o in proposal:
            if o.state == "not_replayed":
                self.limits["promise_not_made"] += 1
        off = [(a, c) for a, c in zip(actual, control, strict=True)
               if _key(a) != _key(c) or (a.state == "met" and a.elapsed_seconds != c.elapsed_seconds)]
        if off:
            self.mismatched_cases += 1
            if len(self.mismatches) < MAX_MISMATCHES:
                self.mismatches.append({"case": case.number, "targets": [
                    {"kind": a.kind, "cycle": a.cycle, "stored": verdict(a), "replayed": verdict(c),
                     "stored_elapsed_seconds": a.elapsed_seconds, "replayed_elapsed_seconds": c.elapsed_seconds}
                    for a, c in off]})
        diff = [(c, p) for c, p in zip(control, proposal, strict=True) if verdict(c) != verdict(p)]
        if diff:
            self.changed_cases += 1
            self.changed_targets += len(diff)
            if len(self.changed) < MAX_CHANGED:
                self.changed.append({
                    "case": case.number, "opened_at": case.created_at.isoformat(), "tier": case.tier,
                    "priority": case.priority, "category": case.category, "agent": case.owner,
                    "targets": [{"kind": c.kind, "cycle": c.cycle, "before": verdict(c), "after": verdict(p),
                                 "before_minutes": c.minutes, "after_minutes": p.minutes,
                                 "before_elapsed_minutes": round(c.elapsed_seconds / 60, 1),
                                 "after_elapsed_minutes": round(p.elapsed_seconds / 60, 1),
                                 "before_calendar": c.calendar, "after_calendar": p.calendar} for c, p in diff]})

    def groups_out(self) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for grouping, by_key in self.groups.items():
            keys = sorted(by_key, key=lambda k: (k is None, k or ""))
            out[grouping] = [{"key": key, **{c: by_key[key][c].figures() for c in COLUMNS}} for key in keys]
        return out


def load(tasks: list[tuple[str | None, datetime]]) -> dict[str, Any]:
    """Tasks received per role: per local day and per hour of the day (Asia/Shanghai)."""
    by_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_hour: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for lane, at in tasks:
        role, local = lane or "none", at.astimezone(TIMEZONE)
        by_day[role][local.date().isoformat()] += 1
        by_hour[role][local.hour] += 1
    return {"by_day": {r: dict(sorted(d.items())) for r, d in sorted(by_day.items())},
            "by_hour": dict(sorted(by_hour.items()))}
