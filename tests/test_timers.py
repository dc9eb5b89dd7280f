"""Timers: written with the instance state, fired by the scheduler's job, never lost or doubled.

The engine reads the wall clock itself, so these tests move the clock with freezegun instead of
sleeping.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time
from sqlalchemy import select

from api import scheduler
from cases import timers
from cases.db import db
from cases.models import CaseEvent, Task, Timer
from tests.helpers import get_case, only_task, open_case, step

WAIT = timedelta(days=7)


def _case_at_confirm(api, world) -> dict:
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    assert only_task(api, case["id"])["element_id"] == "confirm"
    return case


def _timers(case_id: int) -> list[Timer]:
    db.session.rollback()
    return list(db.session.scalars(select(Timer).where(Timer.case_id == case_id)))


def test_waiting_for_confirmation_writes_a_due_timer(api, world):
    before = datetime.now(timezone.utc)
    case = _case_at_confirm(api, world)
    [timer] = _timers(case["id"])
    assert timer.element_id == "confirm_timeout"
    assert before + WAIT <= timer.due_at <= datetime.now(timezone.utc) + WAIT
    step(api, case["id"], "confirm")  # answered in time: the timer is gone
    assert _timers(case["id"]) == []


def test_a_due_timer_fires_once_and_moves_the_case(api, world):
    case = _case_at_confirm(api, world)
    [timer] = _timers(case["id"])
    assert timers.fire_due() == {}  # not due yet: nothing happens
    with freeze_time(timer.due_at + timedelta(minutes=1)):
        fired = timers.fire_due()
        assert list(fired.values()) == [["confirm_timeout"]]
        assert timers.fire_due() == {}  # idempotent: a second run finds nothing
    after = get_case(api, case["id"])
    assert [t["element_id"] for t in after["tasks"]] == ["callback"]
    kinds = [e["kind"] for e in after["history"]]
    assert kinds.count("timer_fired") == 1 and "task_cancelled" in kinds
    confirm = db.session.scalar(select(Task).where(Task.case_id == case["id"], Task.element_id == "confirm"))
    assert confirm.state == "cancelled"
    assert _timers(case["id"]) == []


def test_timers_that_came_due_while_no_scheduler_ran_fire_on_its_first_run(app, api, world):
    cases = [_case_at_confirm(api, world) for _ in range(3)]
    latest = max(t.due_at for c in cases for t in _timers(c["id"]))
    with freeze_time(latest + timedelta(days=1)):
        result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    for case in cases:
        assert only_task(api, case["id"])["element_id"] == "callback"


def test_the_scheduler_job_fires_timers(app, api, world):
    case = _case_at_confirm(api, world)
    [timer] = _timers(case["id"])
    app.config["TIMER_POLL_SECONDS"] = 0.2
    with freeze_time(timer.due_at + timedelta(minutes=1), tick=True):
        background = scheduler.build(app, BackgroundScheduler)
        assert [job.id for job in background.get_jobs()] == ["fire-due-timers"]
        background.start()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                db.session.rollback()  # end the read snapshot: the job commits in another thread
                fired = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case["id"],
                                                                  CaseEvent.kind == "timer_fired"))
                if fired is not None:
                    break
                time.sleep(0.1)
        finally:
            background.shutdown(wait=True)
    assert fired is not None, "the scheduler did not fire the due timer"
    assert only_task(api, case["id"])["element_id"] == "callback"
