"""Only one active scheduler per installation: the leader, holding a lease; any other one waits
as hot standby.

The lease is a row of ``scheduler_leases`` (one per name): the holder, an **epoch** that goes up
by one at every change of leader, and an **expiry**. The leader renews it every
``SCHEDULER_LEASE_SECONDS`` / 4 from a thread of its own; a standby tries every
``SCHEDULER_STANDBY_RETRY_SECONDS`` to take a lease that has expired (or was released), and a
take-over is one ``UPDATE ... WHERE expires_at <= now`` — so two standbys cannot both win. A
leader that stops renewing — killed, stopped (SIGSTOP, a frozen VM), cut off from the database —
is replaced at most a lease plus a retry after its last renewal (10 + 2 s by default).

A leader that wakes up after it was replaced must fire nothing. Two guards:

- **Locally**: the lease counts as held only until the monotonic clock passes the instant its last
  successful renewal *started* plus the lease — never later than the database's expiry, which was
  computed after that instant. Every job checks it before running (``holds``); the serving loop
  steps down when it is gone.
- **Fencing, in the database**: every firing transaction reads the lease row ``FOR SHARE`` just
  before it commits and rolls back (``Fenced``) unless the row still names this leader and its
  epoch. A take-over's ``UPDATE`` waits for such a transaction to end, and a transaction that
  reads the row after a take-over sees the new epoch: a stale leader's write cannot land after
  the new leader's term began. (SQLite: ``BEGIN IMMEDIATE`` serialises the same way.)

Times come from the database's clock on PostgreSQL (``clock_timestamp()``), so schedulers on
several machines need not agree on the time; on SQLite (one machine) from the process's clock.
The lease's connection is its own, outside the application's pool: on PostgreSQL with TCP
keepalives, a user timeout, and statement and lock timeouts, so a renewal on a dead network
fails within seconds instead of hanging.

The name is per installation (``LOCK_NAME``); installations sharing a PostgreSQL server keep
their tables in schemas of their own, and the lease row with them.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Integer, String, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool

from cases.core.db import begin_write_request, db, end_write_request
from cases.core.models import UTCDateTime, utcnow

log = logging.getLogger("caseflow.leader")

LOCK_NAME = "caseflow.scheduler"
#: The lease's session must fail soon after its process's network does, or a renewal (and the
#: local check that waits for it) would hang for the OS default. Client side (libpq): keepalives,
#: and unacknowledged data gives up after 10 s. Server side (per session settings): the server
#: drops a silent client after about a minute.
CLIENT_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
                     "tcp_user_timeout": 10000}
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
#: a lease statement gives up after this: a take-over waiting for a stale leader's firing
#: transaction tries again at the next retry instead of hanging
LEASE_STATEMENT_TIMEOUT_MS = 3000
#: a scheduler's session that stays idle inside a transaction this long (its process stopped or
#: cut off mid-firing) is ended by the server, so its row locks do not hold up the new leader
IDLE_IN_TRANSACTION_MS = 30000


class SchedulerLease(db.Model):
    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Fenced(Exception):
    """This scheduler no longer holds the lease (or cannot tell): the transaction must not commit."""


class Leadership(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def holds(self) -> bool: ...

    def release(self) -> None: ...


def dedicated_connection(engine: Engine) -> Any:
    """A new autocommit psycopg connection to the engine's database (same URL and options, e.g.
    the search path), outside the pool, with keepalives: owned by the caller for as long as it
    likes."""
    import psycopg

    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    connection = psycopg.connect(*cargs, **{**cparams, **CLIENT_KEEPALIVES}, autocommit=True)
    for setting, value in SERVER_KEEPALIVES.items():
        connection.execute(f"SET {setting} = {int(value)}")
    return connection


def lease_engine(engine: Engine) -> Engine:
    """An engine of its own for the lease: same database and options, no pool (a connection per
    statement group: nothing stale is reused after a cut), timeouts on PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return create_engine(engine.url, poolclass=NullPool)

    def connect() -> Any:
        connection = dedicated_connection(engine)
        connection.execute(f"SET statement_timeout = {LEASE_STATEMENT_TIMEOUT_MS}")
        connection.execute(f"SET lock_timeout = {LEASE_STATEMENT_TIMEOUT_MS}")
        connection.autocommit = False
        return connection

    return create_engine(engine.url, poolclass=NullPool, creator=connect)


