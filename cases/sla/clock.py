"""The SLA clock of a case: its targets, pauses, breaches and escalation ladder.

When a case opens, the active SLA policy gives its targets for the case's priority and customer
tier (``first_response`` and ``resolution``; a ``next_update`` target starts each time the case
comes back from waiting on the customer). The targets are copied onto the case, so a new
policy version never moves them unless someone re-applies the policy.

The clock runs in business time on the target's calendar and stands still while the case
waits: on a message from the customer or a third party (stage ``waiting:...``) or on a task
marked ``slaClock="paused"`` in the diagram (the customer's confirmation). A task marked
``slaClock="stopped"`` (the callback) or the end of the process stops it: the resolution is met.
A staff member completing a task (or writing a public comment) is a response: it meets the
first response and the running next update.

Elapsed business time is always recomputable from the facts — the start, the pause intervals
and the end — which is what :func:`recompute` does when the priority changes or the policy is
re-applied ("from the case's start").

The escalation ladder is drawn in the diagram: an SLA-governed user task carries a
non-interrupting cycle timer on the variable ``sla_alarm`` that leads to the ``sla_escalate``
service task. This module computes when the next rung is due (warning at ``warning_percent``
of the target, breach at the due time, manager at ``manager_after_minutes`` of business time
after the breach) and sets that alarm after every step; the service task records each rung
that came due — at most once per target and level (a unique index) — as a case event, an
escalation row and e-mails.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.db import db, flush_for, prime_transaction_rows, transaction_rows
from cases.core.errors import Conflict
from cases.core.models import Case, Role, Task, TaskState, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.outbox import notifications
from cases.sla import business_time, calendars
from cases.sla import ladder as sla_ladder
from cases.sla import policies as sla_policies
from cases.sla.models import Calendar, Escalation, SlaPause, SlaTarget

ALARM_VARIABLE = "sla_alarm"
#: "no rung pending": a due time no clock reaches (timer rows at or after it are not stored)
NEVER = datetime(9000, 1, 1, tzinfo=timezone.utc)
CLOCK_PROPERTY = "slaClock"
PAUSED, STOPPED = "paused", "stopped"
RUNNING, MET, CANCELLED = "running", "met", "cancelled"
LEVELS = ("warning", "breach", "manager")


# -- reading the clock -------------------------------------------------------------------------
def targets_of(case: Case) -> list[SlaTarget]:
    """The case's targets (read once per transaction: a step asks several times). The rungs they
    already escalated and their stored calendars come in the same statement, kept as ``_escalated``
    and ``calendars.find`` read them."""
    def load() -> list[SlaTarget]:
        flush_for(Escalation, Calendar)  # read with the targets: none of theirs may wait unflushed
        rows = db.session.execute(select(SlaTarget, Escalation.level, Calendar)
                                  .outerjoin(Escalation, Escalation.target_id == SlaTarget.id)
                                  .outerjoin(Calendar, Calendar.name == SlaTarget.calendar)
                                  .where(SlaTarget.case_id == case.id)
                                  .order_by(SlaTarget.id, Escalation.id)).all()
        targets = list({target.id: target for target, _level, _calendar in rows}.values())
        if targets:
            prime_transaction_rows(Escalation, {frozenset(t.id for t in targets): [
                (target.id, level) for target, level, _calendar in rows if level is not None]})
            prime_transaction_rows(Calendar, {target.calendar: [calendar] if calendar is not None else []
                                              for target, _level, calendar in rows})
        return targets

    return transaction_rows(SlaTarget, case.id, load)


def pauses_of(case: Case) -> list[SlaPause]:
    return transaction_rows(SlaPause, case.id, lambda: db.session.scalars(
        select(SlaPause).where(SlaPause.case_id == case.id).order_by(SlaPause.started_at, SlaPause.id)))


def read_ahead(case_ids: list[int]) -> None:
    """The targets, pauses and escalations of many cases in three statements, kept for the rest of
    the transaction as ``targets_of``, ``pauses_of`` and ``next_alarm`` would read them one case at
    a time (the timer batch steps many cases in one transaction: cases/process/timers.py)."""
    if not case_ids:
        return
    targets: dict[int, list[SlaTarget]] = {case_id: [] for case_id in case_ids}
    for target in db.session.scalars(select(SlaTarget).where(SlaTarget.case_id.in_(case_ids))
                                     .order_by(SlaTarget.id)):
        targets[target.case_id].append(target)
    pauses: dict[int, list[SlaPause]] = {case_id: [] for case_id in case_ids}
    for pause in db.session.scalars(select(SlaPause).where(SlaPause.case_id.in_(case_ids))
                                    .order_by(SlaPause.started_at, SlaPause.id)):
        pauses[pause.case_id].append(pause)
    of_target = {target.id: case_id for case_id, rows in targets.items() for target in rows}
    done: dict[int, list[Any]] = {case_id: [] for case_id in case_ids}
    if of_target:
        for row in db.session.execute(select(Escalation.target_id, Escalation.level)
                                      .where(Escalation.target_id.in_(of_target))).all():
            done[of_target[row.target_id]].append(row)
    prime_transaction_rows(SlaTarget, targets)
    prime_transaction_rows(SlaPause, pauses)
    prime_transaction_rows(Escalation, {frozenset(t.id for t in rows): done[case_id]
                                        for case_id, rows in targets.items() if rows})


def _calendar(target: SlaTarget) -> business_time.BusinessCalendar:
    return calendars.get(target.calendar)


def total_seconds(target: SlaTarget) -> int:
    return (target.target_minutes + target.extended_minutes) * 60


def elapsed(target: SlaTarget, now: datetime) -> timedelta:
    """Business time the target has run so far (paused intervals excluded)."""
    spent = timedelta(seconds=target.elapsed_seconds)
    if target.state == RUNNING and target.running_since is not None:
        spent += business_time.between(_calendar(target), target.running_since, now)
    return spent


def is_breached(target: SlaTarget, now: datetime) -> bool:
    return target.breached_at is not None or elapsed(target, now).total_seconds() > total_seconds(target)


def _schedule(target: SlaTarget) -> None:
    """Due, warning and manager instants (and every rung of a drawn ladder) of a running target,
    from where it stands."""
    if target.state != RUNNING or target.running_since is None:
        target.warning_at = target.due_at = target.manager_at = None
        if target.ladder:
            target.ladder = [{k: v for k, v in rung.items() if k != "at"} for rung in target.ladder]
        return
    calendar, since = _calendar(target), target.running_since
    total, done = total_seconds(target), target.elapsed_seconds

    def at_percent(percent: int) -> datetime:
        return business_time.add(calendar, since, timedelta(seconds=max(0, math.ceil(total * percent / 100) - done)))

    target.due_at = business_time.add(calendar, since, timedelta(seconds=max(0, total - done)))
    if not target.ladder:
        target.warning_at = at_percent(target.warning_percent)
        target.manager_at = business_time.add(calendar, target.due_at, timedelta(minutes=target.manager_after_minutes))
        return
    rungs = []
    for rung in target.ladder:
        rung = {k: v for k, v in rung.items() if k != "at"}
        moment = (at_percent(rung["at_percent"]) if "at_percent" in rung else
                  business_time.add(calendar, target.due_at, timedelta(minutes=rung["after_breach_minutes"])))
        rungs.append({**rung, "at": moment.isoformat()})
    target.ladder = rungs  # a new list: the JSON column is written
    warnings = [r for r in rungs if sla_ladder.kind_of(r) == sla_ladder.WARNING]
    after = [r for r in rungs if sla_ladder.kind_of(r) == sla_ladder.AFTER]
    target.warning_at = datetime.fromisoformat(warnings[0]["at"]) if warnings else None
    target.manager_at = datetime.fromisoformat(after[0]["at"]) if after else None


def projected_due(target: SlaTarget, now: datetime) -> datetime:
    """When the target would be due if its clock ran from ``now`` with the time it has left."""
    left = max(0, total_seconds(target) - int(elapsed(target, now).total_seconds()))
    return business_time.add(_calendar(target), now, timedelta(seconds=left))


def _fold(target: SlaTarget, now: datetime) -> None:
    """Bank the running part into ``elapsed_seconds`` (before a pause, a stop or a change)."""
    if target.state == RUNNING and target.running_since is not None:
        was_due = target.due_at
        target.elapsed_seconds = int(elapsed(target, now).total_seconds())
        if target.breached_at is None and target.elapsed_seconds > total_seconds(target):
            target.breached_at = was_due
    target.running_since = None


def instants(target: SlaTarget) -> dict[str, str | None]:
    """The rung instants of a target as an event records them (ISO, UTC)."""
    return {"warning_at": _json(target.warning_at), "due_at": _json(target.due_at),
            "manager_at": _json(target.manager_at)}


def rebank(target: SlaTarget, old_calendar: business_time.BusinessCalendar, now: datetime) -> None:
    """The target's calendar (or its rule) changed at ``now``: the business time used so far is
    counted on ``old_calendar`` up to ``now`` and kept; what is left runs on the target's calendar
    as it is now, from ``now``. A due moment that had passed before ``now`` was a breach on the old
    calendar and stays one; nothing that had not passed becomes a breach in the past."""
    if target.state == RUNNING and target.running_since is not None:
        target.elapsed_seconds += int(business_time.between(old_calendar, target.running_since, now).total_seconds())
        if target.breached_at is None and target.due_at is not None and target.due_at <= now:
            target.breached_at = target.due_at
        target.running_since = now
    _schedule(target)


# -- starting and changing ------------------------------------------------------------------------
def start(case: Case, now: datetime, priority: str | None = None) -> list[SlaTarget]:
    """The targets of a newly opened case under the active policy."""
    policy = sla_policies.active()
    created = []
    for spec in targets_for(policy, case, case.created_at or now, priority):
        if spec.kind == "next_update":
            continue  # starts when the case comes back from waiting on the customer
        created.append(_new_target(case, policy, spec, now, cycle=1))
    return created


def targets_for(policy: sla_policies.Policy, case: Case, opened_at: datetime,
                priority: str | None = None) -> list[sla_policies.TargetSpec]:
    """The policy's targets for the case as it stands: its priority, tier, kind, category (the
    classification's, else the intake's hint) and channel."""
    return policy.targets_for(priority or case.priority, case.customer.tier, opened_at, case.kind,
                              case.category or case.category_hint, case.channel)


def _new_target(case: Case, policy: sla_policies.Policy, spec: sla_policies.TargetSpec, now: datetime,
                cycle: int) -> SlaTarget:
    target = SlaTarget(case_id=case.id, kind=spec.kind, cycle=cycle, policy_version=policy.version,
                       calendar=spec.calendar, target_minutes=spec.minutes, extended_minutes=0,
                       warning_percent=policy.warning_percent,
                       manager_after_minutes=policy.manager_after_minutes, started_at=now,
                       elapsed_seconds=0, running_since=now, state=RUNNING, ladder=policy.ladder)
    _schedule(target)
    db.session.add(target)
    return target


def _policy_of(targets: list[SlaTarget]) -> sla_policies.Policy:
    version = targets[0].policy_version if targets else None
    return (sla_policies.version(version) if version is not None else None) or sla_policies.active()


def recompute(case: Case, actor: User | None, reason: str, now: datetime,
              policy: sla_policies.Policy | None = None) -> list[dict[str, Any]]:
    """Recompute every target from the case's start: after a change of priority (same policy
    version) or when the policy is re-applied (``policy`` given). Elapsed time is rebuilt from
    the start, the pauses and the end, on the rule's (possibly new) calendar; extensions stay."""
    targets = targets_of(case)
    policy = policy or _policy_of(targets)
    specs = {s.kind: s for s in targets_for(policy, case, case.created_at)}
    pauses = pauses_of(case)
    changes = []
    for target in targets:
        spec = specs.get(target.kind)
        if spec is None or target.state == CANCELLED:
            continue
        before = {"target_minutes": target.target_minutes, "calendar": target.calendar,
                  "due_at": target.due_at}
        target.policy_version, target.calendar, target.target_minutes = policy.version, spec.calendar, spec.minutes
        target.warning_percent, target.manager_after_minutes = policy.warning_percent, policy.manager_after_minutes
        target.ladder = policy.ladder
        end = target.met_at if target.state == MET else now
        spent = _business_time_outside_pauses(_calendar(target), target.started_at, end, pauses)
        target.elapsed_seconds = int(spent.total_seconds())
        target.running_since = now if target.state == RUNNING else None
        if target.state == MET:
            target.breached_at = target.met_at if target.elapsed_seconds > total_seconds(target) else None
        else:
            target.breached_at = None
            _schedule(target)
        after = {"target_minutes": target.target_minutes, "calendar": target.calendar, "due_at": target.due_at}
        if after != before:
            changes.append({"kind": target.kind, "cycle": target.cycle,
                            **{f"old_{k}": _json(v) for k, v in before.items()},
                            **{k: _json(v) for k, v in after.items()}})
    events.record(case, "sla_recomputed", actor, reason=reason, priority=case.priority,
                  policy_version=policy.version, changes=changes)
    return changes


