"""Timers: written with the instance state, fired in batches (one transaction each, a savepoint per
instance) until none is due, each exactly once — after a crash between or inside batches, with two
schedulers at once, after downtime; an instance that fails rolls back alone.

The engine reads the wall clock itself, so these tests move the clock with freezegun instead of
sleeping. Many-instance tests use a one-timer process (``TIMER_BPMN``) deployed as the support
process: a case is one use-case call, and its timer is due a day after it opened.
"""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from sqlalchemy import event, insert, select, update

from cases.casework import intake
from cases.core.db import db
from cases.core.models import CaseEvent, Task
from cases.process import timers
from cases.process.deploy import deploy
from cases.process.models import ProcessInstance, Timer
from server.cli import main
from tests.helpers import get_case, only_task, open_case, step

WAIT = timedelta(days=7)

#: start -> wait a day (timer) -> end
TIMER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="timer_definitions"
                  targetNamespace="http://caseflow.example/bpmn">
  <bpmn:process id="support_case" name="Wait a day" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="A day later">
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_waited</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer"><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f_waited" sourceRef="wait" targetRef="done" />
    <bpmn:endEvent id="done"><bpmn:incoming>f_waited</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


class Crash(BaseException):
    """Fault injection: what a killed process looks like to the code after the failure point —
    nothing after it runs, nothing catches it (not an Exception)."""


def timer_cases(world, count: int) -> list[int]:
    """``count`` cases of the one-timer process, opened with the real use case; their instance ids."""
    agent = world.user("agent1")
    fields = {"customer_id": world.customers["ACME"].id, "channel": "web", "title": "Wait", "description": "a day"}
    cases = [intake.open_case(agent, fields) for _ in range(count)]
    ids = [db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == c.id)) for c in cases]
    db.session.rollback()
    return ids


def latest_due() -> datetime:
    db.session.rollback()
    return max(db.session.scalars(select(Timer.due_at)))


def fired_per_instance() -> Counter:
    """How many timer_fired events each instance's case has."""
    db.session.rollback()
    rows = db.session.execute(select(ProcessInstance.id).join(CaseEvent, CaseEvent.case_id == ProcessInstance.case_id)
                              .where(CaseEvent.kind == "timer_fired"))
    return Counter(instance_id for (instance_id,) in rows)


@pytest.fixture
def timer_process(app_ctx, world, restore_active_version):
    deploy({"support_case.bpmn": TIMER_BPMN}, {})
    return world


def _case_at_confirm(api, world) -> dict:
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    assert only_task(api, case["id"])["element_id"] == "confirm"
    return case


def _timers(case_id: int, element: str = "confirm_timeout") -> list[Timer]:
    db.session.rollback()
    return list(db.session.scalars(select(Timer).where(Timer.case_id == case_id, Timer.element_id == element)))


def test_waiting_for_confirmation_writes_a_due_timer(api, world):
    before = datetime.now(timezone.utc)
    case = _case_at_confirm(api, world)
    [timer] = _timers(case["id"])
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


