"""Leadership by lease and firing workers, with real scheduler processes on PostgreSQL: a leader that is killed,
stopped (SIGSTOP) or cut off from the database (a proxy that freezes, as a partition does) is
replaced by the hot standby, and every timer still fires exactly once — also after the stopped or
cut-off leader comes back, its lease gone (it stands by, firing nothing).

The processes run with the shipped lease settings (10 s lease, 2 s standby retry); the take-over
time is printed (``pytest -s``) for the operations guide, not asserted: the waits below are
bounds for a hang, not timing assertions.
"""
from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from cases.core.db import db
from cases.process import lease as leader
from cases.process import timers
from cases.process.models import ProcessInstance
from tests.cases.process.test_timers import fired_per_instance, timer_cases
from tests.tcp_proxy import FreezableProxy
from tests.workers.test_scheduler import Process, freeze_time, timer_process  # noqa: F401 - the fixtures
from workers import scheduler as scheduling

SETTINGS = {"SCHEDULER_STANDBY_RETRY_SECONDS": "2", "SCHEDULER_LEASE_SECONDS": "10"}
HANG = 90  # seconds: a bound for a hang, not a timing assertion


@pytest.fixture(autouse=True)
def _postgres_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the scheduler processes' takeover is tested on PostgreSQL")


def _due_in(world, freeze, seconds: float, count: int) -> list[int]:
    """``count`` timer cases whose timer is due ``seconds`` from now (opened a day earlier)."""
    with freeze(datetime.now(timezone.utc) - timedelta(days=1) + timedelta(seconds=seconds)):
        return timer_cases(world, count)


def _all_fired(instances: list[int]) -> Counter:
    for _ in range(HANG * 5):
        fired = fired_per_instance()
        if set(instances) <= set(fired):
            return fired
        time.sleep(0.2)
    raise AssertionError(f"not fired: {sorted(set(instances) - set(fired_per_instance()))}")


def _takeover(world, freeze, leader: Process, standby: Process, disrupt, restore) -> float:
    """Timers fired by ``leader``; ``disrupt`` it; timers due meanwhile and after; the standby
    takes over and fires them; ``restore``; the old one stands by; one more timer. Returns the
    seconds from the disruption to the standby's 'role: leader'."""
    standby.wait_for("role: standby")
    before = _due_in(world, freeze, 1, 2)
    _all_fired(before)
    disrupt()
    cut = time.monotonic()
    during = _due_in(world, freeze, 3, 3)  # due while nobody leads
    after = _due_in(world, freeze, 16, 3)  # due once the standby leads
    standby.wait_for("role: leader", timeout=HANG)
    took = time.monotonic() - cut
    _all_fired(before + during + after)
    restore()
    last = None
    if leader.proc.poll() is None:
        leader.wait_for("role: standby", timeout=HANG)  # it noticed, and fires nothing
        last = _due_in(world, freeze, 1, 2)
    everything = before + during + after + (last or [])
    assert _all_fired(everything) == Counter(dict.fromkeys(everything, 1))
    return took


def _processes(leader_url: str, standby_url: str) -> list[Process]:
    """The leader, then (once it leads) the standby."""
    leader = Process(leader_url, **SETTINGS)
    try:
        leader.wait_for("role: leader")
    except BaseException:
        leader.stop()
        raise
    return [leader, Process(standby_url, **SETTINGS)]


def test_a_killed_leader_is_replaced_and_each_timer_fires_once(database_url, timer_process, freeze_time):  # noqa: F811
    leader, standby = _processes(database_url, database_url)
    try:
        took = _takeover(timer_process, freeze_time, leader, standby,
                         lambda: leader.proc.send_signal(signal.SIGKILL), lambda: None)
        assert leader.proc.wait(HANG) == -signal.SIGKILL
        print(f"\ntakeover after SIGKILL: {took:.1f} s")
    finally:
        leader.stop()
        standby.stop()