def category_changed(case: Case, actor: User | None, old_category: str | None, now: datetime) -> None:
    """The classification set the category: when another rule applies to the case now (a rule for
    that category), its targets are recomputed from the start, as for a change of priority."""
    targets = targets_of(case)
    if not targets:
        return
    policy = _policy_of(targets)
    before = policy.rule_for(case.priority, case.customer.tier, case.kind, old_category or case.category_hint,
                             case.channel)
    after = policy.rule_for(case.priority, case.customer.tier, case.kind, case.category or case.category_hint,
                            case.channel)
    if before is not after:
        recompute(case, actor, "category_changed", now)


def _business_time_outside_pauses(calendar, start: datetime, end: datetime, pauses: list[SlaPause]) -> timedelta:
    spent = business_time.between(calendar, start, end)
    for pause in pauses:
        p_start, p_end = max(pause.started_at, start), min(pause.ended_at or end, end)
        if p_end > p_start:
            spent -= business_time.between(calendar, p_start, p_end)
    return spent


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def extend(case: Case, actor: User, kind: str, minutes: int, reason: str, now: datetime) -> SlaTarget:
    target = current_target(case, kind)
    old_due = target.due_at
    target.extended_minutes += minutes
    if target.state == RUNNING:
        _fold(target, now)
        target.breached_at = None if target.elapsed_seconds <= total_seconds(target) else target.breached_at
        target.running_since = now
        _schedule(target)
    events.record(case, "sla_extended", actor, target=kind, cycle=target.cycle, minutes=minutes, reason=reason,
                  old_due_at=_json(old_due), due_at=_json(target.due_at))
    return target


