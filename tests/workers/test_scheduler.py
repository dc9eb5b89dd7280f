"""The scheduler process: sleeps until the next due timer, wakes earlier for a new one, drains a
late burst once, backs off from failures, runs only as the leader (a hot standby takes over),
and never inside the web app.

APScheduler runs for real (a BackgroundScheduler thread) under a frozen clock that the tests
move; they wait for its runs on a condition with a timeout, never by sleeping.
"""
from __future__ import annotations

import importlib.machinery
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import types
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import freezegun.api
import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED
from sqlalchemy import select, text, update

from cases.core.db import db, unit_of_work
from cases.process import lease as leader
from cases.process import timers, wakeup
from cases.process.deploy import deploy
from cases.process.models import Timer
from tests.cases.process.test_timers import TIMER_BPMN, fired_per_instance, timer_cases
from workers import scheduler as scheduling

ROOT = Path(__file__).resolve().parents[2]
WAIT = 90  # seconds a test waits for a thread or process before it fails: a hang, not a timing assertion (a
# process start and stop took over 30 s on 2 cores at a load of 22)
EPSILON = scheduling.WAKE_AFTER_DUE


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def config(app, monkeypatch):
    """Scheduler settings for a test (restored afterwards)."""
    def set_(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)
    set_(TIMER_MAX_IDLE_SECONDS=3 * 24 * 3600, TIMER_POLL_SECONDS=1, TIMER_BATCH_SIZE=5,
         SCHEDULER_STANDBY_RETRY_SECONDS=0.05)
    return set_


@pytest.fixture
def freeze_time(monkeypatch):
    """freezegun's ``freeze_time`` for every thread, APScheduler's included: by default code that
    runs within a few frames of ``threading`` reads the real clock, so the scheduler's thread and
    the job's thread would disagree about what time it is."""
    monkeypatch.setattr(freezegun.api, "call_stack_inspection_limit", 0)
    return freezegun.freeze_time


@pytest.fixture
def timer_process(app_ctx, world, restore_active_version):
    deploy({"support_case.bpmn": TIMER_BPMN}, {})
    return world


@pytest.fixture
def running(app):
    """Start a scheduler built by the test; shut it down at the end whatever happens."""
    started = []

    def start(built):
        started.append(built)
        built.start()
        return built

    yield start
    for built in started:
        built.shutdown()


def _runs(built, count: int) -> None:
    assert built.wake.wait_until(lambda: built.wake.runs >= count, WAIT), f"no run #{count}"


def _due_of(instance_id: int):
    db.session.rollback()
    return db.session.scalar(select(Timer.due_at).where(Timer.instance_id == instance_id))


def test_the_scheduler_sleeps_until_the_next_due_timer_then_fires_it(app, config, running, timer_process, freeze_time):
    [instance] = timer_cases(timer_process, 1)
    due = _due_of(instance)
    with freeze_time(due - timedelta(hours=2)) as clock:
        built = running(scheduling.build(app))
        _runs(built, 1)  # the catch-up run on start: nothing is due yet
        assert fired_per_instance() == Counter()
        assert built.wake.next_run_time() == due + EPSILON  # asleep until then, no polling
        clock.move_to(due + timedelta(seconds=1))
        built.aps.wakeup()
        _runs(built, 2)
        assert fired_per_instance() == Counter({instance: 1})
        # nothing left: it sleeps the longest idle interval
        idle = due + timedelta(seconds=1) + timedelta(days=3)
        assert built.wake.wait_until(lambda: built.wake.next_run_time() == idle, WAIT)


def test_a_new_earlier_timer_moves_the_wake_up_forward(app, config, running, timer_process, freeze_time):
    with freeze_time(datetime.now(timezone.utc)) as clock:
        built = running(scheduling.build(app))
        _runs(built, 1)
        idle_until = built.wake.next_run_time()
        [instance] = timer_cases(timer_process, 1)  # due in a day, before the idle interval ends
        due = _due_of(instance)
        jobs = {job.id for job in built.aps.get_jobs()}
        if _dialect(app) == "sqlite":  # no NOTIFY: the watch job reads the earliest due time
            assert scheduling.WATCH_JOB in jobs
            clock.tick(timedelta(seconds=1))
            built.aps.wakeup()
        else:  # the writing transaction's NOTIFY reaches the listener when it commits
            assert scheduling.WATCH_JOB not in jobs
        assert built.wake.wait_until(lambda: built.wake.next_run_time() == due + EPSILON, WAIT)
        assert due + EPSILON < idle_until


