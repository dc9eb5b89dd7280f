"""Supervisors act on several inbox rows at once: claim them, reassign them to a colleague, or change
their cases' priority; and on several case-list rows: take them over, give them to a colleague, change
their priority. Each row is its own use case and transaction (one refused row changes nothing
of the others), and each row's result is reported. A row carries the task version the page showed:
a task changed since (claimed, done, moved on) is reported as stale and left as it is."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases.casework import escalations
from cases.casework import tasks as work
from cases.core import events
from cases.core.access import require_role, visible_case, visible_task
from cases.core.db import use_case
from cases.core.errors import Conflict, DomainError, PreconditionRequired, ValidationFailed
from cases.core.models import PRIORITIES, Case, Role, Task, User
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
    _check_rows(rows, action, username, priority, reason)
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


@dataclass(frozen=True)
class CaseRow:
    """One selected case-list row: the case, and its priority and owner (user name, "" for none) as
    the page showed them; a case whose priority or owner changed since is stale."""

    case_id: int
    priority: str
    owner: str


CASE_ACTIONS = ("take_over", "reassign", "priority")


@use_case
def act_on_case(user: User, row: CaseRow, action: str, username: str | None, priority: str | None,
                reason: str | None) -> Case:
    """One case-list row: take it over, give it to a colleague, or change its priority (the escalation
    board's use cases), if it is as the page showed it."""
    require_role(user, *BULK_ROLES)
    case = visible_case(user, row.case_id)
    if not case.is_open:
        raise Conflict(f"case {case.id} is closed", code="case_closed")
    owner = case.owner.username if case.owner else ""
    if (case.priority or "") != row.priority or owner != row.owner:
        raise Conflict(f"case {case.id} changed since the page showed it", code="stale_version")
    if action == "take_over":
        return escalations.take_over(user, case.id, reason or None)
    if action == "reassign":
        return escalations.reassign(user, case.id, username or "", reason or None)
    return escalations.change_priority(user, case.id, priority or "", reason or "")


def run_cases(user: User, action: str, rows: list[CaseRow], username: str | None = None,
              priority: str | None = None, reason: str | None = None) -> list[Result]:
    """Do ``action`` on every case row, each in its own transaction; one Result per row, in order
    (``task_id`` holds the case id)."""
    require_role(user, *BULK_ROLES)
    if action not in CASE_ACTIONS:
        raise ValidationFailed("unknown action", [{"field": "action", "message": f"one of {', '.join(CASE_ACTIONS)}"}])
    _check_rows(rows, action, username, priority, reason)
    results = []
    for row in rows:
        try:
            number = visible_case(user, row.case_id).number
        except DomainError:
            number = None
        try:
            act_on_case(user, row, action, username, priority, reason)
        except Conflict as exc:
            results.append(Result(str(row.case_id), number, STALE, exc.code or "conflict", exc.message))
        except DomainError as exc:
            results.append(Result(str(row.case_id), number, REFUSED, getattr(exc, "code", "") or "refused",
                                  exc.message))
        else:
            results.append(Result(str(row.case_id), number, DONE, "done"))
    return results


def _check_rows(rows: list[Any], action: str, username: str | None, priority: str | None, reason: str | None) -> None:
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
