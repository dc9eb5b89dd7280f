"""Every row of every table, read on a connection of its own: a replay must leave it all unchanged."""
from __future__ import annotations

from sqlalchemy import select

from cases.core.db import db


def whole_database() -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        return {table.name: sorted((tuple(str(v) for v in row) for row in conn.execute(select(table))))
                for table in db.metadata.sorted_tables}