def current_target(case: Case, kind: str) -> SlaTarget:
    candidates = [t for t in targets_of(case) if t.kind == kind and t.state in (RUNNING, PAUSED)]
    if not candidates:
        raise Conflict(f"case {case.number} has no running {kind} target", code="no_running_target", kind=kind)
    return candidates[-1]


# -- following the process ----------------------------------------------------------------------
@dataclass(frozen=True)
class ClockInput:
    paused_by: str | None  # the reason the clock stands still (a stage), or None
    stopped: bool


def clock_input(stage: str, properties: list[dict[str, str]], completed: bool) -> ClockInput:
    """What the process says about the clock: the stage and the open tasks' ``slaClock``."""
    marks = {p.get(CLOCK_PROPERTY) for p in properties}
    if completed or STOPPED in marks:
        return ClockInput(None, True)
    if PAUSED in marks or stage.startswith("waiting:"):
        return ClockInput(stage, False)
    return ClockInput(None, False)


def follow(case: Case, clock: ClockInput, actor: User | None, now: datetime) -> datetime:
    """Bring the clock in line with the process after a step; returns the next alarm."""
    targets = targets_of(case)
    if not targets:
        return NEVER
    open_pause = next((p for p in pauses_of(case) if p.ended_at is None), None)
    live = [t for t in targets if t.state in (RUNNING, PAUSED)]
    if clock.stopped:
        if open_pause is not None:
            open_pause.ended_at = now
        for target in live:
            _fold(target, now)
            if target.kind == "resolution":
                target.state, target.met_at = MET, now
                if target.elapsed_seconds > total_seconds(target) and target.breached_at is None:
                    target.breached_at = now
                events.record(case, "sla_met", actor, target=target.kind, cycle=target.cycle,
                              breached=target.breached_at is not None)
            else:
                target.state = CANCELLED
            _schedule(target)
    elif clock.paused_by and open_pause is None:
        db.session.add(SlaPause(case_id=case.id, reason=clock.paused_by, started_at=now))
        for target in live:
            _fold(target, now)
            target.state = PAUSED
            _schedule(target)
        events.record(case, "sla_paused", actor, public=True, reason=clock.paused_by)
    elif not clock.paused_by and open_pause is not None:
        open_pause.ended_at = now
        for target in live:
            target.state, target.running_since = RUNNING, now
            _schedule(target)
        _start_next_update(case, targets, now)
        events.record(case, "sla_resumed", actor, public=True, paused_seconds=int((now - open_pause.started_at).total_seconds()))
    return next_alarm(targets_of(case))