def test_timers_missed_while_no_scheduler_ran_fire_once_on_restart(app, api, world):
    cases = [_case_at_confirm(api, world) for _ in range(3)]
    latest = max(t.due_at for c in cases for t in _timers(c["id"]))
    runner = app.test_cli_runner()
    with freeze_time(latest + timedelta(days=1)):  # the scheduler was down for a day
        first = runner.invoke(main, args=["scheduler", "--once"])
        again = runner.invoke(main, args=["scheduler", "--once"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "confirm_timeout" in first.output and "fired: nothing due" in again.output
    db.session.rollback()
    for case in cases:
        assert only_task(api, case["id"])["element_id"] == "callback"
        assert [e["kind"] for e in get_case(api, case["id"])["history"]].count("timer_fired") == 1


def test_a_burst_is_fired_in_batches_until_nothing_is_due(timer_process):
    ids = timer_cases(timer_process, 23)
    commits: list[int] = []
    count_commit = lambda _conn: commits.append(1)
    event.listen(db.engine, "commit", count_commit)
    with freeze_time(latest_due() + timedelta(seconds=1)):
        try:
            report = timers.fire_due(batch_size=5)
        finally:
            event.remove(db.engine, "commit", count_commit)
        assert sorted(report) == sorted(ids) and set(map(tuple, report.values())) == {("wait",)}
        assert report.batches == 5 and report.failed == [] and report.deferred == []
        assert len(commits) == 5  # one transaction per batch
        assert timers.fire_due(batch_size=5) == {}
    assert fired_per_instance() == Counter(dict.fromkeys(ids, 1))
    assert db.session.scalar(select(Timer.id)) is None


def test_timers_due_later_than_the_run_stay_and_next_due_says_when(timer_process):
    [early] = timer_cases(timer_process, 1)
    with freeze_time(datetime.now(timezone.utc) + timedelta(hours=1)):
        [late] = timer_cases(timer_process, 1)
    due = {i: db.session.scalar(select(Timer.due_at).where(Timer.instance_id == i)) for i in (early, late)}
    assert timers.next_due() == due[early]
    with freeze_time(due[early] + timedelta(seconds=1)):
        assert timers.fire_due() == {early: ["wait"]}
        assert timers.next_due() == due[late]
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == late).values(status="error"))
    db.session.commit()
    assert timers.next_due() is None  # a failed instance waits for an operator, not the scheduler


def test_a_crash_between_batches_keeps_the_committed_batches_and_fires_the_rest_once(timer_process, monkeypatch):
    ids = timer_cases(timer_process, 12)
    real = timers.fire_batch
    committed: list[int] = []

    def crashes_before_the_third_batch(instance_ids, now, should_stop=None):
        # fault injection: the scheduler process dies after two batches were committed
        if len(committed) == 8:
            raise Crash()
        result = real(instance_ids, now, should_stop)
        committed.extend(result.fired)
        return result

    with freeze_time(latest_due() + timedelta(seconds=1)):
        monkeypatch.setattr(timers, "fire_batch", crashes_before_the_third_batch)
        with pytest.raises(Crash):
            timers.fire_due(batch_size=4)
        assert fired_per_instance() == Counter(dict.fromkeys(committed, 1))
        monkeypatch.setattr(timers, "fire_batch", real)  # the restarted scheduler
        report = timers.fire_due(batch_size=4)
    assert sorted(report) == sorted(set(ids) - set(committed))
    assert fired_per_instance() == Counter(dict.fromkeys(ids, 1))


@pytest.mark.parametrize("where", ["in the third instance's step", "after the last instance, before the commit"])
def test_a_crash_mid_batch_commits_nothing_of_it_and_every_instance_fires_once_after_restart(
        timer_process, monkeypatch, where):
    ids = timer_cases(timer_process, 12)
    real_synchronise = timers.synchronise
    synchronised: list[int] = []

    def crashes_in_the_second_batch(case, instance, run, actor):
        # fault injection: the process dies after the engine fired, before the batch's commit
        if len(synchronised) == 4 + 2:
            raise Crash()
        synchronised.append(instance.id)
        return real_synchronise(case, instance, run, actor)

    def fence():
        if len(synchronised) == 8:  # the second batch fired all its instances in their savepoints
            raise Crash()

    with freeze_time(latest_due() + timedelta(seconds=1)):
        if where.startswith("in"):
            monkeypatch.setattr(timers, "synchronise", crashes_in_the_second_batch)
            with pytest.raises(Crash):
                timers.fire_due(batch_size=4)
        else:
            monkeypatch.setattr(timers, "synchronise", lambda *a: synchronised.append(a[1].id) or real_synchronise(*a))
            with timers.fenced_by(fence), pytest.raises(Crash):
                timers.fire_due(batch_size=4)
        first_batch, second_batch = synchronised[:4], synchronised[4:]
        assert second_batch, "the crash came before the second batch fired anything"
        db.session.rollback()
        # the first batch committed; of the second one nothing: its timers are all still due
        assert fired_per_instance() == Counter(dict.fromkeys(first_batch, 1))
        still_due = set(db.session.scalars(select(Timer.instance_id)))
        assert still_due == set(ids) - set(first_batch) and set(second_batch) <= still_due
        monkeypatch.setattr(timers, "synchronise", real_synchronise)  # the restarted scheduler
        report = timers.fire_due(batch_size=4)
    assert sorted(report) == sorted(set(ids) - set(first_batch))
    assert fired_per_instance() == Counter(dict.fromkeys(ids, 1))
    assert db.session.scalar(select(Timer.id)) is None