def test_a_timer_announced_during_a_run_is_not_lost(app, config, running, monkeypatch, freeze_time):
    real = timers.fire_due
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)

    def announced_meanwhile(**kwargs):
        # a transaction commits a timer due in 5 minutes after this run read the table
        built.wake.hint(soon)
        return real(**kwargs)

    with freeze_time(datetime.now(timezone.utc)):
        built = scheduling.build(app)
        monkeypatch.setattr(timers, "fire_due", announced_meanwhile)
        running(built)
        _runs(built, 1)
        assert built.wake.next_run_time() == soon + EPSILON  # not the idle interval the run planned


def test_a_timer_announced_during_a_run_after_it_last_read_the_table_wakes_the_next_run(
        app, config, running, timer_process, monkeypatch, freeze_time):
    """A run plans its next wake from the earliest due time it read at its end. A timer committed
    after that read, due later than what the *previous* run saw, is not covered by any plan: its
    announcement must move the wake-up (it used to be dropped, and the timer waited for the idle
    interval — the stream's late timers under load)."""
    [instance] = timer_cases(timer_process, 1)
    due = _due_of(instance)
    later = due + timedelta(minutes=5)  # after the due time the previous run saw
    real = timers.next_due

    def committed_after_the_read():
        seen = real()
        if built.wake.runs >= 1:
            built.wake.hint(later)  # a request commits a timer right after this run's last look
        return seen

    with freeze_time(due - timedelta(hours=2)) as clock:
        built = scheduling.build(app)
        monkeypatch.setattr(timers, "next_due", committed_after_the_read)
        running(built)
        _runs(built, 1)
        assert built.wake.next_run_time() == due + EPSILON
        clock.move_to(due + timedelta(seconds=1))
        built.aps.wakeup()
        _runs(built, 2)
        assert fired_per_instance() == Counter({instance: 1})  # nothing else due: the idle interval, were it not for the hint
        assert built.wake.wait_until(lambda: built.wake.next_run_time() == later + EPSILON, WAIT)


def test_a_run_far_behind_schedule_runs_once_and_drains_the_burst(app, config, running, timer_process, freeze_time):
    ids = timer_cases(timer_process, 17)  # more than three batches of 5
    due = max(_due_of(i) for i in ids)
    with freeze_time(due - timedelta(hours=1)) as clock:
        built = running(scheduling.build(app))
        _runs(built, 1)
        assert built.wake.next_run_time() == min(_due_of(i) for i in ids) + EPSILON
        # the process was stalled for a day: far beyond APScheduler's default misfire grace (1 s)
        clock.move_to(due + timedelta(days=1))
        built.aps.wakeup()
        _runs(built, 2)
    assert fired_per_instance() == Counter(dict.fromkeys(ids, 1))
    assert all(job.misfire_grace_time is None and job.coalesce for job in built.aps.get_jobs())


