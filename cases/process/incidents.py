"""Cases in trouble: instances whose step failed in the scheduler, and stuck instances.

A failing step in a request is simply refused (the transaction rolls back and the user gets the
error). A failing step the scheduler runs (a timer) has nobody to tell: the instance is marked
ERROR with the message and the element, the scheduler leaves it alone, and an operator retries it
after fixing the cause (e.g. after deploying a corrected version and migrating).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select

from cases.core import audit, events
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict
from cases.core.models import Case, Role, Task, TaskState, User, utcnow
from cases.process.after_step import synchronise
from cases.process.locking import engine_errors, lock_instance
from cases.process.models import InstanceStatus, ProcessInstance, Timer
from cases.process.runs import load_run
from engine.errors import EngineError

OPERATORS = (Role.ADMIN.value, Role.PROCESS_OWNER.value, Role.SUPERVISOR.value)


@use_case
def record_failure(instance_id: int, error: Exception, actor: User | None = None, stop: bool = True) -> None:
    """Note why a step of the instance failed. ``stop``: the scheduler leaves the instance alone
    until it is retried (a failed timer step); a refused user step only leaves the note (the
    instance's timers go on, and the next step that works clears it)."""
    instance = lock_instance(id=instance_id)
    if stop:
        instance.status = InstanceStatus.ERROR.value
    instance.error_message = getattr(error, "message", None) or str(error)
    instance.error_element = getattr(error, "element", None)
    instance.error_at = utcnow()
    case = db.session.get(Case, instance.case_id)
    events.record(case, "process_failed", actor, element=instance.error_element, message=instance.error_message)


@dataclass(frozen=True)
class Trouble:
    instance: ProcessInstance
    case: Case
    kind: str  # 'error' | 'stuck'


def _stuck():
    """Running, but nothing can move it: no open task, no timer, not waiting for a message."""
    open_task = exists().where(and_(Task.instance_id == ProcessInstance.id, Task.state == TaskState.OPEN.value))
    moving_timer = exists().where(and_(Timer.instance_id == ProcessInstance.id, Timer.alarm.is_(False)))
    return and_(ProcessInstance.status == InstanceStatus.RUNNING.value, ~open_task,
                ~moving_timer, ~Case.stage.startswith("waiting:"))


def in_trouble(user: User) -> list[Trouble]:
    require_role(user, *OPERATORS)
    rows = db.session.execute(
        select(ProcessInstance, Case).join(Case, Case.id == ProcessInstance.case_id)
        .where(or_(ProcessInstance.status == InstanceStatus.ERROR.value, ProcessInstance.error_message.is_not(None),
                   _stuck()))
        .order_by(ProcessInstance.updated_at)
    ).all()
    return [Trouble(i, c, "error" if i.error_message is not None else "stuck") for i, c in rows]


@use_case
def retry(user: User, instance_id: int) -> Case:
    """Run the instance's automatic steps and due timers again; on success it runs normally."""
    require_role(user, *OPERATORS)
    instance = lock_instance(id=instance_id)
    case = db.session.get(Case, instance.case_id)
    if instance.status == InstanceStatus.COMPLETED.value:
        raise Conflict(f"instance {instance_id} is completed", code="instance_completed")
    try:
        run = load_run(instance, case, user)
        run.run()
        run.fire_due_timers()
    except EngineError as exc:
        raise engine_errors(exc) from exc
    was = instance.status
    instance.status = InstanceStatus.RUNNING.value
    instance.error_message = instance.error_element = instance.error_at = None
    events.record(case, "process_retried", user, previous_status=was)
    audit.record(user, "retry", instance.id, case=case.number, previous_status=was)
    synchronise(case, instance, run, user)
    return case
