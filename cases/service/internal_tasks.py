"""Internal tasks (seed 003: 需要测试环境的问题，工作人员将会记录至公司任务): staff work behind a case —
reproduce it in a test environment, ask a colleague — created, assigned, tracked open → done, with the
time spent. Maintenance schedules open them too (``maintenance.py``). Staff only: a customer is told
they do not exist, and their events on the timeline are never public."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.access import visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, ValidationFailed
from cases.core.models import User, utcnow
from cases.core.paging import Page, paginate
from cases.service.common import check_seen, require_staff
from cases.service.visit_models import InternalTask

STATES = ("open", "done")
MAX_MINUTES = 100_000


def _staff_user(username: str | None, errors: list[dict[str, Any]]) -> User | None:
    if not username:
        return None
    found: User | None = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if found is None or not found.is_staff:
        errors.append({"field": "assignee", "message": f"{username!r} is not an active staff member"})
        return None
    return found


def of_case(user: User, case_id: int) -> list[InternalTask]:
    require_staff(user, "case")
    visible_case(user, case_id)
    return list(db.session.scalars(select(InternalTask).where(InternalTask.case_id == case_id)
                                   .order_by(InternalTask.id)))


def listing(user: User, filters: dict[str, Any], page: int, per_page: int) -> Page:
    """Internal tasks (state, assignee: a username or 'me', maintenance only), oldest due first."""
    require_staff(user, "internal task")
    query = select(InternalTask)
    if filters.get("state"):
        query = query.where(InternalTask.state == filters["state"])
    if filters.get("assignee"):
        name = user.username if filters["assignee"] == "me" else filters["assignee"]
        query = query.join(User, InternalTask.assignee_id == User.id).where(User.username == name)
    if filters.get("maintenance"):
        query = query.where(InternalTask.schedule_id.is_not(None))
    return paginate(query.order_by(InternalTask.due_on.is_(None), InternalTask.due_on, InternalTask.id), page,
                    per_page)


def get(user: User, task_id: int) -> InternalTask:
    require_staff(user, "internal task")
    task = db.session.get(InternalTask, task_id)
    if task is None:
        raise NotFound(f"internal task {task_id} not found", resource="internal_task", id=task_id)
    return task


@use_case
def create(user: User, case_id: int, fields: dict[str, Any]) -> InternalTask:
    require_staff(user, "case")
    case = visible_case(user, case_id)
    errors: list[dict[str, Any]] = []
    assignee = _staff_user(fields.get("assignee"), errors)
    if errors:
        raise ValidationFailed("the internal task cannot be created", errors)
    task = InternalTask(case_id=case.id, title=fields["title"], description=fields.get("description"),
                        assignee=assignee, due_on=fields.get("due_on"), state="open", created_by_id=user.id,
                        created_at=utcnow())
    db.session.add(task)
    db.session.flush()
    events.record(case, "internal_task_created", user, public=False, task_id=task.id, title=task.title,
                  assignee=assignee.username if assignee else None)
    return task


@use_case
def update(user: User, task_id: int, fields: dict[str, Any], seen: int | None) -> InternalTask:
    """Reassign, or mark done with the time spent and the outcome (or reopen)."""
    task = get(user, task_id)
    check_seen("internal task", task.version, seen)
    errors: list[dict[str, Any]] = []
    if "assignee" in fields:
        task.assignee = _staff_user(fields["assignee"], errors) if fields["assignee"] else None
    state = fields.get("state")
    if state is not None and state not in STATES:
        errors.append({"field": "state", "message": f"one of {', '.join(STATES)}"})
    if state == "done":
        if not task.is_open:
            raise Conflict(f"internal task {task.id} is done already", code="task_done")
        if fields.get("minutes_spent") is None:
            errors.append({"field": "minutes_spent", "message": "say how long the task took (minutes)"})
    minutes = fields.get("minutes_spent")
    if minutes is not None and not 0 <= minutes <= MAX_MINUTES:
        errors.append({"field": "minutes_spent", "message": f"from 0 to {MAX_MINUTES}"})
    if errors:
        raise ValidationFailed("the internal task cannot be changed", errors)
    if minutes is not None:
        task.minutes_spent = minutes
    if "outcome" in fields:
        task.outcome = fields["outcome"]
    if state == "done":
        task.state, task.done_at = "done", utcnow()
    elif state == "open" and not task.is_open:
        task.state, task.done_at = "open", None
    if task.case is not None:
        events.record(task.case, "internal_task_done" if state == "done" else "internal_task_updated", user,
                      public=False, task_id=task.id, title=task.title,
                      assignee=task.assignee.username if task.assignee else None, minutes_spent=task.minutes_spent)
    return task
