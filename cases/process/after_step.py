"""After every engine step: store the state and bring tasks, case fields and history in line.

One completion reads straight down: request -> schema -> use case (``cases/casework/tasks.py``) ->
engine -> :func:`synchronise`, whose named steps are: the task rows, the case's stage, the SLA clock
and the process alarm, the timer rows (and the scheduler's wake-up), the stage's history event, the
customer's notices, closing a finished case, and the engine state -> one commit by the caller.

This runs inside the caller's unit of work, so engine state, task rows, case fields and
events commit together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from cases.core import events
from cases.core.db import db, prime_rows, take_primed
from cases.core.models import Case, CaseStatus, Task, TaskState, User, utcnow
from cases.outbox import replies
from cases.process import ownership, projection, wakeup
from cases.process.models import InstanceStatus, ProcessInstance, Timer
from cases.process.strategies import initial_assignee
from cases.process.taskrules import CUSTOMER_LANE, FORM_PROPERTY, also_roles
from cases.sla import clock as sla
from engine.model import Completion, UserTask, WaitingEvent
from engine.runtime import ProcessRun

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


@dataclass
class _Step:
    """What every after-step job reads: the case, its instance, the engine run and the tasks it has ready."""

    case: Case
    instance: ProcessInstance
    run: ProcessRun
    actor: User | None
    now: datetime
    ready: list[UserTask]


def _synchronise(case: Case, instance: ProcessInstance, run: ProcessRun, actor: User | None) -> list[Task]:
    step = _Step(case, instance, run, actor, utcnow(), run.user_tasks())
    still_open, opened, opened_pairs = _task_rows(step)
    old_stage = _stage_of_case(step)
    waits = _sla_clock(step, opened_pairs)
    _timer_rows(case, instance, waits)
    case.reopen_count = int(run.data.get("reopen_count", case.reopen_count) or 0)
    if case.stage != old_stage:
        events.record(case, "stage_changed", actor, public=True, old=old_stage, new=case.stage)
    _customer_notices(step, opened, waits)
    _close_when_done(step)
    _save_state(step)
    return still_open + opened


def _task_rows(step: _Step) -> tuple[list[Task], list[Task], list[tuple[UserTask, Task]]]:
    """The open task rows are the engine's ready user tasks: cancel the gone ones, reopen a repaired
    one, add the new ones (with their first assignee). Returns (still open, opened, the opened ones
    with their engine tasks)."""
    case, actor, now = step.case, step.actor, step.now
    ready_ids = {t.id for t in step.ready}
    known = {t.id: t for t in _open_and_ready_rows(step.instance.id, ready_ids)}
    for task_id, row in known.items():
        if row.is_open and task_id not in ready_ids:  # gone without being completed here: cancelled by the process
            row.state = TaskState.CANCELLED.value
            row.completed_at = now
            events.record(case, "task_cancelled", actor, task_id=task_id, element=row.element_id)
    opened, opened_pairs = [], []
    still_open = [row for task_id, row in known.items() if row.is_open and task_id in ready_ids]
    for user_task in step.ready:
        row = known.get(user_task.id)
        if row is not None and not row.is_open and row.completed_by_id is None:
            row.state, row.completed_at = TaskState.OPEN.value, None  # reopened by a repair
            still_open.append(row)
            continue
        if row is not None:
            if row.element_id != user_task.element_id:  # moved to a renamed step (a migration's mapping)
                row.element_id, row.name, row.lane = user_task.element_id, user_task.name, user_task.lane
                row.form, row.also_roles = user_task.prop(FORM_PROPERTY), also_roles(user_task)
            continue
        assignee = initial_assignee(user_task, case)
        row = Task(
            id=user_task.id, case_id=case.id, instance_id=step.instance.id, element_id=user_task.element_id,
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
    return still_open, opened, opened_pairs


def _open_and_ready_rows(instance_id: int, ready_ids: set[str]) -> list[Task]:
    """The instance's open task rows, and any row of a ready task (a repaired instance may have
    closed it). A timer batch reads every instance's open rows at once (``prime_open_tasks``): then
    only a ready task that has no open row is looked for here, and only when there is one. Their case
    is the step's, in the session already: not joined again (~50 columns a row)."""
    primed = take_primed(Task, instance_id)
    if primed is None:
        return list(db.session.scalars(select(Task).where(
            Task.instance_id == instance_id, or_(Task.state == TaskState.OPEN.value, Task.id.in_(ready_ids)))
            .options(lazyload(Task.case))))
    missing = ready_ids - {t.id for t in primed}
    if missing:
        primed += db.session.scalars(select(Task).where(Task.instance_id == instance_id, Task.id.in_(missing))
                                     .options(lazyload(Task.case)))
    return primed


