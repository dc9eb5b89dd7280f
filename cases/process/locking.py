"""Serialising writers of one process instance.

PostgreSQL: ``SELECT ... FOR UPDATE`` on the instance row, so a second writer waits and then
sees the first one's result. SQLite: write transactions start with ``BEGIN IMMEDIATE`` (see
db.py), which serialises writers for the whole database. Either way the ``lock_version`` column
makes a lost update impossible even if a path forgets to lock.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cases.core.db import db
from cases.core.errors import Conflict, NotFound, ProcessFailure
from cases.core.models import Task, User
from cases.process.models import ProcessInstance
from engine.errors import NotWaiting, ProcessError, TaskNotReady


def lock_instance(**where) -> ProcessInstance:
    query = select(ProcessInstance).filter_by(**where).with_for_update(of=ProcessInstance)
    instance = db.session.scalar(query.execution_options(populate_existing=True))
    if instance is None:
        raise NotFound("process instance not found", resource="instance")
    return instance


def try_lock_instance(instance_id: int) -> ProcessInstance | None:
    """Lock the instance unless another transaction holds it (PostgreSQL ``SKIP LOCKED``; SQLite
    serialises writers anyway): None when it is held elsewhere or gone."""
    query = (select(ProcessInstance).where(ProcessInstance.id == instance_id)
             .with_for_update(of=ProcessInstance, skip_locked=True))
    return db.session.scalar(query.execution_options(populate_existing=True))


def lock_instance_of_task(task_id: str) -> ProcessInstance | None:
    """Lock the instance a task belongs to, without loading the task first."""
    owner = select(Task.instance_id).where(Task.id == task_id).scalar_subquery()
    query = select(ProcessInstance).where(ProcessInstance.id == owner).with_for_update(of=ProcessInstance)
    return db.session.scalar(query.execution_options(populate_existing=True))


def load_task(task_id: str, lock: bool = False) -> Task | None:
    """The task as committed now, optionally row-locked.

    Re-reading the task re-reads its assignee, which resets that user's roles; the assignee is
    mostly the user of the request, whose roles the permission checks read next: they come in the
    same statement instead of a lazy load of their own."""
    query = select(Task).where(Task.id == task_id).options(joinedload(Task.assignee).joinedload(User.role_rows))
    if lock:
        query = query.with_for_update(of=Task)
    return db.session.scalars(query.execution_options(populate_existing=True)).unique().one_or_none()


def engine_errors(exc: Exception, instance_id: int | None = None) -> Exception:
    """Map an engine error raised by a step to the domain error the API reports."""
    if isinstance(exc, ProcessError):
        where = f" at '{exc.element}'" if exc.element else ""
        failure = ProcessFailure(f"the process failed{where}: {exc.message}", exc.element, exc.line)
        failure.instance_id = instance_id
        return failure
    if isinstance(exc, TaskNotReady):
        return Conflict(str(exc), code="task_not_open")
    if isinstance(exc, NotWaiting):
        return Conflict(str(exc), code="not_waiting")
    return exc