def _start_next_update(case: Case, targets: list[SlaTarget], now: datetime) -> None:
    policy = _policy_of(targets)
    spec = next((s for s in targets_for(policy, case, case.created_at) if s.kind == "next_update"), None)
    if spec is None:
        return
    cycles = [t.cycle for t in targets if t.kind == "next_update"]
    for target in targets:
        if target.kind == "next_update" and target.state in (RUNNING, PAUSED):
            target.state = CANCELLED  # superseded by the newer promise
            _schedule(target)
    _new_target(case, policy, spec, now, cycle=max(cycles, default=0) + 1)
    db.session.flush()


def responded(case: Case, actor: User, now: datetime) -> None:
    """A staff member answered: the first response and the running next update are met."""
    for target in targets_of(case):
        if target.kind in ("first_response", "next_update") and target.state in (RUNNING, PAUSED):
            _fold(target, now)
            target.state, target.met_at = MET, now
            _schedule(target)
            events.record(case, "sla_met", actor, target=target.kind, cycle=target.cycle,
                          breached=target.breached_at is not None)


def next_alarm(targets: list[SlaTarget]) -> datetime:
    """The earliest rung not yet escalated among the running targets (NEVER if none)."""
    done = _escalated({t.id for t in targets})
    moments = [moment for target in targets if target.state == RUNNING
               for level, moment in _rungs(target) if moment is not None and (target.id, level) not in done]
    return min(moments, default=NEVER)


