"""The scheduler process: one active per installation, separate from the web workers.

``serve`` waits for leadership (cases/process/lease.py: a lease row with an epoch and an expiry, renewed
by a thread of its own every ``SCHEDULER_LEASE_SECONDS`` / 4), then runs APScheduler with a
declarative job list of stable ids:

- ``fire-due-timers`` fires every due timer (cases/process/timers.py), then sleeps until the earliest
  ``timers.due_at``, at most ``TIMER_MAX_IDLE_SECONDS``. A new timer that is due earlier moves
  the wake-up forward: on PostgreSQL a listener thread receives the NOTIFY the writing
  transaction sent (cases/process/wakeup.py) as it commits; on SQLite ``watch-due-timers`` reads the
  earliest due time every ``TIMER_POLL_SECONDS``. The first run starts at once: whatever came
  due while no scheduler ran fires then.
- ``deliver-notifications`` sends the mail outbox every ``NOTIFY_POLL_SECONDS``, when
  ``cases.notifications.deliver_pending`` exists; ``deliver-hq-reports`` posts pending bug
  reports to HQ's webhook (cases/outbox/hq.py) at the same rhythm, and ``deliver-chat-posts`` the replies
  and notices for chat platforms (cases/outbox/chat_posts.py).
- ``purge-idempotency-keys`` deletes, hourly, the answers kept for retries past their 24 hours
  (cases/core/idempotency.py).
- ``service-due`` starts, every minute, the processes of risks, planned training sessions, major
  incidents, visits and maintenance schedules saved before those processes were deployed
  (cases/service/due.py); their reminders, review dates, escalation ladders and maintenance dates are
  timers of their processes, fired by the timer jobs above.
- ``check-leadership`` steps down if the lease is gone (then this process stands by again).

On PostgreSQL, ``caseflow scheduler --worker`` processes (``FiringWorker``) fire beside the
leader: a run of the leader whose batch comes back full (a backlog) wakes them, and they share the due instances with it (``FOR
UPDATE SKIP LOCKED``), so adding a process adds firing throughput.

Every job first checks that the lease is still held (``Lease.holds``: a local clock check, no
query), and each timer firing transaction checks the lease's epoch in the database before it
commits (fencing, see leader.py): a leader that was stopped, frozen or cut off and replaced
fires nothing when it wakes; it notices, stops its jobs and stands by.

Every job has ``coalesce``, one instance at a time and no misfire grace limit: a run that is
late runs anyway, once. The timers table, not the job, is the memory: a run that finds a burst
drains it in batches, a run that is skipped or late loses nothing.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from cases.core import idempotency
from cases.core.db import db
from cases.core.models import utcnow
from cases.outbox import chat_posts as chat_out
from cases.outbox import hq
from cases.process import lease as leader
from cases.process import timers, wakeup
from cases.service import due as service_due

log = logging.getLogger("caseflow.scheduler")

TIMER_JOB = "fire-due-timers"
WATCH_JOB = "watch-due-timers"
NOTIFY_JOB = "deliver-notifications"
HQ_JOB = "deliver-hq-reports"
CHAT_JOB = "deliver-chat-posts"
PURGE_JOB = "purge-idempotency-keys"
#: the missing processes of risks, training sessions, major incidents, visits and schedules
#: (cases/service/due.py), looked at every minute
SERVICE_JOB = "service-due"
SERVICE_DUE_MINUTES = 1
LEADER_JOB = "check-leadership"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
#: wake just after the due instant: the engine fires a timer once the clock has passed it
WAKE_AFTER_DUE = timedelta(milliseconds=1)
#: while a run goes on, the job is not due before this, or twice the idle maximum (its end
#: decides the next run): long enough for a big burst, short enough to heal if a move failed
PARKED_WHILE_RUNNING = timedelta(minutes=10)
NOTIFICATIONS_MODULE = "cases.outbox.notifications"


@dataclass(frozen=True)
class Settings:
    max_idle: float
    poll: float
    batch_size: int
    standby_retry: float
    notify_poll: float
    lease: float

    @classmethod
    def of(cls, app: Flask) -> Settings:
        c = app.config
        return cls(max_idle=float(c.get("TIMER_MAX_IDLE_SECONDS", 60)), poll=float(c.get("TIMER_POLL_SECONDS", 1)),
                   batch_size=int(c.get("TIMER_BATCH_SIZE", 100)),
                   standby_retry=float(c.get("SCHEDULER_STANDBY_RETRY_SECONDS", 2)),
                   notify_poll=float(c.get("NOTIFY_POLL_SECONDS", 5)),
                   lease=float(c.get("SCHEDULER_LEASE_SECONDS", 10)))


class TimerWake:
    """When the timer job runs next: just after the earliest due timer, never later than
    ``max_idle`` from now, earlier when told of an earlier timer (``hint``).

    The job plans its next run when it ends (``finish``); the plan is applied when APScheduler
    reports the run done (``job_done``), once the run no longer counts against ``max_instances``
    — applied earlier, a wake-up due at once would be skipped as "already running". Hints that
    arrive during a run are kept and merged into the plan: a timer committed after the run read
    the table is not lost. A hint at or after the earliest due time the last run saw changes
    nothing (the plan covers it) — except during a run: the run under way may already have read the
    earliest due time, so a hint then is kept and weighed against what the run saw when it ends. A run that fails, or finds due timers it cannot fire, backs off
    (from ``min_backoff``, doubling up to ``max_idle``) instead of spinning.

    Locks: ``_cond`` guards the state and is never held while calling into APScheduler; pushes
    to APScheduler are serialised by ``_push_lock``. APScheduler calls ``job_done`` from its own
    loop (holding its job store lock, about to store the interval trigger's next time) when the
    run ended before it was handed over: that push goes through a thread of its own, which
    applies it after the loop is done.
    """

    def __init__(self, scheduler: Any, job_id: str, max_idle: float, min_backoff: float = 1.0,
                 clock: Callable[[], datetime] = utcnow):
        self._scheduler = scheduler
        self._job_id = job_id
        self._max_idle = timedelta(seconds=max_idle)
        self._min_backoff = timedelta(seconds=min(min_backoff, max_idle))
        self._backoff = self._min_backoff
        self._clock = clock
        self._cond = threading.Condition()
        self._push_lock = threading.Lock()
        self._closed = False
        self._running = False
        self._plan: datetime | None = None
        self._known: datetime | None = None  # the earliest due time the last run saw
        self._during: datetime | None = None  # the earliest wake hinted during the run
        self._desired: datetime | None = None  # what APScheduler was last told
        self.runs = 0

    def begin(self) -> None:
        """A run starts: what was announced before is in the table it is about to read. Until
        it ends the job is parked (a burst can outlast the idle interval, and APScheduler would
        then try to start it again and warn); its end decides the next run."""
        with self._cond:
            self._running, self._plan, self._during = True, None, None
            self._desired = self._clock() + max(PARKED_WHILE_RUNNING, 2 * self._max_idle)
        self._push(False)

    def finish(self, next_due: datetime | None, progressed: bool) -> None:
        """A run ended normally: plan the next one."""
        now = self._clock()
        target = now + self._max_idle
        if next_due is not None:
            target = min(target, next_due + WAKE_AFTER_DUE)
        with self._cond:
            if target <= now and not progressed:  # due, yet nothing fired: failing or locked elsewhere
                target = now + self._next_backoff()
            else:
                self._backoff = self._min_backoff
            self._known, self._plan = next_due, target

    def job_done(self, event: JobExecutionEvent) -> None:
        """APScheduler listener (EXECUTED | ERROR): apply the plan of the run that ended."""
        if event.job_id != self._job_id:
            return
        with self._cond:
            target = self._plan if self._plan is not None else self._clock() + self._next_backoff()
            if self._during is not None and not self._covered(self._during):
                target = min(target, self._during)
            self._running, self._plan, self._during, self._desired = False, None, None, target
        if threading.current_thread() is getattr(self._scheduler, "_thread", None):
            threading.Thread(target=self._push, args=(True,), name="caseflow-timer-wake", daemon=True).start()
        else:
            self._push(True)

    def hint(self, due: datetime | None) -> None:
        """A timer is due at ``due`` (None: look at the table now); only ever moves the wake earlier."""
        target = due + WAKE_AFTER_DUE if due is not None else self._clock()
        with self._cond:
            if self._running:  # kept whatever it is: the run may have read the table before it committed
                self._during = target if self._during is None else min(self._during, target)
                return
            if due is not None and self._covered(target):
                return
            if self._desired is not None and target >= self._desired:
                return
            self._desired = target
        self._push(False)

    def _covered(self, target: datetime) -> bool:
        return self._known is not None and target > self._known

    def close(self) -> None:
        """No more pushes (before the scheduler shuts down: APScheduler's shutdown holds its job
        store lock while it waits for running jobs, whose pushes would wait for it)."""
        with self._push_lock:
            self._closed = True

    def _push(self, ran: bool) -> None:
        with self._push_lock:
            if self._closed:
                return
            with self._cond:
                target = self._desired
            try:
                self._scheduler.modify_job(self._job_id, next_run_time=target)
            except JobLookupError:  # shut down meanwhile
                pass
            except Exception:
                log.exception("could not move the timer job to %s", target)
            with self._cond:
                if ran:
                    self.runs += 1
                self._cond.notify_all()

    def next_run_time(self) -> datetime | None:
        job = self._scheduler.get_job(self._job_id)
        return job.next_run_time if job is not None else None

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds after a run or a move, at most about ``timeout``
        seconds (for tests and tools). Counts short waits instead of reading a clock, which a
        test may have frozen."""
        for _ in range(max(1, round(timeout / 0.05))):
            if predicate():  # outside the condition: the predicate may call into APScheduler
                return True
            with self._cond:
                self._cond.wait(0.05)
        return predicate()

    def _next_backoff(self) -> timedelta:
        backoff = self._backoff
        self._backoff = min(self._backoff * 2, self._max_idle)
        return backoff


def notification_delivery(module_name: str = NOTIFICATIONS_MODULE) -> Callable[[], Any] | None:
    """``deliver_pending`` of the notification outbox, if that module and function exist."""
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
        module = importlib.import_module(module_name)
    except Exception:
        log.exception("%s cannot be imported: no notification delivery", module_name)
        return None
    deliver = getattr(module, "deliver_pending", None)
    return deliver if callable(deliver) else None


def _in_app(app: Flask, fn: Callable[[], Any], name: str,
            leadership: leader.Leadership | None = None) -> Callable[[], None]:
    def job() -> None:
        if leadership is not None and not leadership.holds():
            log.warning("%s skipped: %s is no longer held", name, leadership.description)
            return
        with app.app_context():
            result = fn()
            if result:
                log.info("%s: %s", name, result)

    job.__name__ = name
    return job


class Scheduler:
    """APScheduler with caseflow's jobs and the wake-up plumbing, for one leadership term."""

    def __init__(self, app: Flask, scheduler_class: type = BackgroundScheduler,
                 leadership: leader.Leadership | None = None):
        self.app = app
        self.settings = Settings.of(app)
        self.leadership = leadership
        self.stopping = threading.Event()  # asked between instances: a shutdown stops cleanly
        self.lost = threading.Event()  # set when the leadership lock is gone
        self.aps = scheduler_class(timezone=timezone.utc, job_defaults=dict(JOB_DEFAULTS))
        # two INFO lines per job run (a stream of timers wakes it often); errors still show
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        self.wake = TimerWake(self.aps, TIMER_JOB, self.settings.max_idle, self.settings.poll)
        with app.app_context():
            engine = db.engine
        self.listener = None
        if engine.dialect.name == "postgresql":
            self.listener = wakeup.Listener(lambda: leader.dedicated_connection(engine), self.wake.hint,
                                            retry_seconds=self.settings.standby_retry)
        for spec in self.jobs():
            spec = dict(spec)
            self.aps.add_job(spec.pop("func"), id=spec.pop("id"), replace_existing=True, **spec)
        self.aps.add_listener(self.wake.job_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def jobs(self) -> list[dict]:
        """The declarative job list."""
        s = self.settings
        found = [{"id": TIMER_JOB, "func": self.fire_timers, "trigger": "interval", "seconds": s.max_idle,
                  "next_run_time": utcnow()}]  # the first run at once: catch up on missed timers
        if self.listener is None:  # no NOTIFY (SQLite): look at the earliest due time instead
            found.append({"id": WATCH_JOB, "func": self.watch_timers, "trigger": "interval", "seconds": s.poll})
        deliver = notification_delivery()
        if deliver is not None:
            found.append({"id": NOTIFY_JOB, "func": _in_app(self.app, deliver, NOTIFY_JOB, self.leadership),
                          "trigger": "interval",
                          "seconds": s.notify_poll})
        # bug reports for HQ's webhook (cases/outbox/hq.py), on the mail outbox's rhythm
        found.append({"id": HQ_JOB, "func": _in_app(self.app, hq.deliver_pending, HQ_JOB, self.leadership),
                      "trigger": "interval",
                      "seconds": s.notify_poll})
        found.append({"id": CHAT_JOB, "func": _in_app(self.app, chat_out.deliver_pending, CHAT_JOB, self.leadership),
                      "trigger": "interval", "seconds": s.notify_poll})
        # answers kept for retries (api/idempotency.py) go after a day
        found.append({"id": PURGE_JOB, "func": _in_app(self.app, idempotency.purge, PURGE_JOB, self.leadership),
                      "trigger": "interval", "hours": 1})
        # the missing processes of risks, training sessions, major incidents, visits and schedules
        # (cases/service/due.py)
        found.append({"id": SERVICE_JOB, "func": _in_app(self.app, service_due.run, SERVICE_JOB, self.leadership),
                      "trigger": "interval", "minutes": SERVICE_DUE_MINUTES})
        if self.leadership is not None:
            found.append({"id": LEADER_JOB, "func": self.check_leadership, "trigger": "interval",
                          "seconds": s.standby_retry})
        return found

    def fire_timers(self) -> None:
        self.wake.begin()
        if self.leadership is not None and not self.leadership.holds():
            self.check_leadership()
            self.wake.finish(None, progressed=False)
            return
        fence = getattr(self.leadership, "fence", None)
        with self.app.app_context():
            try:
                with timers.fenced_by(fence), timers.shared():
                    report = timers.fire_due(batch_size=self.settings.batch_size, should_stop=self.stopping.is_set,
                                             on_backlog=self._call_workers if self.listener is not None else None)
            except leader.Fenced as exc:
                log.error("firing stopped, nothing more committed: %s", exc)
                self.lost.set()
                self.wake.finish(None, progressed=False)
                return
            if report or report.failed or report.deferred:
                log.info("fired %d timer(s) on %d instance(s) in %d batch(es); failed %s; left for later %s",
                         report.timers_fired, len(report), report.batches, report.failed, report.deferred)
            due = timers.next_due()
        self.wake.finish(due, progressed=bool(report))

    @staticmethod
    def _call_workers() -> None:
        """PostgreSQL: the firing workers, if any, join this run — only once a batch came back full:
        a run that one batch drains (a steady stream) fires alone, without a NOTIFY transaction
        (and its commit) of its own at every wake-up."""
        try:
            wakeup.call_workers()
        except Exception as exc:
            db.session.rollback()
            log.warning("could not wake the firing workers: %s", exc)

    def watch_timers(self) -> None:
        with self.app.app_context():
            due = timers.next_due()
        if due is not None:
            self.wake.hint(due)

    def check_leadership(self) -> None:
        if self.leadership is not None and not self.leadership.holds():
            log.error("no longer the leader (%s is not held): stopping the jobs", self.leadership.description)
            self.lost.set()

    def start(self, listen_timeout: float = 10.0) -> None:
        if self.listener is not None:
            self.listener.start()  # listening before the first run reads the table: nothing slips between
            if not self.listener.ready.wait(listen_timeout):
                log.warning("not yet listening for new timers; relying on runs every %ss until then",
                            self.settings.max_idle)
        self.aps.start()

    def shutdown(self) -> None:
        self.stopping.set()
        if self.listener is not None:
            self.listener.stop()
        self.wake.close()
        if self.aps.running:
            self.aps.shutdown(wait=True)


def build(app: Flask, scheduler_class: type = BackgroundScheduler,
          leadership: leader.Leadership | None = None) -> Scheduler:
    return Scheduler(app, scheduler_class, leadership)


class FiringWorker:
    """``caseflow scheduler --worker`` (PostgreSQL): fires due timers beside the leader, sharing
    them (``timers.shared``: an instance another process holds is skipped, never waited for). The
    leader wakes it at the start of each of its runs (NOTIFY on ``wakeup.FIRE_CHANNEL``); it also
    looks by itself every ``TIMER_MAX_IDLE_SECONDS``. It fires only under a live leader's term,
    and its firing transactions are fenced on that term's epoch (``leader.TermFence``): a worker
    that was stopped across a change of leader, or outlives the leader, commits nothing."""

    def __init__(self, app: Flask):
        self.app = app
        self.settings = Settings.of(app)
        self.woken = threading.Event()
        self.runs = 0
        with app.app_context():
            self.engine = db.engine
        if self.engine.dialect.name != "postgresql":
            raise ValueError("firing workers need PostgreSQL (SQLite serialises every writer)")
        self.listener = wakeup.Listener(lambda: leader.dedicated_connection(self.engine), lambda _due: self.woken.set(),
                                        retry_seconds=self.settings.standby_retry, channel=wakeup.FIRE_CHANNEL)

    def fire(self, stop: threading.Event) -> timers.FiringReport | None:
        """One run: everything due, shared with the others; None when no leader is in office."""
        with self.app.app_context():
            fence = leader.TermFence()
            if not fence.begin():
                return None
            try:
                with timers.fenced_by(fence), timers.shared():
                    report = timers.fire_due(batch_size=self.settings.batch_size, should_stop=stop.is_set)
            except leader.Fenced as exc:
                log.warning("worker run stopped, nothing more committed: %s", exc)
                return None
        if report or report.failed or report.deferred:
            log.info("worker fired %d timer(s) on %d instance(s); failed %s; left for later %s",
                     report.timers_fired, len(report), report.failed, report.deferred)
        return report

    def serve(self, stop: threading.Event, on_role: Callable[[str], None] | None = None) -> None:
        tell = on_role or (lambda _role: None)
        leader.guard_sessions(self.engine)
        self.listener.start()
        log.info("role: worker — firing due timers when the leader calls (channel %s)", wakeup.FIRE_CHANNEL)
        tell("worker")
        self.woken.set()  # a first look at once
        idle_until = time.monotonic() + self.settings.max_idle
        try:
            while not stop.is_set():
                if self.woken.wait(0.2) or time.monotonic() >= idle_until:
                    self.woken.clear()
                    try:
                        self.fire(stop)
                    except Exception:
                        log.exception("worker run failed")
                    self.runs += 1
                    idle_until = time.monotonic() + self.settings.max_idle
        finally:
            self.listener.stop()
            log.info("role: stopped")
            tell("stopped")


@dataclass(frozen=True)
class OnceResult:
    fired: dict[int, list[str]]
    failed: list[int]
    deferred: list[int]
    delivered: int | None  # None: no notification outbox (yet)


def run_once(app: Flask) -> OnceResult:
    """Every job once, now: fire all due timers (in batches, until none is due), deliver mail."""
    settings = Settings.of(app)
    with app.app_context():
        report = timers.fire_due(batch_size=settings.batch_size)
        service_due.run()  # before the mail goes: the reminders it queues go out in this run
    deliver = notification_delivery()
    delivered = None
    if deliver is not None:
        with app.app_context():
            delivered = deliver()
    with app.app_context():
        hq.deliver_pending()
        chat_out.deliver_pending()
    return OnceResult(dict(report), report.failed, report.deferred, delivered)


def serve(app: Flask, stop: threading.Event, on_role: Callable[[str], None] | None = None,
          scheduler_class: type = BackgroundScheduler) -> None:
    """Run the scheduler until ``stop`` is set: stand by until this process holds the lease,
    run the jobs (and renew it) while it does, stand by again if it is lost. ``on_role`` hears
    'standby', 'leader', 'lost' and 'stopped'."""
    settings = Settings.of(app)
    tell = on_role or (lambda _role: None)
    with app.app_context():
        leader.guard_sessions(db.engine)
        lock = leader.for_engine(db.engine, settings.lease)

    def standby() -> None:
        log.info("role: standby — %s is held by another scheduler; trying again every %ss",
                 lock.description, settings.standby_retry)
        tell("standby")

    try:
        while not stop.is_set():
            if not leader.wait_for(lock, stop, settings.standby_retry, standby):
                break
            log.info("role: leader — holding %s, epoch %s; firing timers (idle at most %ss)", lock.description,
                     lock.epoch, settings.max_idle)
            tell("leader")
            keeper = leader.Keeper(lock, settings.lease / 4)
            keeper.start()
            scheduler = Scheduler(app, scheduler_class, leadership=lock)
            try:
                scheduler.start()
                while not stop.wait(0.2) and not scheduler.lost.is_set():
                    if not lock.holds():
                        scheduler.check_leadership()
            finally:
                scheduler.shutdown()
                keeper.stop()
                lock.release()
            if scheduler.lost.is_set() and not stop.is_set():
                log.error("role: lost the leadership; standing by")
                tell("lost")
    finally:
        lock.release()
        log.info("role: stopped")
        tell("stopped")
