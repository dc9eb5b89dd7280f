"""Replaying one case's SLA promises under a world of rules, with the real business-time arithmetic.

A :class:`World` is what the rules would have been: an SLA policy (or none: every target keeps the
minutes and calendar stored on it — the control) and the calendars by name (the proposal's drafts
over the stored ones). :func:`replay` rebuilds each stored target's outcome from the facts only —
when it started, the pauses, when it was met (or ``now`` while it runs) — exactly as the clock
(cases/sla/clock.py) does: the elapsed business time of each running stretch between pauses,
counted in whole seconds as the clock banks it, breached when it exceeds the target plus its
extensions (a running target: when its due time has come).

What is not replayed, and why (each is counted in the result's limits): a promise the stored policy
did not make (a proposal adding a next-update promise to a case that had none cannot know when staff
would have answered it); a cancelled target (superseded or stopped: it never had an outcome).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cases.sla import business_time
from cases.sla.business_time import BusinessCalendar
from cases.sla.clock import CANCELLED, MET, PAUSED, RUNNING
from cases.sla.policies import Policy
from cases.sla.policy_input import KINDS
from cases.whatif.history import CaseFacts, PauseFacts, TargetFacts

LEVELS = ("warning", "breach", "manager")


@dataclass(frozen=True)
class World:
    calendars: Mapping[str, BusinessCalendar]
    policy: Policy | None = None  # None: the stored targets as they are (the control)

    def calendar(self, name: str) -> BusinessCalendar:
        return self.calendars[name]


@dataclass(frozen=True)
class Outcome:
    """One target under one world."""

    kind: str
    cycle: int
    state: str  # met | running | paused | cancelled | not_replayed
    calendar: str
    minutes: int  # the target plus its extensions
    elapsed_seconds: int
    breached: bool
    rungs: tuple[str, ...]  # the ladder's rungs the clock reached: warning, breach, manager

    @property
    def decided(self) -> bool:
        """Met (in time or late) or already breached: the KPIs count it."""
        return self.state == MET or (self.state in (RUNNING, PAUSED) and self.breached)

    @property
    def in_time(self) -> bool:
        return self.state == MET and not self.breached


def _spec(world: World, case: CaseFacts, target: TargetFacts) -> tuple[int, str, int, int] | None:
    """(minutes, calendar, warning percent, manager minutes) of a stored target in the world."""
    if world.policy is None:
        return (target.target_minutes, target.calendar, target.warning_percent, target.manager_after_minutes)
    policy = world.policy
    rule = policy.rule_for(case.priority, case.tier, case.kind, case.category, case.channel)
    if rule is None:
        return None
    values = {kind: rule.get(kind) for kind in KINDS}
    off_hours = rule.get("off_hours") or {}
    if off_hours and policy.office_calendar and \
            not business_time.is_working(world.calendar(policy.office_calendar), case.created_at):
        values.update({k: m for k, m in off_hours.items() if k in KINDS})
    minutes = values.get(target.kind)
    if not minutes:
        return None
    return (int(minutes), rule.get("calendar") or policy.calendar, policy.warning_percent,
            policy.manager_after_minutes)


def stretches(start: datetime, end: datetime, pauses: list[PauseFacts]) -> list[tuple[datetime, datetime]]:
    """The running stretches of a clock from ``start`` to ``end``: the time between the pauses."""
    result, cursor = [], start
    for pause in pauses:
        p_start, p_end = max(pause.started_at, start), min(pause.ended_at or end, end)
        if p_end <= p_start or p_end <= cursor:
            continue
        if p_start > cursor:
            result.append((cursor, p_start))
        cursor = max(cursor, p_end)
    if end > cursor:
        result.append((cursor, end))
    return result


def elapsed_seconds(calendar: BusinessCalendar, start: datetime, end: datetime, pauses: list[PauseFacts]) -> int:
    """Business seconds outside the pauses, banked per stretch in whole seconds as the clock folds them."""
    return sum(int(business_time.between(calendar, s, e).total_seconds()) for s, e in stretches(start, end, pauses))


def _end(target: TargetFacts, now: datetime) -> datetime:
    return target.met_at if target.state == MET and target.met_at is not None else now


def outcome(world: World, case: CaseFacts, target: TargetFacts, now: datetime) -> Outcome:
    if target.state == CANCELLED:
        return Outcome(target.kind, target.cycle, CANCELLED, target.calendar, target.target_minutes, 0, False, ())
    spec = _spec(world, case, target)
    if spec is None:
        return Outcome(target.kind, target.cycle, "not_replayed", target.calendar, 0, 0, False, ())
    minutes, calendar_name, warning_percent, manager_minutes = spec
    minutes += target.extended_minutes
    calendar = world.calendar(calendar_name)
    spent = elapsed_seconds(calendar, target.started_at, _end(target, now), case.pauses)
    total = minutes * 60
    breached = spent >= total if target.state == RUNNING else spent > total
    rungs: list[str] = []
    if spent >= math.ceil(total * warning_percent / 100):
        rungs.append("warning")
    if breached:
        rungs.append("breach")
        if spent >= total + manager_minutes * 60:
            rungs.append("manager")
    return Outcome(target.kind, target.cycle, target.state, calendar_name, minutes, spent, breached, tuple(rungs))


def replay(world: World, case: CaseFacts, now: datetime) -> list[Outcome]:
    return [outcome(world, case, target, now) for target in case.targets]


def stored(case: CaseFacts, now: datetime) -> list[Outcome]:
    """What the database says happened, read as the KPI report reads it (no arithmetic)."""
    result = []
    for t in case.targets:
        breached = t.breached_at is not None or (t.state == RUNNING and t.due_at is not None and t.due_at <= now)
        levels = tuple(level for level in LEVELS if (t.id, level) in case.escalations)
        result.append(Outcome(t.kind, t.cycle, t.state, t.calendar, t.target_minutes + t.extended_minutes,
                              t.elapsed_seconds, breached if t.state != CANCELLED else False, levels))
    return result


def business_minutes(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    return business_time.between(calendar, start, end) / timedelta(minutes=1)
