"""Firing due timers: the scheduler's main job.

The ``timers`` table is the truth (written with the instance state in one transaction). Each
due instance is fired in its own unit of work under the instance lock, and what is due is read
again after the lock is taken: a timer another scheduler (or an earlier, crashed run) already
fired is gone from the table by then, so it fires exactly once — on PostgreSQL the second
locker waits for the first to commit, on SQLite ``BEGIN IMMEDIATE`` queues the writers.

``fire_due`` works in batches until nothing due is left, so a burst of thousands of timers due
at the same instant is drained in one run; an instance that fails is marked ERROR (see
incidents.py) and the others go on.

A scheduler runs ``fire_due`` under ``fenced_by(lease.fence)`` (leader.py): each firing
transaction calls the fence just before it commits, and a fence that raises ``leader.Fenced``
rolls that transaction back and ends the run — a replaced leader fires nothing.

Several scheduler processes fire side by side under ``shared()``: an instance another one is
firing is skipped (``SELECT ... FOR UPDATE SKIP LOCKED``) instead of waited for, so each takes
the next free one and none fires what another holds.
"""
from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from cases.core import events
from cases.core.db import db, unit_of_work
from cases.core.models import Case, utcnow
from cases.process import incidents
from cases.process.after_step import synchronise
from cases.process.lease import Fenced
from cases.process.locking import lock_instance, try_lock_instance
from cases.process.models import InstanceStatus, ProcessInstance, Timer
from cases.process.runs import load_run

log = logging.getLogger("caseflow.timers")

#: Errors that say nothing about the instance (a lock wait gave up, a deadlock, the connection
#: dropped, a writer that forgot to lock): the instance is left for the next run, not marked.
TRANSIENT = (OperationalError, StaleDataError)

_fence: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("timer_fence", default=None)


_skip_locked: contextvars.ContextVar[bool] = contextvars.ContextVar("timer_skip_locked", default=False)


@contextmanager
def shared() -> Iterator[None]:
    """Firing in this block skips instances locked by another transaction (another firing process,
    or a request working on the instance: its timer is the next run's)."""
    token = _skip_locked.set(True)
    try:
        yield
    finally:
        _skip_locked.reset(token)


@contextmanager
def fenced_by(fence: Callable[[], None] | None) -> Iterator[None]:
    """Firing transactions started in this block call ``fence()`` before they commit."""
    token = _fence.set(fence)
    try:
        yield
    finally:
        _fence.reset(token)


class FiringReport(dict):
    """``{instance_id: [element ids of the timers that fired]}`` of one ``fire_due`` run, plus
    the instances that failed (now ERROR), the ones left for the next run, and the batch count."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: list[int] = []
        self.deferred: list[int] = []
        self.batches = 0

    @property
    def timers_fired(self) -> int:
        return sum(len(elements) for elements in self.values())


def due_instances(now: datetime, limit: int, after: tuple[datetime, int] | None = None) -> list[tuple[int, datetime]]:
    """Up to ``limit`` running instances with a timer due at ``now``, as ``(instance id, earliest
    due)``, the most overdue first; ``after``: only those that sort after that pair (the cursor
    of a run). Failed instances wait for an operator's retry; the engine compares strictly."""
    due = (select(Timer.instance_id.label("instance_id"), func.min(Timer.due_at).label("due"))
           .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
           .where(Timer.due_at < now, ProcessInstance.status == InstanceStatus.RUNNING.value)
           .group_by(Timer.instance_id).subquery())
    query = select(due.c.instance_id, due.c.due).order_by(due.c.due, due.c.instance_id).limit(limit)
    if after is not None:
        query = query.where(or_(due.c.due > after[0], and_(due.c.due == after[0], due.c.instance_id > after[1])))
    rows = [(instance_id, at) for instance_id, at in db.session.execute(query)]
    db.session.rollback()  # a read only: hold no snapshot (nor SQLite's read lock) while firing
    return rows


def next_due() -> datetime | None:
    """When the earliest timer of a running instance is due (None: no timer at all)."""
    due = db.session.scalar(select(func.min(Timer.due_at))
                            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                            .where(ProcessInstance.status == InstanceStatus.RUNNING.value))
    db.session.rollback()
    return due


def fire_instance(instance_id: int, now: datetime) -> list[str]:
    """Fire what is due on one instance; returns the element ids of the timers that fired."""
    with unit_of_work():
        if _skip_locked.get():
            instance = try_lock_instance(instance_id)
            if instance is None:
                return []  # another process is on it (or it is gone)
        else:
            instance = lock_instance(id=instance_id)
        # read after the lock: what another scheduler fired meanwhile is no longer here
        before = {(t.element_id, t.due_at) for t in db.session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.due_at < now))}
        if not before or instance.status != InstanceStatus.RUNNING.value:
            return []
        case = db.session.get(Case, instance.case_id, populate_existing=True)
        run = load_run(instance, case, None)
        waiting = {(w.element_id, w.due_at) for w in run.waiting() if w.kind == "timer"}
        run.fire_due_timers()
        still = {(w.element_id, w.due_at) for w in run.waiting() if w.kind == "timer"}
        # the engine compares with its own clock: what was due by then and is gone has fired
        clock = max(now, utcnow())
        fired = sorted({element for element, due in waiting - still if due is not None and due <= clock})
        for element in fired:
            events.record(case, "timer_fired", None, element=element)
        synchronise(case, instance, run, None)
        fence = _fence.get()
        if fence is not None:
            fence()  # raises Fenced: rolled back, nothing fired
        return fired


def fire_due(now: datetime | None = None, batch_size: int = 100,
             should_stop: Callable[[], bool] | None = None) -> FiringReport:
    """Fire every due timer, ``batch_size`` instances per query, until none is left.

    ``now``: fire what is due at that instant (default: the clock, read again for each batch, so
    timers that come due during a long burst join it). The run walks the due instances in
    (due, id) order with a cursor, so it always ends and tries an instance once per position; a
    timer that comes due behind the cursor is the next run's. A failing instance is marked ERROR
    with the reason and does not stop the rest; a transient database error leaves it for the
    next run. ``should_stop`` is asked between instances (a scheduler shutting down stops after
    the instance at hand; what is left stays due). A fence that fails raises ``Fenced`` out of
    the run."""
    report = FiringReport()
    cursor: tuple[datetime, int] | None = None
    while not (should_stop and should_stop()):
        batch = due_instances(now or utcnow(), batch_size, cursor)
        if not batch:
            break
        report.batches += 1
        for instance_id, due in batch:
            if should_stop and should_stop():
                break
            cursor = (due, instance_id)
            try:
                result = fire_instance(instance_id, now or utcnow())
            except Fenced:
                raise  # no longer the leader: stop, leave everything due for the new one
            except TRANSIENT as exc:
                log.warning("timer on instance %s left for the next run: %s", instance_id, exc)
                report.deferred.append(instance_id)
                continue
            except Exception as exc:
                log.exception("timer on instance %s failed", instance_id)
                incidents.record_failure(instance_id, exc)
                report.failed.append(instance_id)
                continue
            if result:
                report[instance_id] = result
    return report
