"""After every engine step: store the state and bring tasks, case fields and history in line.

This runs inside the caller's unit of work, so engine state, task rows, case fields and
events commit together or not at all.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from engine.model import Completion, UserTask, WaitingEvent
from engine.runtime import ProcessRun

from . import events, ownership, projection, replies, sla, wakeup
from .strategies import initial_assignee
from .db import db
from .models import (
    Case, CaseStatus, InstanceStatus, ProcessInstance, Task, TaskState, Timer, User, utcnow,
)
from .taskrules import CUSTOMER_LANE, FORM_PROPERTY, also_roles

CLOSED_STAGE = "closed"


def _case_fields(user_task: UserTask) -> list[str]:
    return [f.strip() for f in user_task.prop("caseFields", "").split(",") if f.strip()]


def apply_completion(case: Case, completion: Completion, actor: User | None) -> None:
    changes = projection.apply(case, completion.data, _case_fields(completion.task))
    if changes:
        events.record(case, "case_updated", actor, public=False, changes=changes,
                      by_task=completion.task.element_id)
    if "priority" in changes:
        sla.recompute(case, actor, "priority_changed", utcnow())
    elif "category" in changes:  # a rule may be for the category
        sla.category_changed(case, actor, changes["category"][0], utcnow())


def _stage(run: ProcessRun, open_tasks: list[UserTask]) -> str:
    if run.completed:
        return CLOSED_STAGE
    for task in open_tasks:
        stage = task.prop("caseStage")
        if stage:
            return stage
    messages = [w.name for w in run.waiting() if w.kind == "message"]
    if messages:
        return f"waiting:{messages[0]}"
    return "processing"


def synchronise(case: Case, instance: ProcessInstance, run: ProcessRun, actor: User | None) -> list[Task]:
    """Persist ``run`` and reconcile the derived rows. Returns the open tasks of the instance."""
    with db.session.no_autoflush:  # one UPDATE of the instance and the case, at the end
        return _synchronise(case, instance, run, actor)


def _synchronise(case: Case, instance: ProcessInstance, run: ProcessRun, actor: User | None) -> list[Task]:
    ready = run.user_tasks()
    ready_ids = {t.id for t in ready}
    # the open rows, and any row of a ready task (a repaired instance may have closed it)
    rows = db.session.scalars(select(Task).where(
        Task.instance_id == instance.id, or_(Task.state == TaskState.OPEN.value, Task.id.in_(ready_ids))))
    known = {t.id: t for t in rows}
    now = utcnow()
    for task_id, row in known.items():
        if row.is_open and task_id not in ready_ids:  # gone without being completed here: cancelled by the process
            row.state = TaskState.CANCELLED.value
            row.completed_at = now
            events.record(case, "task_cancelled", actor, task_id=task_id, element=row.element_id)
    opened, opened_pairs = [], []
    still_open = [row for task_id, row in known.items() if row.is_open and task_id in ready_ids]
    for user_task in ready:
        row = known.get(user_task.id)
        if row is not None and not row.is_open and row.completed_by_id is None:
            row.state, row.completed_at = TaskState.OPEN.value, None  # reopened by a repair
            still_open.append(row)
            continue
        if row is not None:
            continue
        assignee = initial_assignee(user_task, case)
        row = Task(
            id=user_task.id, case_id=case.id, instance_id=instance.id, element_id=user_task.element_id,
            name=user_task.name, lane=user_task.lane, form=user_task.prop(FORM_PROPERTY),
            also_roles=also_roles(user_task), state=TaskState.OPEN.value, assignee=assignee,
            assignee_id=assignee.id if assignee else None, created_at=now, case=case,
        )
        db.session.add(row)
        opened.append(row)
        opened_pairs.append((user_task, row))
        events.record(case, "task_created", actor, public=user_task.lane == CUSTOMER_LANE,
                      task_id=row.id, element=row.element_id, name=row.name, lane=row.lane,
                      assignee=assignee.username if assignee else None)
    old_stage = case.stage
    case.stage = _stage(run, ready)
    clock = sla.clock_input(case.stage, [t.properties for t in ready], run.completed)
    alarm = sla.follow(case, clock, actor, now)
    ownership.settle(case, opened_pairs, actor)
    if not run.completed:
        run.set_alarm(sla.ALARM_VARIABLE, alarm)
    waits = run.waiting()  # after the alarm is set: its due time is part of it
    _synchronise_timers(case, instance, waits)
    case.reopen_count = int(run.data.get("reopen_count", case.reopen_count) or 0)
    if case.stage != old_stage:
        events.record(case, "stage_changed", actor, public=True, old=old_stage, new=case.stage)
    # the notices the reached elements name (customerNotice): opened tasks, new waits
    opened_ids = {row.id for row in opened}
    replies.on_step(case, [t.properties for t in ready if t.id in opened_ids]
                    + [w.properties for w in run.newly_waiting(waits)], run.data, actor)
    if run.completed and case.is_open:
        case.status = CaseStatus.CLOSED.value
        case.closed_at = now
        instance.status = InstanceStatus.COMPLETED.value
        events.record(case, "case_closed", actor, public=True)
    if instance.status == InstanceStatus.ERROR.value and not run.completed:
        instance.status = InstanceStatus.RUNNING.value
    # a step went through: whatever failed before no longer blocks or troubles the instance
    instance.error_message = instance.error_element = instance.error_at = None
    case.updated_at = now
    instance.updated_at = now
    instance.state = run.dump()
    return still_open + opened


def reset_alarm(case: Case, instance: ProcessInstance, run: ProcessRun) -> None:
    """The SLA instants of ``case`` moved outside a step (a calendar edited, a policy re-applied in
    bulk): the process alarm and the timer rows follow, nothing else of the instance changes."""
    if run.completed:
        return
    run.set_alarm(sla.ALARM_VARIABLE, sla.next_alarm(sla.targets_of(case)))
    _synchronise_timers(case, instance, run.waiting())
    instance.state = run.dump()
    instance.updated_at = utcnow()


def _synchronise_timers(case: Case, instance: ProcessInstance, waits: list[WaitingEvent]) -> None:
    """The timer rows of the instance are exactly the engine's waiting timers."""
    timers = [w for w in waits if w.kind == "timer" and w.due_at and w.due_at < sla.NEVER]
    wanted = {(w.element_id, w.due_at) for w in timers}
    alarms = {w.element_id for w in timers if w.expression == sla.ALARM_VARIABLE}
    next_due = min((due for _element, due in wanted), default=None)
    if not wanted and instance.next_timer_at is None:
        return  # no timer before, none now: nothing to read or write
    if next_due is not None and (instance.next_timer_at is None or next_due < instance.next_timer_at):
        wakeup.announce(next_due)
    instance.next_timer_at = next_due
    for row in db.session.scalars(select(Timer).where(Timer.instance_id == instance.id)):
        key = (row.element_id, row.due_at)
        if key in wanted:
            wanted.discard(key)
        else:
            db.session.delete(row)
    for element_id, due_at in wanted:
        db.session.add(Timer(instance_id=instance.id, case_id=case.id, element_id=element_id, due_at=due_at,
                             alarm=element_id in alarms))