@pytest.mark.parametrize("failure", ["the engine step raises", "a statement fails after the step wrote"])
def test_a_failing_instance_in_a_batch_rolls_back_alone_and_the_others_fire(timer_process, monkeypatch, failure):
    ids = timer_cases(timer_process, 6)
    bad = ids[2]
    real = timers.fire_step

    def breaks_one(instance, case, now):
        if instance.id != bad:
            return real(instance, case, now)
        if failure.startswith("the engine"):
            raise TypeError("not an engine error")
        fired = real(instance, case, now)  # its event, task and timer rows are written (flushed below) ...
        db.session.flush()
        db.session.execute(insert(Timer).values(instance_id=-1, case_id=-1, element_id="x",  # ... then a DB error
                                                due_at=datetime.now(timezone.utc), alarm=False))
        return fired

    monkeypatch.setattr(timers, "fire_step", breaks_one)
    with freeze_time(latest_due() + timedelta(seconds=1)):
        report = timers.fire_due(batch_size=10)
    assert report.batches == 1 and report.failed == [bad] and report.deferred == []
    assert sorted(report) == sorted(set(ids) - {bad})
    db.session.rollback()
    assert fired_per_instance() == Counter(dict.fromkeys(set(ids) - {bad}, 1))
    broken = db.session.get(ProcessInstance, bad)
    assert broken.status == "error" and broken.error_message
    assert db.session.scalar(select(Timer.instance_id).where(Timer.instance_id == bad)) == bad  # its step undone
    kinds = list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == broken.case_id)))
    assert "process_failed" in kinds and "timer_fired" not in kinds
    assert db.session.scalar(select(Timer.id).where(Timer.instance_id != bad)) is None


@pytest.mark.parametrize("shared", [False, True], ids=["waiting", "skip-locked"])
def test_two_schedulers_at_once_fire_each_timer_exactly_once(app, timer_process, monkeypatch, shared):
    ids = timer_cases(timer_process, 30)
    real = timers.fire_batch
    both_listed = threading.Barrier(2, timeout=30)
    tried: dict[str, list[int]] = {"a": [], "b": []}
    reports: dict[str, dict] = {}
    errors: list[BaseException] = []

    def fire_batch(instance_ids, now, should_stop=None):
        name = threading.current_thread().name
        if not tried[name]:
            both_listed.wait()  # both read the same due list before either fires: they collide
        tried[name].extend(instance_ids)
        return real(instance_ids, now, should_stop)

    def scheduler() -> None:
        try:
            with app.app_context():
                if shared:
                    with timers.shared():  # as firing workers run: skip what the other holds
                        reports[threading.current_thread().name] = timers.fire_due(batch_size=10)
                else:
                    reports[threading.current_thread().name] = timers.fire_due(batch_size=10)
        except BaseException as exc:
            errors.append(exc)

    monkeypatch.setattr(timers, "fire_batch", fire_batch)
    with freeze_time(latest_due() + timedelta(seconds=1)):
        threads = [threading.Thread(target=scheduler, name=name) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == [] and not any(t.is_alive() for t in threads)
        monkeypatch.setattr(timers, "fire_batch", real)
        leftover = timers.fire_due()  # what a skip-locked run passed by is the next run's
    assert set(tried["a"]) & set(tried["b"]), "the two runs never competed for an instance"
    assert not set(reports["a"]) & set(reports["b"])  # whoever lost a race fired nothing
    assert not (set(reports["a"]) | set(reports["b"])) & set(leftover)
    assert sorted([*reports["a"], *reports["b"], *leftover]) == sorted(ids)
    assert fired_per_instance() == Counter(dict.fromkeys(ids, 1))
