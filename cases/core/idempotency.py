"""Idempotency keys of creating API calls: the answer a key got, kept for a day.

A row is written in the same transaction as what the call created (api/idempotency.py), so a
key names either nothing (the call did not commit: a retry carries it out) or the committed call
and its answer (a retry gets that answer again). The fingerprint (method, path and body) tells a
retry from another request that reuses the key.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from cases.core.db import db, unit_of_work
from cases.core.models import UTCDateTime, utcnow

#: how long an answer is kept for a retry
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 200


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    headers: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def valid_key(key: str) -> bool:
    """1–200 printable ASCII characters (a UUID is the usual choice)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(33 <= ord(c) <= 126 for c in key)


def find(user_id: int, key: str, now: datetime | None = None) -> IdempotencyKey | None:
    """The answer kept for ``key`` of that user, unless it is older than the retention."""
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
    if row is None or row.created_at < (now or utcnow()) - RETENTION:
        return None
    return row


def keep(user_id: int, key: str, fingerprint: str, status: int, body: str, headers: dict[str, str]) -> None:
    """In the caller's transaction: the answer to give again. An expired row of the same key goes."""
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
                                                    IdempotencyKey.created_at < utcnow() - RETENTION))
    db.session.add(IdempotencyKey(user_id=user_id, key=key, fingerprint=fingerprint, status=status, body=body,
                                  headers=headers))


def purge(now: datetime | None = None) -> int:
    """Delete the answers past the retention (the scheduler does, hourly); how many went."""
    with unit_of_work():
        return db.session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.created_at < (now or utcnow()) - RETENTION)).rowcount
