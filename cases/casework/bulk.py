"""Supervisors act on several inbox rows at once: claim them, reassign them to a colleague, or change
their cases' priority. Each row is its own use case and transaction (one refused row changes nothing
of the others), and each row's result is reported. A row carries the task version the page showed:
a task changed since (claimed, done, moved on) is reported as stale and left as it is."""
from __future__ import annotations

from dataclasses import dataclass

from cases.casework import escalations
from cases.casework import tasks as work
from cases.core import events
from cases.core.access import require_role, visible_task
from cases.core.db import use_case
from cases.core.errors import Conflict, DomainError, PreconditionRequired, ValidationFailed
from cases.core.models import PRIORITIES, Role, Task, User
from cases.process.locking import load_task
from cases.process.taskrules import CUSTOMER_LANE, can_work_on

ACTIONS = ("claim", "reassign", "priority")
#: who acts on several rows at once
BULK_ROLES = (Role.SUPERVISOR.value,)
MAX_ROWS = 100

#: a row's outcome: done, stale (changed since the page showed it: not overwritten), refused
DONE, STALE, REFUSED = "done", "stale", "refused"


@dataclass(frozen=True)
class Row:
    """One selected inbox row: the task and the version the page showed."""

    task_id: str
    version: int | None


@dataclass(frozen=True)
class Result:
    task_id: str
    case_number: str | None
    outcome: str  # DONE | STALE | REFUSED
    code: str  # the domain's error code ("stale_version", "task_not_open", …) or "done"
    detail: str = ""


@use_case
def assign(user: User, task_id: str, version: int | None, username: str) -> Task:
    """A supervisor gives an open task to a colleague whose roles include its lane."""
    require_role(user, *BULK_ROLES)
    task = visible_task(user, task_id, load_task(task_id, lock=True))
    if version is None:
        raise PreconditionRequired("send the task version you saw")
    if version != task.version:
        raise Conflict(f"task {task.id} changed since version {version}", code="stale_version",
                       current_version=task.version)
    if not task.is_open:
        raise Conflict(f"task {task.id} is {task.state}", code="task_not_open", state=task.state)
    target = escalations.user_named(username)
    if task.lane == CUSTOMER_LANE or not can_work_on(target, task):
        raise ValidationFailed(f"{target.username} may not work on this task",
                               [{"field": "username", "message": f"lacks the lane {task.lane}"}])
    previous = task.assignee.username if task.assignee else None
    task.assignee, task.assignee_id = target, target.id
    events.record(task.case, "task_assigned", user, public=False, task_id=task.id, element=task.element_id,
                  previous=previous, assignee=target.username)
    return task


@use_case
def prioritise(user: User, task_id: str, version: int | None, priority: str, reason: str) -> Task:
    """Change the priority of the task's case, if the task is as the page showed it."""
    require_role(user, *BULK_ROLES)
    task = visible_task(user, task_id, load_task(task_id, lock=True))
    if version is None:
        raise PreconditionRequired("send the task version you saw")
    if version != task.version:
        raise Conflict(f"task {task.id} changed since version {version}", code="stale_version",
                       current_version=task.version)
    escalations.change_priority(user, task.case_id, priority, reason)
    return task


def run(user: User, action: str, rows: list[Row], username: str | None = None, priority: str | None = None,
        reason: str | None = None) -> list[Result]:
    """Do ``action`` on every row, each in its own transaction; one Result per row, in order."""
    require_role(user, *BULK_ROLES)
    if action not in ACTIONS:
        raise ValidationFailed("unknown action", [{"field": "action", "message": f"one of {', '.join(ACTIONS)}"}])
    if not rows:
        raise ValidationFailed("no rows", [{"field": "rows", "message": "choose at least one row"}])
    if len(rows) > MAX_ROWS:
        raise ValidationFailed("too many rows", [{"field": "rows", "message": f"at most {MAX_ROWS}"}])
    if action == "reassign" and not username:
        raise ValidationFailed("no colleague", [{"field": "username", "message": "required"}])
    if action == "priority":
        if priority not in PRIORITIES:
            raise ValidationFailed("unknown priority", [{"field": "priority", "message": "required"}])
        if not (reason or "").strip():
            raise ValidationFailed("no reason", [{"field": "reason", "message": "required"}])
    results = []
    for row in rows:
        number = _case_number(user, row.task_id)
        try:
            if action == "claim":
                work.claim(user, row.task_id, row.version)
            elif action == "reassign":
                assign(user, row.task_id, row.version, username or "")
            else:
                prioritise(user, row.task_id, row.version, priority or "", reason or "")
        except Conflict as exc:
            results.append(Result(row.task_id, number, STALE, exc.code or "conflict", exc.message))
        except DomainError as exc:
            results.append(Result(row.task_id, number, REFUSED, getattr(exc, "code", "") or "refused", exc.message))
        else:
            results.append(Result(row.task_id, number, DONE, "done"))
    return results


def _case_number(user: User, task_id: str) -> str | None:
    try:
        return visible_task(user, task_id).case.number
    except DomainError:
        return None
