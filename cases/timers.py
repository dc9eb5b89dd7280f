"""Firing due timers: the scheduler's one job.

The ``timers`` table is the truth (written with the instance state in one transaction). Each
due instance is fired in its own unit of work under the instance lock; firing is idempotent —
a timer the engine does not consider due yet stays, one already handled is gone from the table.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from . import events, incidents
from .db import db, unit_of_work
from .locking import lock_instance
from .models import Case, InstanceStatus, ProcessInstance, Timer, utcnow
from .runtime import load_run
from .sync import synchronise

log = logging.getLogger("caseflow.timers")


def due_instances(now: datetime, limit: int) -> list[int]:
    """Running instances with a due timer, the most overdue first (failed ones wait for a retry)."""
    rows = db.session.execute(
        select(Timer.instance_id, Timer.due_at).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.due_at <= now, ProcessInstance.status == InstanceStatus.RUNNING.value)
        .order_by(Timer.due_at).limit(limit * 4)
    ).all()
    db.session.rollback()
    seen: list[int] = []
    for instance_id, _due in rows:
        if instance_id not in seen:
            seen.append(instance_id)
    return seen[:limit]


def fire_instance(instance_id: int, now: datetime) -> list[str]:
    """Fire what is due on one instance; returns the element ids of the timers that fired."""
    with unit_of_work():
        instance = lock_instance(id=instance_id)
        before = {(t.element_id, t.due_at) for t in db.session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.due_at <= now))}
        if not before or instance.status != InstanceStatus.RUNNING.value:
            return []
        case = db.session.get(Case, instance.case_id)
        run = load_run(instance, case, None)
        waiting = {(w.element_id, w.due_at) for w in run.waiting() if w.kind == "timer"}
        run.fire_due_timers()
        still = {(w.element_id, w.due_at) for w in run.waiting() if w.kind == "timer"}
        fired = sorted({element for element, due in waiting - still if due <= now})
        for element in fired:
            events.record(case, "timer_fired", None, element=element)
        synchronise(case, instance, run, None)
        return fired


def fire_due(now: datetime | None = None, limit: int = 100) -> dict[int, list[str]]:
    """Fire every due timer (up to ``limit`` instances). A failing instance is marked ERROR with
    the reason (see incidents.py) and does not stop the rest."""
    now = now or utcnow()
    fired: dict[int, list[str]] = {}
    for instance_id in due_instances(now, limit):
        try:
            result = fire_instance(instance_id, now)
        except Exception as exc:  # noqa: BLE001 - one broken instance must not stop the others
            log.exception("timer on instance %s failed", instance_id)
            incidents.record_failure(instance_id, exc)
            continue
        if result:
            fired[instance_id] = result
    return fired