def _rungs(target: SlaTarget) -> list[tuple[str, datetime | None]]:
    if target.ladder:
        return [(r["name"], datetime.fromisoformat(r["at"]) if r.get("at") else None) for r in target.ladder]
    return [("warning", target.warning_at), ("breach", target.due_at), ("manager", target.manager_at)]


def _rung_kind(target: SlaTarget, name: str) -> tuple[str, str | None]:
    """The kind of a rung (warning, breach, manager) and who its drawn ladder tells (None: the diagram says)."""
    for rung in target.ladder or ():
        if rung["name"] == name:
            return sla_ladder.kind_of(rung), rung["notify"]
    return name, None


def _escalated(target_ids: set[int]) -> set[tuple[int, str]]:
    if not target_ids:
        return set()
    rows: list[Any] = transaction_rows(Escalation, frozenset(target_ids), lambda: db.session.execute(
        select(Escalation.target_id, Escalation.level).where(Escalation.target_id.in_(target_ids))).all())
    return {(target_id, level) for target_id, level in rows}


# -- the escalation ladder ------------------------------------------------------------------------
def escalate_due(case: Case, now: datetime, recipients: dict[str, str]) -> list[dict[str, Any]]:
    """Record every rung that came due on a running target, once; returns what was escalated.

    ``recipients`` maps a level to who is told (from the diagram): ``case_owner``,
    ``supervisor``, ``manager`` or a role name. A manager rung is skipped when a supervisor
    already handled the breach (acknowledged it or acted on the case)."""
    targets = targets_of(case)
    done = _escalated({t.id for t in targets})
    reached = []
    for target in targets:
        if target.state != RUNNING:
            continue
        for level, moment in _rungs(target):
            if moment is None or moment > now or (target.id, level) in done:
                continue
            kind, notify = _rung_kind(target, level)
            if kind == "manager" and _breach_handled(target):
                continue
            if kind in ("breach", "manager") and target.breached_at is None:
                target.breached_at = target.due_at
            people = _recipients(case, notify or recipients.get(kind, ""))
            notified = notifications.notify_escalation(kind, case, target.kind, target.due_at,
                                                       _calendar(target).timezone, people)
            db.session.add(Escalation(case_id=case.id, target_id=target.id, level=level, at=now,
                                      notified=notified))
            extra = {"rung": level} if target.ladder else {}
            events.record(case, f"sla_{kind}", None, target=target.kind, cycle=target.cycle,
                          due_at=_json(target.due_at), notified=notified, **extra)
            reached.append({"kind": target.kind, "cycle": target.cycle, "level": level})
    db.session.flush()
    return reached