def test_a_stopped_leader_is_replaced_and_fires_nothing_when_it_resumes(database_url, timer_process, freeze_time):  # noqa: F811
    leader, standby = _processes(database_url, database_url)
    try:
        took = _takeover(timer_process, freeze_time, leader, standby,
                         lambda: leader.proc.send_signal(signal.SIGSTOP),
                         lambda: leader.proc.send_signal(signal.SIGCONT))
        print(f"\ntakeover after SIGSTOP: {took:.1f} s")
    finally:
        leader.proc.send_signal(signal.SIGCONT)
        leader.stop()
        standby.stop()


def test_a_leader_cut_off_from_the_database_is_replaced_and_fires_nothing_when_it_is_back(
        database_url, timer_process, freeze_time):  # noqa: F811
    url = make_url(database_url)
    proxy = FreezableProxy(url.host or "127.0.0.1", url.port or 5432)
    leader = standby = None
    try:
        via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        leader, standby = _processes(via_proxy, database_url)
        took = _takeover(timer_process, freeze_time, leader, standby, proxy.freeze, proxy.thaw)
        print(f"\ntakeover after the leader's connections froze: {took:.1f} s")
    finally:
        proxy.thaw()
        for process in (leader, standby):
            if process is not None:
                process.stop()
        proxy.close()


# -- firing workers ---------------------------------------------------------------------------

def test_an_instance_another_process_holds_is_skipped_not_waited_for(app, timer_process, freeze_time):  # noqa: F811
    held, *free = timer_cases(timer_process, 3)
    with app.app_context():
        engine = db.engine
    with engine.connect() as other:  # another firing process (or a request) works on one instance
        other.execute(select(ProcessInstance.id).where(ProcessInstance.id == held).with_for_update())
        with freeze_time(datetime.now(timezone.utc) + timedelta(days=2)), timers.shared():
            report = timers.fire_due()
        assert sorted(report) == sorted(free)
        other.rollback()
    with freeze_time(datetime.now(timezone.utc) + timedelta(days=2)):
        assert list(timers.fire_due()) == [held]  # the next run's
    assert fired_per_instance() == Counter(dict.fromkeys([held, *free], 1))


def test_a_worker_fires_only_under_a_live_leader_and_is_fenced_when_the_term_ends(app, timer_process, freeze_time):  # noqa: F811
    instances = timer_cases(timer_process, 2)
    worker = scheduling.FiringWorker(app)
    never = threading.Event()
    with freeze_time(datetime.now(timezone.utc) + timedelta(days=2)):
        assert worker.fire(never) is None  # no leader: nothing fired
        assert fired_per_instance() == Counter()
    lease = leader.for_engine(db.engine, 30)
    try:
        assert lease.try_acquire()
        fence = leader.TermFence()
        assert fence.begin() and fence.epoch == lease.epoch
        lease.release()  # the term ends (a new leader would have a new epoch)
        assert lease.try_acquire() and lease.epoch == fence.epoch + 1
        with freeze_time(datetime.now(timezone.utc) + timedelta(days=2)):
            with timers.fenced_by(fence), timers.shared(), pytest.raises(leader.Fenced):
                timers.fire_due()
            assert fired_per_instance() == Counter()
            report = worker.fire(never)  # a new run, under the new term
        assert sorted(report) == sorted(instances)
    finally:
        lease.release()


def test_workers_share_a_burst_with_the_leader_and_each_timer_fires_once(database_url, timer_process, freeze_time):  # noqa: F811
    # batches of 5: the burst of 60 is 12 transactions to share (one batch of 100 would take it whole)
    settings = {**SETTINGS, "TIMER_BATCH_SIZE": "5"}
    leader_process = Process(database_url, **settings)
    workers: list[Process] = []
    try:
        leader_process.wait_for("role: leader")
        workers = [Process(database_url, "--worker", **settings) for _ in range(2)]
        for worker in workers:
            worker.wait_for("role: worker")
        burst = _due_in(timer_process, freeze_time, 4, 60)
        assert _all_fired(burst) == Counter(dict.fromkeys(burst, 1))
        # the workers took part: each logged a run that fired something
        for worker in workers:
            worker.wait_for("worker fired", timeout=HANG)
    finally:
        for process in (leader_process, *workers):
            process.stop()
