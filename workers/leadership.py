"""Only one active scheduler per installation: the leader; any other one waits as hot standby.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a connection of
its own, outside the pool, held for the life of the process. The server releases it when that
session ends — the process exits, is killed, or its host or network dies (TCP keepalives) — and
a standby trying every few seconds takes over. The key is derived from the schema, so two
installations sharing a database (or test workers in schemas of their own) do not block each
other.

SQLite: an exclusive ``flock`` on ``<database file>.scheduler.lock``. The kernel releases it when
the process dies. (SQLite is for one machine: that is also where its schedulers run.)

Leadership only decides who runs the jobs; firing is safe without it (see timers.py), so a
leader that loses its lock connection and a standby that takes over meanwhile fire nothing
twice. The leader checks its lock regularly (``holds``) and steps down when it is gone.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine

log = logging.getLogger("caseflow.leader")

LOCK_NAME = "caseflow.scheduler"
#: The lock's session must end soon after its process's host or network does, or a standby would
#: wait hours (the OS default) to take over. Client side (libpq): keepalives, and unacknowledged
#: data gives up after 30 s, so a check on a dead network fails instead of hanging. Server side
#: (per session settings): the server drops a silent client after about a minute.
CLIENT_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
                     "tcp_user_timeout": 30000}
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}


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


def advisory_key(name: str, schema: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``."""
    digest = hashlib.blake2b(f"{name}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, connect: Callable[[], Any], name: str = LOCK_NAME):
        self._connect = connect
        self._name = name
        self._conn: Any = None
        self._key: int | None = None
        self._held = False
        self.description = f"PostgreSQL advisory lock '{name}'"

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.autocommit = True
            schema = self._conn.execute("SELECT coalesce(current_schema(), current_setting('search_path'))").fetchone()[0]
            self._key = advisory_key(self._name, schema)
            self.description = f"PostgreSQL advisory lock '{self._name}' on schema {schema} (key {self._key})"
        return self._conn

    def try_acquire(self) -> bool:
        if self._held and self.holds():
            return True
        try:
            conn = self._connection()
            self._held = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()[0])
        except Exception as exc:
            log.warning("cannot take %s: %s", self.description, exc)
            self._drop()
            return False
        return self._held

    def holds(self) -> bool:
        """Still the leader: the lock's session is alive (a session lock lasts as long as it)."""
        if not self._held or self._conn is None or self._conn.closed:
            return False
        try:
            self._conn.execute("SELECT 1")
        except Exception as exc:
            log.error("lost the connection holding %s: %s", self.description, exc)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._held and self._conn is not None and not self._conn.closed:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            except Exception:
                pass
        self._drop()

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None


class FileLock:
    """An exclusive ``flock`` on a file; released by the kernel when the process dies."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None
        self.description = f"file lock {self.path}"

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for whoever looks
        self._fd = fd
        return True

    def holds(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)  # the file stays: deleting a lock file races with the next locker


def sqlite_lock_path(database: str | None) -> Path:
    """``<database file>.scheduler.lock``; a temp file for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return Path(tempfile.gettempdir()) / f"caseflow-scheduler-{os.getpid()}.lock"
    return Path(os.path.abspath(database)).with_name(Path(database).name + ".scheduler.lock")


def for_engine(engine: Engine, name: str = LOCK_NAME) -> Leadership:
    """The leadership lock for the database ``engine`` points at."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        def connect() -> Any:
            return dedicated_connection(engine)
        return AdvisoryLock(connect, name)
    if dialect == "sqlite":
        return FileLock(sqlite_lock_path(engine.url.database))
    raise ValueError(f"no scheduler leadership for {dialect} databases")


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
