"""Running a piece of the service's own dated work as a process (issue 18): each visit and each
maintenance schedule gets a case of an internal kind (``visit``, ``maintenance``) of the service's own
organisation (``records.own_organisation``), running its process (processes/service_visit.bpmn,
processes/maintenance_schedule.bpmn). The row that owns the work (a visit, a schedule) names its case
(``process_case_id``); a change of the row is told to the waiting process as a message the process
catches (``visit_changed``, ``schedule_changed``; only caseflow sends them), after which the process
reads the row again and waits for what is next, so a moved date moves the timer and a cancellation
ends the process. One case per process: a case holds one process instance
(``process_instances.case_id`` is unique), as risk reviews, follow-up programmes and complaints do."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select

from cases.casework import intake
from cases.casework.tasks import deliver_message
from cases.core.db import db, unit_of_work
from cases.core.models import Case, Task, TaskState, User
from cases.customers import records
from cases.process.deploy import current_version


def start(process_id: str, kind: str, owner: User | None, actor: User | None, title: str, description: str,
          data: dict[str, Any]) -> Case | None:
    """Start ``process_id`` as a case of ``kind`` of the own organisation, owned by ``owner``, in the
    caller's unit of work. None when no deployed version has the process (an installation whose active
    files predate it): the scheduler's service job starts it once one has."""
    if current_version(process_id) is None:
        return None
    case = intake.start_case(records.own_organisation(), actor if actor is not None and actor.is_staff else None,
                             {"channel": "internal", "title": title[:200], "description": description},
                             kind=kind, data=data)
    if owner is not None:
        case.owner, case.owner_id = owner, owner.id
    return case


def deployed(process_id: str) -> bool:
    """Whether a deployed version has ``process_id`` (else rows wait for the service job)."""
    return current_version(process_id) is not None


def running(case: Case | None) -> bool:
    return case is not None and case.is_open


def tell(case: Case | None, message: str, payload: dict[str, Any], actor: User | None) -> bool:
    """Tell the running process of ``case`` that its row changed (the caller flushed the change);
    False when no process runs for it."""
    if not running(case):
        return False
    assert case is not None
    db.session.flush()
    deliver_message(case, actor if actor is not None and actor.is_staff else None, message, payload)
    return True


def open_task(case_id: int | None, element: str) -> Task | None:
    """The open user task ``element`` of the process case ``case_id``, if any."""
    if case_id is None:
        return None
    found: Task | None = db.session.scalar(select(Task).where(
        Task.case_id == case_id, Task.state == TaskState.OPEN.value, Task.element_id == element)
        .order_by(Task.created_at).limit(1))
    return found


def start_missing(model: Any, candidates: Select[Any], start_one: Callable[[Any], bool]) -> list[int]:
    """Start the process of each row of ``model`` whose id ``candidates`` selects, each in a unit of
    work of its own: the row is locked (a second scheduler's run skips it, ``SKIP LOCKED``) and
    ``start_one(row)`` starts its process when the row still needs one, saying whether it did. The
    ids started (the scheduler's service job, cases/service/due.py)."""
    ids = list(db.session.scalars(candidates))
    db.session.rollback()
    started = []
    for row_id in ids:
        with unit_of_work():
            row = db.session.scalar(select(model).where(model.id == row_id).with_for_update(skip_locked=True, of=model))
            if row is not None and start_one(row):
                started.append(row_id)
    return started
