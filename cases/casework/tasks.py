"""Working on tasks: claim, release, complete; and messages from outside into a waiting case."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.access import FRONT_LINE_ROLES, visible_case, visible_task
from cases.core.db import db, use_case
from cases.core.errors import Conflict, Forbidden, PreconditionRequired, ProcessFailure
from cases.core.models import Case, Role, Task, TaskState, User, utcnow
from cases.process import forms, incidents
from cases.process.after_step import apply_completion, synchronise
from cases.process.locking import engine_errors, load_task, lock_instance, lock_instance_of_task
from cases.process.models import ProcessInstance
from cases.process.runs import load_run
from cases.process.taskrules import CUSTOMER_LANE, can_work_on
from cases.sla import clock as sla
from engine.errors import EngineError


def _check_version(task: Task, version: int | None) -> None:
    if version is None:
        raise PreconditionRequired("send the task version you saw (If-Match header or 'version')")
    if version != task.version:
        raise Conflict(f"task {task.id} changed since version {version}; it is now at {task.version}",
                       code="stale_version", current_version=task.version)


def _check_open(task: Task) -> None:
    if not task.is_open:
        raise Conflict(f"task {task.id} is {task.state}", code="task_not_open", state=task.state)


def _check_may_work(user: User, task: Task) -> None:
    if not can_work_on(user, task):
        raise Forbidden(f"your roles do not include the lane '{task.lane}' of this task",
                        lane=task.lane)


@use_case
def claim(user: User, task_id: str, version: int | None) -> Task:
    task = visible_task(user, task_id, load_task(task_id, lock=True))
    _check_version(task, version)
    _check_open(task)
    _check_may_work(user, task)
    if task.assignee_id == user.id:
        return task
    previous = task.assignee
    if previous is not None and not user.has_role(Role.SUPERVISOR.value):
        raise Conflict(f"task {task.id} is claimed by {previous.username}", code="already_claimed",
                       assignee=previous.username)
    task.assignee, task.assignee_id = user, user.id
    events.record(task.case, "task_claimed", user, public=task.lane == CUSTOMER_LANE, task_id=task.id,
                  element=task.element_id, previous=previous.username if previous else None)
    return task


@use_case
def release(user: User, task_id: str, version: int | None) -> Task:
    task = visible_task(user, task_id, load_task(task_id, lock=True))
    _check_version(task, version)
    _check_open(task)
    if task.assignee_id is None:
        raise Conflict(f"task {task.id} is not claimed", code="not_claimed")
    if task.assignee_id != user.id and not user.has_role(Role.SUPERVISOR.value):
        raise Forbidden("only the assignee or a supervisor can release a task")
    previous = task.assignee.username
    task.assignee, task.assignee_id = None, None
    events.record(task.case, "task_released", user, task_id=task.id, element=task.element_id,
                  previous=previous)
    return task


@dataclass(frozen=True)
class Completed:
    """A completed task and the tasks of its case that are open now (those the user may see)."""

    task: Task
    next_tasks: list[Task]


def _noting_failures(step):
    """A step the diagram fails is refused (nothing saved), and the failure is noted on the
    instance in a transaction of its own, so operators see the case in trouble."""

    @functools.wraps(step)
    def wrapper(user: User, *args: Any) -> Any:
        try:
            return step(user, *args)
        except ProcessFailure as failure:
            if failure.instance_id is not None:
                incidents.record_failure(failure.instance_id, failure, user, stop=False)
            raise

    return wrapper


@_noting_failures
@use_case
def complete(user: User, task_id: str, version: int | None, data: Any) -> Completed:
    instance = lock_instance_of_task(task_id)
    task = visible_task(user, task_id, load_task(task_id) if instance is not None else None)
    _check_version(task, version)
    _check_open(task)
    _check_may_work(user, task)
    if task.assignee_id not in (None, user.id):
        raise Forbidden(f"task {task.id} is assigned to {task.assignee.username}; claim it first",
                        assignee=task.assignee.username)
    open_tasks = _run_completion(instance, task, user, data)
    visible = [t for t in open_tasks if user.is_staff or t.lane == CUSTOMER_LANE]
    return Completed(task, visible)


def _run_completion(instance: ProcessInstance, task: Task, user: User | None, data: Any,
                    **noted: Any) -> list[Task]:
    """Complete ``task`` with ``data`` (validated against its form) in the caller's unit of work;
    the instance is locked. ``user`` None: a channel integration answered for the customer."""
    forms.validate(instance.version_id, task.form, data, case_id=task.case_id)
    case = task.case
    try:
        run = load_run(instance, case, user)
        completion = run.complete(task.id, data)
    except EngineError as exc:
        raise engine_errors(exc, instance.id) from exc
    # What the step changes is written by one flush at the commit: the reads below need no
    # earlier one (the SLA rows they read are flushed first when added, cases/core/db.py).
    with db.session.no_autoflush:
        now = utcnow()
        task.state, task.completed_at = TaskState.COMPLETED.value, now
        task.completed_by_id = user.id if user is not None else None
        if task.assignee_id is None and user is not None:
            task.assignee, task.assignee_id = user, user.id
        events.record(case, "task_completed", user, public=task.lane == CUSTOMER_LANE, task_id=task.id,
                      element=task.element_id, name=task.name, data=data, **noted)
        if user is not None and user.is_staff and task.lane != CUSTOMER_LANE:
            sla.responded(case, user, now)
        apply_completion(case, completion, user)
        return synchronise(case, instance, run, user)


def complete_in_unit(user: User, task_id: str, data: Any, **noted: Any) -> list[Task]:
    """Complete the open task ``task_id`` with ``data`` as ``user`` in the caller's unit of work,
    whoever it is assigned to: a step taken for many cases at once by someone who may work them
    (a major incident's resolution, cases/service/major_incidents.py). ``noted`` goes into the
    ``task_completed`` event. The same engine path as :func:`complete`; the open tasks after it."""
    instance = lock_instance_of_task(task_id)
    task = visible_task(user, task_id, load_task(task_id) if instance is not None else None)
    _check_open(task)
    _check_may_work(user, task)
    assert instance is not None  # the task is visible, so its instance exists
    return _run_completion(instance, task, user, data, **noted)


def answer_for_customer(case: Case, user: User | None, form: str, data: Any, channel: str) -> Task | None:
    """Complete the case's open customer-lane task of ``form`` with ``data``, as the customer's
    answer that came in on ``channel`` (a mail or chat reply), in the caller's unit of work.
    ``user``: the customer user who wrote, if known. None when no such task is open."""
    instance = lock_instance(case_id=case.id)
    task = db.session.scalar(select(Task).where(Task.instance_id == instance.id, Task.state == TaskState.OPEN.value,
                                                Task.lane == CUSTOMER_LANE, Task.form == form)
                             .execution_options(populate_existing=True).limit(1))
    if task is None:
        return None
    if user is not None and not can_work_on(user, task):
        user = None
    _run_completion(instance, task, user, data, channel=channel)
    return task


#: Messages only staff may deliver: a customer must not announce HQ's release themselves.
STAFF_MESSAGES = frozenset({"fixed_version"})
#: Messages only caseflow itself delivers: a survey's answer (cases/casework/surveys.py, through the survey
#: link or /surveys/{id}/answer), the end of a linked complaint (cases/casework/complaints.py), and the
#: changes of a visit or a maintenance schedule their processes hear of (cases/service/visit_process.py).
INTERNAL_MESSAGES = frozenset({"survey_answered", "complaint_closed", "visit_changed", "schedule_changed"})


def _check_may_send(user: User, case: Case, name: str) -> None:
    if name in INTERNAL_MESSAGES:
        raise Forbidden(f"the message {name} is delivered by caseflow itself, not through this call",
                        message_name=name)
    if user.is_customer and user.customer_id == case.customer_id and name not in STAFF_MESSAGES:
        return
    if not user.has_role(*FRONT_LINE_ROLES):
        raise Forbidden(f"sending a message to a case needs one of the roles: {', '.join(FRONT_LINE_ROLES)}")


@_noting_failures
@use_case
def send_message(user: User, case_id: int, name: str, payload: Any) -> Case:
    case = visible_case(user, case_id)
    _check_may_send(user, case, name)
    return deliver_message(case, user, name, payload)


def deliver_message(case: Case, user: User | None, name: str, payload: Any) -> Case:
    """Deliver a message to the case's process in the caller's unit of work (``user`` None: it
    came through a channel integration)."""
    instance = lock_instance(case_id=case.id)
    db.session.refresh(case)  # as committed now that the instance is ours
    forms.validate_message(instance.version_id, name, payload)
    try:
        run = load_run(instance, case, user)
        run.send_message(name, payload)
    except EngineError as exc:
        raise engine_errors(exc, instance.id) from exc
    events.record(case, "message_received", user, public=True, message=name, payload=payload)
    synchronise(case, instance, run, user)
    return case
