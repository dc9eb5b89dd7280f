"""A snapshot of the case data in the database, to prove that a refused request changed nothing."""
from __future__ import annotations

from sqlalchemy import text

from cases.core.db import db

COUNTED = ("cases", "tasks", "case_events", "process_instances")


def db_snapshot() -> dict:
    """Row counts plus every task's version/state/assignee and every instance's state.

    Read on a connection of its own, so nothing cached in the session can hide a change.
    """
    with db.engine.connect() as conn:
        snap: dict = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                      for table in COUNTED}
        snap["task_rows"] = sorted(
            tuple(row) for row in conn.execute(text("SELECT id, version, state, assignee_id FROM tasks")))
        snap["instance_rows"] = sorted(
            tuple(row) for row in conn.execute(text(
                "SELECT id, state, lock_version, status FROM process_instances")))
        snap["case_rows"] = sorted(
            tuple(row) for row in conn.execute(text(
                "SELECT id, stage, status, category, priority, owner_id, reopen_count FROM cases")))
    return snap


def task_row(task_id: str) -> tuple:
    with db.engine.connect() as conn:
        return tuple(conn.execute(text("SELECT version, state, assignee_id FROM tasks WHERE id = :id"),
                                  {"id": task_id}).one())