def guard_sessions(engine: Engine) -> None:
    """For a scheduler process's pool (PostgreSQL): the server ends a session left idle inside a
    transaction, and notices a silent client, so a stopped or cut-off leader's locks are freed.
    Connections opened before are closed (the pool opens new ones with the settings)."""
    if engine.dialect.name != "postgresql" or event.contains(engine, "connect", _scheduler_session):
        return
    event.listen(engine, "connect", _scheduler_session)
    engine.dispose()


def _scheduler_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}")
        for setting, value in SERVER_KEEPALIVES.items():
            cursor.execute(f"SET {setting} = {int(value)}")
    dbapi_connection.commit()


def holder_name() -> str:
    """Who holds a lease: host, process, and a random part (a restarted process is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """The scheduler lease in the database, as one would-be leader sees it (see the module doc)."""

    def __init__(self, engine: Engine, seconds: float = 10.0, name: str = LOCK_NAME, holder: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        self._engine = lease_engine(engine)
        self.seconds = float(seconds)
        self.name = name
        self.holder = holder or holder_name()
        self._monotonic = monotonic
        self._state = threading.Lock()
        self.epoch: int | None = None
        self._valid_until: float | None = None
        self._replaced = False
        self.description = f"scheduler lease '{name}' ({self.seconds:g} s) as {self.holder}"

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Connection, datetime]]:
        token = begin_write_request()  # SQLite: the transaction starts with the write lock
        try:
            with self._engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    now = conn.scalar(select(func.clock_timestamp()))
                else:
                    now = utcnow()
                yield conn, now
        finally:
            end_write_request(token)

    def try_acquire(self) -> bool:
        """Take the lease if it is free, expired, or still ours from an ended term: a new epoch."""
        if self.holds():
            return True
        table = SchedulerLease.__table__
        started = self._monotonic()
        try:
            with self._transaction() as (conn, now):
                values = {"holder": self.holder, "acquired_at": now, "renewed_at": now,
                          "expires_at": now + timedelta(seconds=self.seconds)}
                taken = conn.execute(update(table).where(
                    table.c.name == self.name,
                    (table.c.holder.is_(None)) | (table.c.expires_at <= now) | (table.c.holder == self.holder),
                ).values(epoch=table.c.epoch + 1, **values)).rowcount
                if not taken:
                    if conn.scalar(select(table.c.epoch).where(table.c.name == self.name)) is not None:
                        return False  # held by another, not expired
                    conn.execute(insert(table).values(name=self.name, epoch=1, **values))
                epoch = conn.scalar(select(table.c.epoch).where(table.c.name == self.name))
        except IntegrityError:  # another standby created the row first
            return False
        except Exception as exc:
            log.warning("cannot take %s: %s", self.description, exc)
            return False
        with self._state:
            self.epoch, self._valid_until, self._replaced = int(epoch), started + self.seconds, False
        return True

    def renew(self) -> bool | None:
        """Extend the lease. True: renewed; False: this term is over (replaced, or it ran out);
        None: the database could not be reached (the term goes on until it runs out)."""
        if not self.holds():
            return False
        table = SchedulerLease.__table__
        started = self._monotonic()
        try:
            with self._transaction() as (conn, now):
                renewed = conn.execute(update(table).where(
                    table.c.name == self.name, table.c.holder == self.holder, table.c.epoch == self.epoch,
                ).values(renewed_at=now, expires_at=now + timedelta(seconds=self.seconds))).rowcount
        except Exception as exc:
            log.warning("could not renew %s: %s", self.description, exc)
            return None
        with self._state:
            if not renewed:
                self._replaced = True
                return False
            if self._valid_until is None or self._monotonic() >= self._valid_until:
                return False  # ran out before the renewal: the term is over whatever the row says
            self._valid_until = started + self.seconds
            return True

    def holds(self) -> bool:
        """Still the leader, as far as this process knows: a term, not replaced, not run out."""
        with self._state:
            return (self.epoch is not None and not self._replaced and self._valid_until is not None
                    and self._monotonic() < self._valid_until)

    def remaining(self) -> float:
        """Seconds of this term left (0: none)."""
        with self._state:
            if self.epoch is None or self._replaced or self._valid_until is None:
                return 0.0
            return max(0.0, self._valid_until - self._monotonic())

    def fence(self) -> None:
        """In a firing transaction, just before it commits: raise ``Fenced`` unless the lease row
        still names this holder and epoch (read ``FOR SHARE``: a take-over waits for the commit)."""
        if not self.holds():
            raise Fenced(f"{self.description}: the term is over")
        row = db.session.execute(select(SchedulerLease.holder, SchedulerLease.epoch)
                                 .where(SchedulerLease.name == self.name).with_for_update(read=True)).one_or_none()
        if row is None or row.holder != self.holder or row.epoch != self.epoch:
            with self._state:
                self._replaced = True
            raise Fenced(f"{self.description}: replaced (epoch {row.epoch if row else None}, ours {self.epoch})")

    def release(self) -> None:
        """End this term: the lease is free at once (best effort: otherwise it expires)."""
        with self._state:
            epoch, self.epoch, self._valid_until = self.epoch, None, None
        if epoch is None:
            return
        table = SchedulerLease.__table__
        try:
            with self._transaction() as (conn, now):
                conn.execute(update(table).where(table.c.name == self.name, table.c.holder == self.holder,
                                                 table.c.epoch == epoch).values(holder=None, expires_at=now))
        except Exception as exc:
            log.warning("could not release %s (it expires by itself): %s", self.description, exc)


def database_now() -> datetime:
    """The database's clock (PostgreSQL), or this process's (SQLite: one machine)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(select(func.clock_timestamp()))
    return utcnow()