def test_a_run_longer_than_the_idle_interval_is_not_started_again(app, config, running, monkeypatch, freeze_time):
    release, started = threading.Event(), threading.Event()
    real = timers.fire_due

    def long_burst(**kwargs):
        started.set()
        assert release.wait(WAIT)
        return real(**kwargs)

    events: queue.Queue = queue.Queue()
    monkeypatch.setattr(timers, "fire_due", long_burst)
    with freeze_time(datetime.now(timezone.utc)) as clock:
        built = scheduling.build(app)
        built.aps.add_listener(lambda e: events.put((e.code, e.job_id)), EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
        later = datetime.now(timezone.utc) + timedelta(days=4)
        built.aps.add_job(lambda: None, "date", run_date=later, id="probe")
        running(built)
        assert started.wait(WAIT)
        clock.move_to(later + timedelta(seconds=1))  # the idle interval (3 days) passes mid-run
        built.aps.wakeup()
        seen = []
        while (EVENT_JOB_SUBMITTED, "probe") not in seen:  # the loop has looked at every due job
            seen.append(events.get(timeout=WAIT))
        release.set()
        _runs(built, 1)
    assert (EVENT_JOB_MAX_INSTANCES, scheduling.TIMER_JOB) not in seen


def test_a_failing_run_backs_off_instead_of_spinning(app, config, running, monkeypatch, freeze_time):
    def database_down(**kwargs):
        raise RuntimeError("fault injection: the database is unreachable")

    monkeypatch.setattr(timers, "fire_due", database_down)
    with freeze_time(datetime.now(timezone.utc)) as clock:
        built = running(scheduling.build(app))
        _runs(built, 1)
        first = built.wake.next_run_time() - datetime.now(timezone.utc)
        clock.tick(first)
        built.aps.wakeup()
        _runs(built, 2)
        second = built.wake.next_run_time() - datetime.now(timezone.utc)
    assert first == timedelta(seconds=1) and second == timedelta(seconds=2)


def _fake_outbox(monkeypatch, module) -> None:
    monkeypatch.setitem(sys.modules, scheduling.NOTIFICATIONS_MODULE, module)


def test_mail_delivery_runs_only_when_the_outbox_exists(app, config, monkeypatch):
    delivered = []
    outbox = types.ModuleType(scheduling.NOTIFICATIONS_MODULE)
    outbox.__spec__ = importlib.machinery.ModuleSpec(scheduling.NOTIFICATIONS_MODULE, None)
    outbox.deliver_pending = lambda now=None: delivered.append(now) or 2
    _fake_outbox(monkeypatch, outbox)
    assert scheduling.NOTIFY_JOB in [j.id for j in scheduling.build(app).aps.get_jobs()]
    assert scheduling.run_once(app).delivered == 2 and delivered == [None]

    del outbox.deliver_pending  # the module without the function: no job
    assert scheduling.NOTIFY_JOB not in [j.id for j in scheduling.build(app).aps.get_jobs()]
    _fake_outbox(monkeypatch, None)  # no module at all
    assert scheduling.NOTIFY_JOB not in [j.id for j in scheduling.build(app).aps.get_jobs()]
    assert scheduling.run_once(app).delivered is None


def test_the_listener_hears_its_own_schema_and_asks_for_a_check_after_a_reconnect(app):
    if _dialect(app) != "postgresql":
        pytest.skip("PostgreSQL LISTEN/NOTIFY")
    heard: queue.Queue = queue.Queue()
    backends: list[int] = []
    with app.app_context():
        engine = db.engine

    def connect():
        connection = leader.dedicated_connection(engine)
        backends.append(connection.info.backend_pid)
        return connection

    listener = wakeup.Listener(connect, heard.put, retry_seconds=0.05, wait_seconds=0.05)
    listener.start()
    try:
        assert listener.ready.wait(WAIT)
        due = datetime(2030, 1, 1, 9, tzinfo=timezone.utc)
        with app.app_context():
            other = json.dumps({"due": "2029-01-01T00:00:00+00:00", "schema": "another_installation"})
            db.session.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": wakeup.CHANNEL, "payload": other})
            db.session.commit()
            with unit_of_work():
                wakeup.announce(due)
            assert heard.get(timeout=WAIT) == due  # the other installation's went unheard
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backends[0]})
            db.session.commit()
        assert heard.get(timeout=WAIT) is None  # reconnected: what was sent meanwhile is lost, look now
        assert len(backends) == 2
    finally:
        listener.stop()


# -- leadership ----------------------------------------------------------------------------

def _lease(app, seconds: float = 30.0) -> leader.Lease:
    with app.app_context():
        return leader.for_engine(db.engine, seconds)


def _row(app) -> dict:
    with app.app_context():
        return leader.read(db.engine)


def test_one_leader_per_database_a_new_epoch_for_each_term(app):
    first, second = _lease(app), _lease(app)
    try:
        assert first.try_acquire() and not second.try_acquire()
        assert first.holds() and not second.holds()
        assert _row(app)["holder"] == first.holder
        epoch = first.epoch
        assert first.renew() is True and first.epoch == epoch  # renewing keeps the term
        first.release()
        assert not first.holds() and _row(app)["holder"] is None
        assert second.try_acquire() and not first.try_acquire()
        assert second.epoch == epoch + 1
    finally:
        first.release()
        second.release()


def test_a_lease_that_is_not_renewed_runs_out_and_a_standby_takes_it_with_the_next_epoch(app):
    stale, standby = _lease(app, seconds=0.5), _lease(app, seconds=30)
    try:
        assert stale.try_acquire()
        assert _taken_within(standby, WAIT)  # nobody renewed: expired, taken over
        assert standby.epoch == stale.epoch + 1
        assert not stale.holds()  # its own clock says the term ran out
        assert stale.renew() is False  # and the row names the new leader
        assert _row(app)["holder"] == standby.holder
        stale.release()  # a stale release changes nothing
        assert _row(app)["holder"] == standby.holder and _row(app)["epoch"] == standby.epoch
    finally:
        stale.release()
        standby.release()


