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


FIELDS = ("cases", "first_in_time", "first_decided", "first_seconds", "first_met", "resolution_in_time",
          "resolution_decided", "breaches", *(f"rung_{level}" for level in LEVELS))
_INDEX = {name: i for i, name in enumerate(FIELDS)}


def counts(outcomes: list[Outcome]) -> list[int]:
    """One case's additive numbers (FIELDS): counted once, then added to the total and each group."""
    c = [0] * len(FIELDS)
    c[0] = 1
    for o in outcomes:
        if o.cycle == 1 and o.kind == "first_response":
            c[1] += o.in_time
            c[2] += o.decided
            if o.state == "met":
                c[3] += o.elapsed_seconds
                c[4] += 1
        elif o.cycle == 1 and o.kind == "resolution":
            c[5] += o.in_time
            c[6] += o.decided
        c[7] += o.breached
        for level in o.rungs:
            c[_INDEX[f"rung_{level}"]] += 1
    return c


@dataclass
class Tally:
    """The sums of FIELDS over some cases: additive, so the totals are the sum of the groups."""

    values: list[int] = field(default_factory=lambda: [0] * len(FIELDS))

    def add(self, numbers: list[int]) -> None:
        self.values = [a + b for a, b in zip(self.values, numbers, strict=True)]

    @property
    def cases(self) -> int:
        return self.values[0]

    def figures(self) -> dict[str, Any]:
        v = dict(zip(FIELDS, self.values, strict=True))

        def share(n: int, d: int) -> dict[str, Any]:
            return {"numerator": n, "denominator": d, "value": round(n / d, 4) if d else None}
        return {"cases": v["cases"],
                "first_response_within_sla": share(v["first_in_time"], v["first_decided"]),
                "resolution_within_sla": share(v["resolution_in_time"], v["resolution_decided"]),
                "first_response_average_seconds": round(v["first_seconds"] / v["first_met"], 1)
                if v["first_met"] else None,
                "breaches": v["breaches"], "rungs": {level: v[f"rung_{level}"] for level in LEVELS}}


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
    # the sums per combination of group keys (tier, priority, category, team, agent): a case is added
    # once per column; the totals and the groups are folded from these when the replay is done
    by_keys: dict[tuple[str | None, ...], dict[str, Tally]] = field(default_factory=dict)

    def fold(self) -> None:
        """The totals and the groups from the sums per combination of keys (once, at the end)."""
        for keys, tallies in self.by_keys.items():
            for column, tally in tallies.items():
                self.totals[column].add(tally.values)
                for grouping, key in zip(GROUPINGS, keys, strict=True):
                    self.groups[grouping][key][column].add(tally.values)
        self.by_keys = {}

    def add(self, case: CaseFacts, actual: list[Outcome], control: list[Outcome], proposal: list[Outcome]) -> None:
        columns = {"actual": actual, "control": control, "proposal": proposal}
        keys = (case.tier, case.priority, case.category, case.team, case.owner)
        by_keys = self.by_keys.get(keys)
        if by_keys is None:
            by_keys = self.by_keys[keys] = {c: Tally() for c in COLUMNS}
        numbers: list[int] = []
        for column, outcomes in columns.items():
            if column != "proposal" or proposal is not control:  # an unchanged proposal: the control's
                numbers = counts(outcomes)
            by_keys[column].add(numbers)
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
