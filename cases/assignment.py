"""The round-robin assignment rule: the next active user of a role, fairly, under concurrency."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .db import db
from .models import RoundRobinCursor, User, UserRole


def _ensure_cursor(role: str) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(RoundRobinCursor).values(role=role, last_user_id=None)
                       .on_conflict_do_nothing(index_elements=["role"]))


def next_user(role: str) -> User | None:
    """Advance the role's cursor (row-locked) and return the next active user holding it."""
    candidates = db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == role, User.active.is_(True))
        .order_by(User.id)
    ).all()
    if not candidates:
        return None
    lock = select(RoundRobinCursor).where(RoundRobinCursor.role == role).with_for_update() \
        .execution_options(populate_existing=True)
    cursor = db.session.scalars(lock).one_or_none()
    if cursor is None:  # first use of the role: create the row (racing creators both succeed)
        _ensure_cursor(role)
        cursor = db.session.scalars(lock).one()
    chosen = next((u for u in candidates if cursor.last_user_id is None or u.id > cursor.last_user_id),
                  candidates[0])
    cursor.last_user_id = chosen.id
    return chosen