def test_the_fence_refuses_a_replaced_leader_even_while_its_own_clock_says_it_holds(app):
    old = _lease(app)
    try:
        assert old.try_acquire()
        with app.app_context():
            with unit_of_work():
                old.fence()  # the leader: passes
            # another scheduler took over (say our clock is off): the row has moved on
            db.session.execute(update(leader.SchedulerLease).values(holder="elsewhere:1:x",
                                                                    epoch=leader.SchedulerLease.epoch + 1))
            db.session.commit()
            assert old.holds()  # locally it still thinks so ...
            with pytest.raises(leader.Fenced), unit_of_work():
                old.fence()  # ... the fence does not
            assert not old.holds()  # and now it knows
    finally:
        old.release()


def test_a_replaced_leader_fires_nothing_and_the_timers_stay_due_for_the_new_one(app, timer_process, freeze_time):
    instances = timer_cases(timer_process, 3)
    old, new = _lease(app), _lease(app)
    try:
        assert old.try_acquire()
        db.session.execute(update(leader.SchedulerLease).values(expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
        db.session.commit()
        assert new.try_acquire()  # expired in the database: taken over
        with freeze_time(datetime.now(timezone.utc) + timedelta(days=2)):
            with timers.fenced_by(old.fence), pytest.raises(leader.Fenced):
                timers.fire_due()
            assert fired_per_instance() == Counter()  # rolled back: nothing fired
            assert {t.instance_id for t in db.session.scalars(select(Timer))} == set(instances)
            with timers.fenced_by(new.fence):
                report = timers.fire_due()
        assert sorted(report) == sorted(instances)
        assert fired_per_instance() == Counter(dict.fromkeys(instances, 1))
    finally:
        old.release()
        new.release()


def _taken_within(lock, seconds: float) -> bool:
    """Retry, as a standby does, until the lease is free."""
    done = threading.Event()
    result = []

    def take():
        result.append(leader.wait_for(lock, stop, 0.05))
        done.set()

    stop = threading.Event()
    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    finished = done.wait(seconds)
    stop.set()
    thread.join(seconds)
    return finished and result == [True]


def test_serve_runs_one_leader_and_a_standby_that_takes_over(app, config):
    roles: dict[str, queue.Queue] = {"a": queue.Queue(), "b": queue.Queue()}
    stops = {"a": threading.Event(), "b": threading.Event()}
    threads = {name: threading.Thread(target=scheduling.serve, args=(app, stops[name], roles[name].put),
                                      daemon=True) for name in ("a", "b")}
    try:
        threads["a"].start()
        assert roles["a"].get(timeout=WAIT) == "leader"
        threads["b"].start()
        assert roles["b"].get(timeout=WAIT) == "standby"
        stops["a"].set()  # the leader stops (and releases the lock)
        assert roles["a"].get(timeout=WAIT) == "stopped"
        assert roles["b"].get(timeout=WAIT) == "leader"
    finally:
        for name in ("a", "b"):
            stops[name].set()
            threads[name].join(WAIT)
    assert not any(t.is_alive() for t in threads.values())


# -- the real processes --------------------------------------------------------------------

class Process:
    """``caseflow scheduler`` as a child process; its log lines read by a thread."""

    def __init__(self, database_url: str, *args: str, **settings: str):
        env = {**os.environ, "DATABASE_URL": database_url, "SCHEDULER_STANDBY_RETRY_SECONDS": "0.1",
               "PYTHONPATH": str(ROOT), **settings}
        self.proc = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "scheduler", *args],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 4 * WAIT) -> str:
        """The next line holding ``text``; ``timeout``: a bound for a hang (a process start imports
        the engine and Flask: on a machine with a load of 18 on 2 cores that took over 30 s)."""
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{''.join(seen)}") from None
            if line is None:
                raise AssertionError(f"exited without logging {text!r}:\n{''.join(seen)}")
            seen.append(line)
            if text in line:
                return line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(WAIT)
        self.reader.join(WAIT)  # it has read to the end: the pipe can be closed
        self.proc.stdout.close()


def test_scheduler_processes_hot_standby_takes_over_when_the_leader_is_killed(app, database_url):
    first = Process(database_url)
    second = None
    try:
        first.wait_for("role: leader")
        second = Process(database_url)
        second.wait_for("role: standby")
        first.proc.send_signal(signal.SIGKILL)  # no clean-up at all
        assert first.proc.wait(WAIT) == -signal.SIGKILL
        second.wait_for("role: leader")
        second.proc.send_signal(signal.SIGTERM)  # a clean stop: releases the lock, exits 0
        second.wait_for("role: stopped")
        assert second.proc.wait(WAIT) == 0
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_the_web_app_never_starts_the_scheduler():
    code = ("import sys, threading; from server import create_app; create_app(); "
            "assert 'apscheduler' not in sys.modules and 'workers.scheduler' not in sys.modules; "
            "assert threading.active_count() == 1, threading.enumerate()")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
