"""Firing due timers: the scheduler's main job.

The ``timers`` table is the truth (written with the instance state in one transaction). Due
instances are fired in batches, **one transaction per batch** (``fire_batch``): one statement
locks the batch's instances, and what is due is read again after the lock is taken — a timer
another scheduler (or an earlier, crashed run) already fired is gone from the table by then, so it
fires exactly once (on PostgreSQL a second locker waits for the first to commit, or skips it under
``shared()``; on SQLite ``BEGIN IMMEDIATE`` queues the writers). Each instance fires inside a
SAVEPOINT of its own: one that fails rolls back alone, is marked ERROR (see incidents.py) in the
same transaction, and the others of its batch go on (the savepoints are only taken when a batch
failed as a whole: see ``fire_batch``). The batch commits once: a crash before that
commit leaves nothing of the batch committed, and every instance of it fires (once) in the next
run.

``fire_due`` works batch after batch until nothing due is left, so a burst of thousands of timers
due at the same instant is drained in one run.

A scheduler runs ``fire_due`` under ``fenced_by(lease.fence)`` (leader.py): each firing
transaction calls the fence just before it commits, and a fence that raises ``leader.Fenced``
rolls that transaction (the whole batch) back and ends the run — a replaced leader fires nothing.

Several scheduler processes fire side by side under ``shared()``: an instance another one is
firing is skipped (``SELECT ... FOR UPDATE SKIP LOCKED``) instead of waited for, so each takes
the next free ones and none fires what another holds.
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
from cases.core.db import db, unit_of_work, write_changed_rows
from cases.core.models import Case, Task, utcnow
from cases.process import incidents
from cases.process.after_step import prime_open_tasks, prime_timers, synchronise
from cases.process.lease import Fenced
from cases.process.locking import lock_instance
from cases.process.models import InstanceStatus, ProcessInstance, Timer
from cases.process.runs import load_run
from cases.sla import clock as sla
from cases.sla.models import SlaTarget

log = logging.getLogger("caseflow.timers")

#: Errors that say nothing about the instance (a lock wait gave up, a deadlock, the connection
#: dropped, a writer that forgot to lock): the instance is left for the next run, not marked.
TRANSIENT = (OperationalError, StaleDataError)

#: what a batch's steps change row by row: written before its flush, a statement per set of changed
#: columns (``write_changed_rows``: the flush would send one UPDATE per instance and per task, the
#: version checked, and group SLA targets only when neighbours changed the same columns)
BATCH_WRITTEN = (ProcessInstance, Case, Task, SlaTarget)

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


class BatchResult:
    """What one firing transaction did: ``fired`` ``{instance_id: [element ids]}``, the instances
    that failed (marked ERROR in the same transaction) and those left for the next run."""

    def __init__(self) -> None:
        self.fired: dict[int, list[str]] = {}
        self.failed: list[int] = []
        self.deferred: list[int] = []


def claim(instance_ids: list[int]) -> list[ProcessInstance]:
    """Lock the running ones of ``instance_ids`` in one statement, in id order (two batches that
    overlap lock in the same order: no deadlock between firing processes). Under ``shared()`` the
    ones another transaction holds are skipped (``SKIP LOCKED``) instead of waited for."""
    query = (select(ProcessInstance)
             .where(ProcessInstance.id.in_(instance_ids), ProcessInstance.status == InstanceStatus.RUNNING.value)
             .order_by(ProcessInstance.id)
             .with_for_update(of=ProcessInstance, skip_locked=_skip_locked.get()))
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def fire_step(instance: ProcessInstance, case: Case, now: datetime) -> list[str]:
    """Fire what is due on one locked instance (inside its savepoint); the element ids that fired."""
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
    return fired


def fire_batch(instance_ids: list[int], now: datetime, should_stop: Callable[[], bool] | None = None) -> BatchResult:
    """Fire what is due on ``instance_ids`` in **one transaction**: one statement locks them, one
    reads their timers *after* the lock (what another scheduler fired meanwhile is gone), one
    their cases, one their open tasks, three their SLA rows (what each step reads of them, primed
    for it: cases/core/db.py ``prime_rows``); the fence is called once, just before the one commit. A
    crash, or a fence that raises, before that commit leaves nothing of the batch committed and
    every instance of it due again. ``should_stop`` is asked between instances: the batch then
    commits what it has fired.

    First every instance steps and the batch's writes go in one flush (grouped statements). If
    anything of that fails — one instance's step, or a statement of the flush — the transaction
    is rolled back and the batch fired again **with a SAVEPOINT per instance**: the one that fails
    rolls back alone and is marked ERROR in the batch's transaction (a transient database error
    leaves just it for the next run), the others fire and commit."""
    try:
        return _fire_batch(instance_ids, now, should_stop, careful=False)
    except Fenced:
        raise
    except Exception as exc:
        log.info("a batch of %d instance(s) failed as a whole (%s): firing it again, a savepoint per instance",
                 len(instance_ids), exc)
        return _fire_batch(instance_ids, now, should_stop, careful=True)


def _fire_batch(instance_ids: list[int], now: datetime, should_stop: Callable[[], bool] | None,
                careful: bool) -> BatchResult:
    result = BatchResult()
    with unit_of_work():
        instances = claim(instance_ids)
        if not instances:
            return result  # fired by another, failed meanwhile, or held elsewhere
        locked = [i.id for i in instances]
        timer_rows: dict[int, list[Timer]] = {instance_id: [] for instance_id in locked}
        for row in db.session.scalars(select(Timer).where(Timer.instance_id.in_(locked))
                                      .execution_options(populate_existing=True)):
            timer_rows[row.instance_id].append(row)
        firing = [i for i in instances if any(row.due_at < now for row in timer_rows[i.id])]
        if not firing:
            return result
        cases = {c.id: c for c in db.session.scalars(
            select(Case).where(Case.id.in_({i.case_id for i in firing})).execution_options(populate_existing=True))}
        # every step reads its instance's timer and open task rows and its case's SLA rows: all of
        # them read here, for the whole batch (the timers with the due check above)
        prime_timers({i.id: timer_rows[i.id] for i in firing})
        prime_open_tasks([i.id for i in firing])
        sla.read_ahead(sorted(cases))
        for instance in firing:
            if should_stop and should_stop():
                break
            instance_id = instance.id
            if not careful:
                fired = fire_step(instance, cases[instance.case_id], now)  # any failure: the batch again, carefully
            else:
                try:
                    with db.session.begin_nested():  # SAVEPOINT: this instance's writes, released or rolled back alone
                        fired = fire_step(instance, cases[instance.case_id], now)
                except TRANSIENT as exc:
                    log.warning("timer on instance %s left for the next run: %s", instance_id, exc)
                    result.deferred.append(instance_id)
                    continue
                except Exception as exc:
                    log.exception("timer on instance %s failed", instance_id)
                    incidents.record_failure(instance_id, exc)  # joins this transaction
                    result.failed.append(instance_id)
                    continue
            if fired:
                result.fired[instance_id] = fired
        if not careful:  # the rows every step changes, one executemany per set of changed columns
            write_changed_rows([o for o in db.session.dirty if isinstance(o, BATCH_WRITTEN)])
        db.session.flush()  # the rest of the batch's writes, statements of a kind grouped
        fence = _fence.get()
        if fence is not None:
            fence()  # raises Fenced: the whole batch rolls back, nothing fired
    return result


def fire_instance(instance_id: int, now: datetime) -> list[str]:
    """Fire what is due on one instance (a batch of one); returns the element ids of the timers
    that fired. A failure raises (nothing is marked): the caller decides."""
    with unit_of_work():
        instances = claim([instance_id]) if _skip_locked.get() else [lock_instance(id=instance_id)]
        if not instances or instances[0].status != InstanceStatus.RUNNING.value:
            return []
        instance = instances[0]
        if db.session.scalar(select(Timer.id).where(Timer.instance_id == instance.id, Timer.due_at < now)
                             .limit(1)) is None:
            return []
        case = db.session.get(Case, instance.case_id, populate_existing=True)
        if case is None:
            return []
        fired = fire_step(instance, case, now)
        fence = _fence.get()
        if fence is not None:
            fence()
        return fired


def fire_due(now: datetime | None = None, batch_size: int = 100,
             should_stop: Callable[[], bool] | None = None,
             on_backlog: Callable[[], None] | None = None) -> FiringReport:
    """Fire every due timer, ``batch_size`` instances per transaction (``fire_batch``), until none
    is left.

    ``now``: fire what is due at that instant (default: the clock, read again for each batch, so
    timers that come due during a long burst join it). The run walks the due instances in
    (due, id) order with a cursor, so it always ends and tries an instance once per position; a
    timer that comes due behind the cursor is the next run's. A failing instance is marked ERROR
    with the reason and does not stop the rest of its batch; a transient database error leaves it
    (or, outside its savepoint — the lock, the commit —, its whole batch) for the next run.
    ``should_stop`` is asked between instances (a scheduler shutting down commits the batch at
    hand so far and stops; what is left stays due). A fence that fails raises ``Fenced`` out of
    the run, its batch rolled back. ``on_backlog`` is called once, the first time a batch comes back
    full (more may be due than one batch: the leader then wakes its firing workers)."""
    report = FiringReport()
    backlog_told = on_backlog is None
    cursor: tuple[datetime, int] | None = None
    while not (should_stop and should_stop()):
        batch = due_instances(now or utcnow(), batch_size, cursor)
        if not batch:
            break
        report.batches += 1
        cursor = (batch[-1][1], batch[-1][0])
        if not backlog_told and len(batch) >= batch_size:
            backlog_told = True
            assert on_backlog is not None
            on_backlog()
        ids = [instance_id for instance_id, _due in batch]
        try:
            result = fire_batch(ids, now or utcnow(), should_stop)
        except Fenced:
            raise  # no longer the leader: stop, leave everything due for the new one
        except TRANSIENT as exc:
            log.warning("timers on instances %s left for the next run: %s", ids, exc)
            report.deferred += ids
            continue
        report.update(result.fired)
        report.failed += result.failed
        report.deferred += result.deferred
    return report