class TermFence:
    """The fence of a firing worker (not a leader itself): it fires under the term of the leader
    in office when its run begins. ``begin`` notes that term's epoch (False: no live leader, fire
    nothing); the fence, called in each firing transaction before it commits, raises ``Fenced``
    once the lease row has another epoch or has expired."""

    def __init__(self, name: str = LOCK_NAME):
        self.name = name
        self.epoch: int | None = None

    def _row(self, lock: bool) -> Any:
        query = select(SchedulerLease.holder, SchedulerLease.epoch, SchedulerLease.expires_at).where(
            SchedulerLease.name == self.name)
        return db.session.execute(query.with_for_update(read=True) if lock else query).one_or_none()

    def begin(self) -> bool:
        row, now = self._row(False), database_now()
        db.session.rollback()
        live = row is not None and row.holder is not None and row.expires_at is not None and row.expires_at > now
        self.epoch = row.epoch if live else None
        return live

    def __call__(self) -> None:
        row, now = self._row(True), database_now()
        if (self.epoch is None or row is None or row.epoch != self.epoch or row.holder is None
                or row.expires_at is None or row.expires_at <= now):
            raise Fenced(f"the leader's term (epoch {self.epoch}) is over")


class Keeper:
    """The thread that renews a lease every ``every`` seconds while its term lasts."""

    def __init__(self, lease: Lease, every: float):
        self.lease = lease
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="caseflow-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.lease.renew() is False:
                log.error("%s: the term is over (replaced or not renewed in time)", self.lease.description)
                return

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def read(engine: Engine, name: str = LOCK_NAME) -> dict | None:
    """The lease row as it stands (for /ready and the metrics): holder, epoch, times, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(SchedulerLease.__table__).where(SchedulerLease.name == name)).mappings().one_or_none()
    return dict(row) if row is not None else None


def for_engine(engine: Engine, seconds: float = 10.0, name: str = LOCK_NAME) -> Lease:
    """The scheduler lease of the database ``engine`` points at."""
    if engine.dialect.name not in ("postgresql", "sqlite"):
        raise ValueError(f"no scheduler leadership for {engine.dialect.name} databases")
    return Lease(engine, seconds, name)


def wait_for(lock: Leadership, stop: threading.Event, retry_seconds: float,
             on_standby: Callable[[], None] | None = None) -> bool:
    """Take ``lock``, trying every ``retry_seconds`` (hot standby) until it is ours (True) or
    ``stop`` is set (False). ``on_standby`` is called once, when the first try fails."""
    standby = False
    while not stop.is_set():
        if lock.try_acquire():
            return True
        if not standby and on_standby is not None:
            on_standby()
        standby = True
        stop.wait(retry_seconds)
    return False
