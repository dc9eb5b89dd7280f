"""A calendar edited while cases run on it, and a policy re-applied to every running case.

An edit takes effect from the moment it is saved, for every running clock on the calendar:

* the business time a target used up to the edit is counted on the calendar as it was and kept
  (declaring today a holiday does not erase the morning's work, adding Saturday hours does not
  count last Saturday);
* what is left runs on the calendar as it is now, so ``warning_at``, ``due_at`` and
  ``manager_at`` are recomputed from the edit; a due moment that had passed before the edit was a
  true breach and stays one, nothing else becomes a breach in the past;
* the process alarm (the diagram's ``sla_alarm`` timers) and the timer rows move with them, so
  the scheduler wakes at the new earliest rung; a rung whose moment moved later is not reached
  (the ladder compares the stored instants with the clock when the alarm fires);
* each case whose instants moved gets an ``sla_recomputed`` event (reason ``calendar_edited``)
  with the old and new instants of every target that moved;
* paused targets keep the time they banked and resume on the new calendar; met and cancelled
  targets keep their history.

``reapply_policy`` does the same for the active policy: the time used is kept, the rule's
minutes and calendar apply from now, to every running target of every open case.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cases.core import audit, events
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict
from cases.core.models import Case, CaseStatus, Role, User, utcnow
from cases.process.after_step import reset_alarm
from cases.process.locking import lock_instance
from cases.process.models import InstanceStatus
from cases.process.runs import load_run
from cases.sla import calendars
from cases.sla import clock as sla
from cases.sla import policies as sla_policies
from cases.sla.business_time import BusinessCalendar
from cases.sla.models import SlaTarget
from engine.errors import EngineError

log = logging.getLogger("caseflow.sla")


@dataclass(frozen=True)
class Moved:
    """What a change did to running clocks: the cases and targets whose instants moved."""
    cases: int
    targets: int


@dataclass(frozen=True)
class Edit:
    view: calendars.CalendarView
    created: bool
    moved: Moved


def demands_on(name: str) -> list[tuple[str, int]]:
    """The targets the active SLA policy counts on the calendar ``name`` (what needs it, minutes)."""
    policy = sla_policies.active()
    found = []
    for i, rule in enumerate(policy.rules):
        if (rule.get("calendar") or policy.calendar) != name:
            continue
        where = f"rule {i} of SLA policy version {policy.version}"
        found += [(f"{kind} of {where}", int(rule[kind])) for kind in sla_policies.KINDS if rule.get(kind)]
        found += [(f"off_hours.{kind} of {where}", int(minutes)) for kind, minutes in (rule.get("off_hours") or {}).items()]
    return found


@use_case
def put(actor: User, name: str, fields: dict, seen_version: int | None) -> Edit:
    """Create or replace a calendar (the whole body); running clocks on it follow from now."""
    return _edit(actor, name, fields, seen_version, partial=False)


@use_case
def patch(actor: User, name: str, fields: dict, seen_version: int | None) -> Edit:
    """Change the fields sent of a calendar; running clocks on it follow from now."""
    return _edit(actor, name, fields, seen_version, partial=True)


def _edit(actor: User, name: str, fields: dict, seen_version: int | None, partial: bool) -> Edit:
    stored = calendars.store(actor, name, fields, seen_version, partial, demands_on(name))
    moved = Moved(0, 0) if stored.before is None else follow_calendar(name, stored.before, actor, utcnow())
    action = "calendar_created" if stored.created else "calendar_changed" if partial else "calendar_replaced"
    audit.record(actor, action, name, version=stored.view.version, fields=sorted(fields),
                 moved_cases=moved.cases, moved_targets=moved.targets)
    return Edit(stored.view, stored.created, moved)


def follow_calendar(name: str, before: BusinessCalendar, actor: User | None, now: datetime) -> Moved:
    """Every running target on the calendar ``name`` banks its time on ``before`` up to ``now``
    and runs on the calendar as stored now from ``now``."""
    def change(target: SlaTarget) -> bool:
        if target.calendar != name or target.state != sla.RUNNING:
            return False
        sla.rebank(target, before, now)
        return True
    query = select(SlaTarget.case_id).where(SlaTarget.calendar == name, SlaTarget.state == sla.RUNNING)
    return _move_all(query, change, actor, now, reason="calendar_edited", calendar=name)


@use_case
def reapply_policy(actor: User, reason: str) -> Moved:
    """The active policy's rules for every running or paused target of every open case: the time
    used is kept; the rule's minutes, calendar, warning line and manager delay apply from now."""
    require_role(actor, Role.ADMIN.value)
    policy = sla_policies.active()
    now = utcnow()

    def change(target: SlaTarget) -> bool:
        if target.state not in (sla.RUNNING, sla.PAUSED):
            return False
        case = db.session.get(Case, target.case_id)
        spec = next((s for s in sla.targets_for(policy, case, case.created_at) if s.kind == target.kind), None)
        if spec is None:
            return False
        before = calendars.get(target.calendar)
        target.policy_version, target.calendar, target.target_minutes = policy.version, spec.calendar, spec.minutes
        target.warning_percent, target.manager_after_minutes = policy.warning_percent, policy.manager_after_minutes
        target.ladder = policy.ladder
        sla.rebank(target, before, now)
        return True
    query = select(SlaTarget.case_id).where(SlaTarget.state.in_((sla.RUNNING, sla.PAUSED)))
    moved = _move_all(query, change, actor, now, reason="policy_reapplied", policy_version=policy.version,
                      note=reason)
    audit.record(actor, "sla_policy_reapplied", policy.version, reason=reason, cases=moved.cases,
                 targets=moved.targets)
    return moved


def _move_all(target_cases, change: Callable[[SlaTarget], bool], actor: User | None, now: datetime,
              **event: Any) -> Moved:
    """``change`` each target of the open cases ``target_cases`` selects, one case at a time under
    its instance lock; record what moved and set the process alarm anew."""
    case_ids = list(db.session.scalars(
        select(Case.id).where(Case.status == CaseStatus.OPEN.value, Case.id.in_(target_cases.distinct()))
        .order_by(Case.id)))
    cases = targets = 0
    for case_id in case_ids:
        moved = _move_case(case_id, change, actor, now, event)
        cases, targets = cases + (moved > 0), targets + moved
    return Moved(cases, targets)


def _move_case(case_id: int, change: Callable[[SlaTarget], bool], actor: User | None, now: datetime,
               event: dict[str, Any]) -> int:
    instance = lock_instance(case_id=case_id)
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    changes = []
    for target in sla.targets_of(case):
        db.session.refresh(target)  # as committed now that the instance is ours
        old = {**sla.instants(target), "calendar": target.calendar, "target_minutes": target.target_minutes}
        if not change(target):
            continue
        new = {**sla.instants(target), "calendar": target.calendar, "target_minutes": target.target_minutes}
        if new != old:
            changes.append({"kind": target.kind, "cycle": target.cycle,
                            **{f"old_{key}": value for key, value in old.items()}, **new})
    if not changes:
        return 0
    events.record(case, "sla_recomputed", actor, changes=changes, **event)
    if instance.status == InstanceStatus.RUNNING.value:
        try:
            reset_alarm(case, instance, load_run(instance, case, actor))
        except (EngineError, Conflict) as exc:  # the instance cannot be loaded: its next step sets the alarm
            log.warning("case %s: the SLA alarm stays where it was: %s", case.number, exc)
    return len(changes)
