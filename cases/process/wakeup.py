"""Telling the scheduler process that a timer came due earlier than it planned to wake.

Sending: on PostgreSQL a NOTIFY on the ``caseflow_timers`` channel, sent in the transaction that
wrote the timer rows, so it reaches the listening scheduler only when (and if) that transaction
commits. The payload is ``{"due": "<ISO instant>", "schema": "<current schema>"}``: channels are
per database, and installations (or test workers) in other schemas of the same database ignore
each other's. SQLite has no such channel; the scheduler re-reads the earliest due time there
instead (``timers.next_due`` every ``TIMER_POLL_SECONDS``).

Receiving: ``Listener`` LISTENs on a connection of its own in a thread and hands every announced
instant to a callback. After a lost connection it reconnects and asks for a check (``None``):
notifications sent while it was away are gone, the timers table is not.
"""
from __future__ import annotations

import json
import logging
import select
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import text

from cases.core.db import db

CHANNEL = "caseflow_timers"
#: the leader tells the firing workers (``caseflow scheduler --worker``) to fire what is due now
FIRE_CHANNEL = "caseflow_fire"

log = logging.getLogger("caseflow.wakeup")


def announce(due_at: datetime) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_notify(:channel, json_build_object('due', CAST(:due AS text),"
                                " 'schema', current_schema())::text)"),
                           {"channel": CHANNEL, "due": due_at.isoformat()})


def call_workers() -> None:
    """In its own transaction: wake the firing workers of this schema (PostgreSQL only)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_notify(:channel, json_build_object('schema', current_schema())::text)"),
                           {"channel": FIRE_CHANNEL})
        db.session.commit()


def parse(payload: str) -> tuple[datetime | None, str | None]:
    """(the announced instant in UTC, the sender's schema). The instant is None when the payload
    does not hold one: then look at the table now."""
    try:
        message = json.loads(payload)
    except (TypeError, ValueError):
        message = payload
    if isinstance(message, dict):
        due_text, schema = message.get("due"), message.get("schema")
    else:
        due_text, schema = message, None
    try:
        due = datetime.fromisoformat(due_text)
    except (TypeError, ValueError):
        return None, schema
    return (due.replace(tzinfo=timezone.utc) if due.tzinfo is None else due.astimezone(timezone.utc)), schema


class Listener:
    """LISTEN ``caseflow_timers`` on a dedicated psycopg connection, in a daemon thread.

    ``connect`` returns a new DB-API connection (autocommit is switched on here); ``on_due`` gets
    each announced instant, or None after a reconnect. ``ready`` is set while listening.
    """

    def __init__(self, connect: Callable[[], Any], on_due: Callable[[datetime | None], None],
                 retry_seconds: float = 5.0, wait_seconds: float = 0.5, channel: str = CHANNEL):
        self._connect = connect
        self._channel = channel
        self._on_due = on_due
        self._retry = retry_seconds
        self._wait = wait_seconds  # how long one wait for notifications lasts: bounds stop()
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="caseflow-timer-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        connected_before = False
        while not self._stop.is_set():
            conn = None
            try:
                conn = self._connect()
                conn.autocommit = True
                schema = conn.execute("SELECT current_schema()").fetchone()[0]
                conn.execute(f"LISTEN {self._channel}")
                self.ready.set()
                if connected_before:
                    log.info("listening on %s again; checking the timers table", self._channel)
                    self._on_due(None)
                connected_before = True
                while not self._stop.is_set():
                    # wait on the socket (select's timeout is the kernel's, whatever the process
                    # clock says), then take what arrived without waiting
                    select.select([conn], [], [], self._wait)
                    for notification in conn.notifies(timeout=0):
                        due, sender = parse(notification.payload)
                        if sender is None or sender == schema:  # not another installation's
                            self._on_due(due)
            except Exception as exc:
                self.ready.clear()
                if not self._stop.is_set():
                    log.warning("%s notifications interrupted (%s); reconnecting in %ss", self._channel, exc, self._retry)
                    self._stop.wait(self._retry)
            finally:
                self.ready.clear()
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