def prime_open_tasks(instance_ids: list[int]) -> None:
    """Read the open task rows of many instances in one statement, for their steps' ``_task_rows``."""
    rows: dict[int, list[Task]] = {instance_id: [] for instance_id in instance_ids}
    for row in db.session.scalars(select(Task).where(Task.instance_id.in_(instance_ids),
                                                     Task.state == TaskState.OPEN.value)
                                  .options(lazyload(Task.case))):
        rows[row.instance_id].append(row)
    prime_rows(Task, _instance_of, rows)


def prime_timers(rows: dict[int, list[Timer]]) -> None:
    """Keep the timer rows of many instances (read at once by their batch) for their steps' ``_timer_rows``:
    ``rows`` has every instance's rows (an empty list for none)."""
    prime_rows(Timer, _instance_of, rows)


def _instance_of(row: Task | Timer) -> int:
    return row.instance_id


def _stage_of_case(step: _Step) -> str | None:
    """The case's stage follows the step; returns the stage it had."""
    old_stage = step.case.stage
    step.case.stage = _stage(step.run, step.ready)
    return old_stage


def _sla_clock(step: _Step, opened: list[tuple[UserTask, Task]]) -> list[WaitingEvent]:
    """The SLA clock follows the stage and the open tasks, the case's owner and deadline are settled
    (cases/process/ownership.py), and the process's alarm follows the clock's next rung; returns what
    the instance now waits for (the alarm's due time is part of it)."""
    clock = sla.clock_input(step.case.stage, [t.properties for t in step.ready], step.run.completed)
    alarm = sla.follow(step.case, clock, step.actor, step.now)
    ownership.settle(step.case, opened, step.actor)
    if not step.run.completed:
        step.run.set_alarm(sla.ALARM_VARIABLE, alarm)
    return step.run.waiting()


def _customer_notices(step: _Step, opened: list[Task], waits: list[WaitingEvent]) -> None:
    """The notices the reached elements name (customerNotice): opened tasks, new waits."""
    opened_ids = {row.id for row in opened}
    replies.on_step(step.case, [t.properties for t in step.ready if t.id in opened_ids]
                    + [w.properties for w in step.run.newly_waiting(waits)], step.run.data, step.actor)


def _close_when_done(step: _Step) -> None:
    case, instance = step.case, step.instance
    if step.run.completed and case.is_open:
        case.status = CaseStatus.CLOSED.value
        case.closed_at = step.now
        instance.status = InstanceStatus.COMPLETED.value
        events.record(case, "case_closed", step.actor, public=True)
    if instance.status == InstanceStatus.ERROR.value and not step.run.completed:
        instance.status = InstanceStatus.RUNNING.value


def _save_state(step: _Step) -> None:
    """A step went through: whatever failed before no longer blocks or troubles the instance."""
    instance = step.instance
    instance.error_message = instance.error_element = instance.error_at = None
    step.case.updated_at = step.now
    instance.updated_at = step.now
    instance.state = step.run.dump()


def reset_alarm(case: Case, instance: ProcessInstance, run: ProcessRun) -> None:
    """The SLA instants of ``case`` moved outside a step (a calendar edited, a policy re-applied in
    bulk): the process alarm and the timer rows follow, nothing else of the instance changes."""
    if run.completed:
        return
    run.set_alarm(sla.ALARM_VARIABLE, sla.next_alarm(sla.targets_of(case)))
    _timer_rows(case, instance, run.waiting())
    instance.state = run.dump()
    instance.updated_at = utcnow()


def _timer_rows(case: Case, instance: ProcessInstance, waits: list[WaitingEvent]) -> None:
    """The timer rows of the instance are exactly the engine's waiting timers; an earlier first one
    wakes the scheduler."""
    timers = [w for w in waits if w.kind == "timer" and w.due_at and w.due_at < sla.NEVER]
    wanted = {(w.element_id, w.due_at) for w in timers}
    alarms = {w.element_id for w in timers if w.expression == sla.ALARM_VARIABLE}
    next_due = min((due for _element, due in wanted), default=None)
    if not wanted and instance.next_timer_at is None:
        return  # no timer before, none now: nothing to read or write
    if next_due is not None and (instance.next_timer_at is None or next_due < instance.next_timer_at):
        wakeup.announce(next_due)
    instance.next_timer_at = next_due
    rows = take_primed(Timer, instance.id)
    if rows is None:
        rows = list(db.session.scalars(select(Timer).where(Timer.instance_id == instance.id)))
    for row in rows:
        key = (row.element_id, row.due_at)
        if key in wanted:
            wanted.discard(key)
        else:
            db.session.delete(row)
    for element_id, due_at in wanted:
        db.session.add(Timer(instance_id=instance.id, case_id=case.id, element_id=element_id, due_at=due_at,
                             alarm=element_id in alarms))
