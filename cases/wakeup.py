"""Telling the scheduler process that a timer came due earlier than it planned to wake.

On PostgreSQL a NOTIFY on the ``caseflow_timers`` channel, sent in the transaction that wrote
the timer rows: it reaches the listening scheduler only when (and if) that transaction commits.
SQLite has no such channel; the scheduler re-reads the earliest due time there instead.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from .db import db

CHANNEL = "caseflow_timers"


def announce(due_at: datetime) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_notify(:channel, :due)"),
                           {"channel": CHANNEL, "due": due_at.isoformat()})