def _breach_handled(target: SlaTarget) -> bool:
    """A supervisor acknowledged the target's breach rung."""
    breach = [name for name, _ in _rungs(target) if _rung_kind(target, name)[0] == "breach"] or ["breach"]
    acknowledged = db.session.scalar(select(Escalation.id).where(
        Escalation.target_id == target.id, Escalation.level.in_(breach), Escalation.acknowledged_at.is_not(None)))
    return acknowledged is not None


def _recipients(case: Case, who: str) -> list[User]:
    if who == "case_owner":
        people = [case.owner] if case.owner is not None else list(db.session.scalars(
            select(User).join(Task, Task.assignee_id == User.id)
            .where(Task.case_id == case.id, Task.state == TaskState.OPEN.value)))
        people = [u for u in people if u.active]
        if people:
            return people
        who = "supervisor"  # nobody owns the case yet: the supervisors hear of it
    role = {"supervisor": Role.SUPERVISOR.value, "manager": Role.MANAGER.value}.get(who, who)
    people = list(db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                     .where(UserRole.role == role, User.active.is_(True)).order_by(User.id)))
    team = case.owner.team if case.owner is not None else None
    in_team = [u for u in people if team and u.team == team]
    return in_team or people


def acknowledge_breaches(case: Case, actor: User, now: datetime) -> list[Escalation]:
    """A supervisor handled the case: its open escalations at or after a breach are acknowledged."""
    targets = {t.id: t for t in targets_of(case)}
    open_ones = [e for e in db.session.scalars(select(Escalation).where(
        Escalation.case_id == case.id, Escalation.acknowledged_at.is_(None)))
        if e.target_id in targets and _rung_kind(targets[e.target_id], e.level)[0] in ("breach", "manager")]
    for escalation in open_ones:
        escalation.acknowledged_at, escalation.acknowledged_by_id = now, actor.id
    return open_ones


# -- the view ----------------------------------------------------------------------------------
def view(case: Case, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    targets, pauses = targets_of(case), pauses_of(case)
    return {
        "paused": any(p.ended_at is None for p in pauses),
        "policy_version": targets[0].policy_version if targets else None,
        "targets": [target_view(t, now) for t in targets],
        "pauses": [{"reason": p.reason, "started_at": p.started_at, "ended_at": p.ended_at} for p in pauses],
    }


def target_view(target: SlaTarget, now: datetime) -> dict[str, Any]:
    spent = elapsed(target, now)
    total = total_seconds(target)
    breached = is_breached(target, now)
    if target.state == MET:
        status = "breached" if breached else "met"
    elif target.state == CANCELLED:
        status = "cancelled"
    elif breached:
        status = "breached"
    elif target.warning_at is not None and now >= target.warning_at:
        status = "at_risk"
    else:
        status = target.state  # running | paused
    return {
        "kind": target.kind, "cycle": target.cycle, "status": status, "state": target.state,
        "calendar": target.calendar, "target_minutes": target.target_minutes,
        "extended_minutes": target.extended_minutes, "started_at": target.started_at,
        "warning_at": target.warning_at, "due_at": target.due_at, "manager_at": target.manager_at,
        "ladder": target.ladder,
        "met_at": target.met_at, "breached_at": target.breached_at,
        "elapsed_seconds": int(spent.total_seconds()),
        "remaining_seconds": int(total - spent.total_seconds()),
    }


@operation("escalate")
def _escalate_operation(ctx: ServiceContext, recipients: dict[str, str]) -> list[dict[str, Any]]:
    """Record the rungs of the SLA ladder that came due."""
    return escalate_due(ctx.case, utcnow(), recipients)


#: a working day of the default calendar (09:00-17:00), as the SLA policy counts "2 working days"
WORKING_DAY = timedelta(hours=8)


@operation("business_deadline")
def _business_deadline_operation(ctx: ServiceContext, working_days: int) -> str:
    """The instant ``working_days`` working days of the default calendar from now (ISO 8601)."""
    calendar = calendars.get(calendars.DEFAULT)
    return business_time.add(calendar, utcnow(), WORKING_DAY * working_days).isoformat()
