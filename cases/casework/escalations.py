"""The supervisors' escalation queue and what they do about it.

The queue lists the running SLA targets that are breached or past their warning moment
("at risk"), most urgent first, filterable by the owner's team, priority, customer tier, target
and status. Every action here is a case event, needs the supervisor role, and counts as handling
the breach: it acknowledges the case's open breach escalations, so the manager rung is not
climbed for a breach a supervisor already took in hand.

Each action locks the case's process instance and ends with a synchronisation, so the SLA
alarm in the engine state, the timer rows and the case commit together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from cases.core import events
from cases.core.access import require_role, visible_case
from cases.core.db import db, use_case
from cases.core.errors import ValidationFailed
from cases.core.models import PRIORITIES, Case, Customer, Role, Task, TaskState, User, utcnow
from cases.core.paging import Page, paginate
from cases.process.after_step import synchronise
from cases.process.locking import engine_errors, lock_instance
from cases.process.runs import load_run
from cases.process.taskrules import CUSTOMER_LANE, can_work_on
from cases.sla import clock as sla
from cases.sla import policies as sla_policies
from cases.sla.models import Escalation, SlaTarget
from engine.errors import EngineError

SUPERVISOR = Role.SUPERVISOR.value
#: who works the queue: supervisors, and managers (the last rung of the ladder)
WORKERS = (SUPERVISOR, Role.MANAGER.value)
STATUSES = ("breached", "at_risk")


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    target: dict[str, Any]
    escalations: list[Escalation]


def queue(user: User, filters: dict[str, Any], page: int, per_page: int, now: datetime | None = None) -> Page:
    require_role(user, *WORKERS)
    now = now or utcnow()
    breached = or_(SlaTarget.breached_at.is_not(None), SlaTarget.due_at <= now)
    at_risk = and_(SlaTarget.breached_at.is_(None), SlaTarget.due_at > now, SlaTarget.warning_at <= now)
    status = filters.get("status")
    # the running targets of open cases: the target's case_open is its case's status, kept by the
    # database (cases/sla/models.py CASE_OPEN_TRIGGERS), so the page and the exact total read
    # ix_sla_targets_open_queue alone; the cases are joined only for a filter on them
    query = (select(SlaTarget)
             .where(SlaTarget.state == sla.RUNNING, SlaTarget.case_open,
                    breached if status == "breached" else at_risk if status == "at_risk" else or_(breached, at_risk)))
    if filters.get("priority") or filters.get("tier") or filters.get("team"):
        query = query.join(Case, Case.id == SlaTarget.case_id)
    if filters.get("priority"):
        query = query.where(Case.priority == filters["priority"])
    if filters.get("tier"):  # only this filter needs the customer (every case has one: same rows)
        query = query.join(Customer, Customer.id == Case.customer_id).where(Customer.tier == filters["tier"])
    if filters.get("kind"):
        query = query.where(SlaTarget.kind == filters["kind"])
    if filters.get("team"):
        query = query.where(Case.owner_id.in_(select(User.id).where(User.team == filters["team"])))
    result = paginate(query.order_by(SlaTarget.due_at, SlaTarget.id), page, per_page)
    ids = {t.id for t in result.items}
    by_target: dict[int, list[Escalation]] = {}
    if ids:
        for escalation in db.session.scalars(select(Escalation).where(Escalation.target_id.in_(ids))
                                             .order_by(Escalation.at, Escalation.id)):
            by_target.setdefault(escalation.target_id, []).append(escalation)
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_({t.case_id for t in result.items})))}
    return Page([QueueEntry(cases[t.case_id], sla.target_view(t, now), by_target.get(t.id, []))
                  for t in result.items], result.total, result.page, result.per_page)


# -- actions ---------------------------------------------------------------------------------
def _act(user: User, case_id: int, change) -> Case:
    """Run ``change(case, now)`` under the instance lock and synchronise the instance after it."""
    require_role(user, *WORKERS)
    case = visible_case(user, case_id)
    instance = lock_instance(case_id=case.id)
    db.session.refresh(case)
    now = utcnow()
    change(case, now)
    sla.acknowledge_breaches(case, user, now)
    try:
        run = load_run(instance, case, user)
    except EngineError as exc:
        raise engine_errors(exc, instance.id) from exc
    synchronise(case, instance, run, user)
    return case


def _user_named(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None or not user.is_staff:
        raise ValidationFailed("unknown user", [{"field": "username", "message": f"no active staff user {username!r}"}])
    return user


#: the active staff user of that name (ValidationFailed naming ``username`` otherwise)
user_named = _user_named


def _hand_over(case: Case, to: User, actor: User, reason: str | None, kind: str, now: datetime) -> None:
    open_tasks = list(db.session.scalars(select(Task).where(
        Task.case_id == case.id, Task.state == TaskState.OPEN.value, Task.lane != CUSTOMER_LANE)))
    refused = [t.element_id for t in open_tasks if not can_work_on(to, t)]
    if refused:
        raise ValidationFailed(f"{to.username} may not work on the open task(s) {', '.join(refused)}",
                               [{"field": "username", "message": f"lacks the role for {', '.join(refused)}"}])
    old_owner = case.owner.username if case.owner else None
    case.owner, case.owner_id = to, to.id
    for task in open_tasks:
        task.assignee, task.assignee_id = to, to.id
    events.record(case, kind, actor, old_owner=old_owner, owner=to.username, reason=reason,
                  tasks=[t.id for t in open_tasks])


@use_case
def reassign(user: User, case_id: int, username: str, reason: str | None) -> Case:
    target = _user_named(username)
    return _act(user, case_id, lambda case, now: _hand_over(case, target, user, reason, "case_reassigned", now))


@use_case
def take_over(user: User, case_id: int, reason: str | None) -> Case:
    return _act(user, case_id, lambda case, now: _hand_over(case, user, user, reason, "case_taken_over", now))


@use_case
def extend(user: User, case_id: int, kind: str, minutes: int, reason: str) -> Case:
    return _act(user, case_id, lambda case, now: sla.extend(case, user, kind, minutes, reason, now))


@use_case
def comment(user: User, case_id: int, text: str, public: bool) -> Case:
    def change(case: Case, now: datetime) -> None:
        events.record(case, "comment", user, public=public, text=text)
        if public:
            sla.responded(case, user, now)  # a public answer is a response to the customer
    return _act(user, case_id, change)


@use_case
def acknowledge(user: User, case_id: int, note: str | None) -> Case:
    def change(case: Case, now: datetime) -> None:
        events.record(case, "escalation_acknowledged", user, note=note)
    return _act(user, case_id, change)


@use_case
def change_priority(user: User, case_id: int, priority: str, reason: str) -> Case:
    if priority not in PRIORITIES:
        raise ValidationFailed("unknown priority", [{"field": "priority", "message": f"one of {', '.join(PRIORITIES)}"}])

    def change(case: Case, now: datetime) -> None:
        old = case.priority
        case.priority = priority
        events.record(case, "case_updated", user, changes={"priority": [old, priority]}, reason=reason)
        if old != priority:
            sla.recompute(case, user, "priority_changed", now)
    return _act(user, case_id, change)


@use_case
def reapply_policy(user: User, case_id: int, reason: str) -> Case:
    def change(case: Case, now: datetime) -> None:
        sla.recompute(case, user, f"policy re-applied: {reason}", now, policy=sla_policies.active())
    return _act(user, case_id, change)


__all__ = ["STATUSES", "QueueEntry", "acknowledge", "change_priority", "comment", "extend",
           "queue", "reapply_policy", "reassign", "take_over"]
