"""Posting outbox rows to webhooks: one machinery for every table of JSON posts (bug reports to
HQ, replies to chat platforms).

An outbox row is written in the step that decided to post (never posting from inside it) and
carries ``url``, ``payload``, ``status``, ``attempts``, ``send_after``, ``last_error``,
``response_status`` and ``sent_at``. ``deliver_pending`` posts due ``pending`` rows of one table,
each in two short transactions of its own, like the mail outbox (cases/outbox/notifications.py): a
*claim* (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) counts the attempt
and leases the row; the POST runs outside any transaction with a timeout; a *mark* records
``sent`` (any 2xx) or the failure. Failures retry with the outbox's backoff (1, 2, 4 … minutes, at
most an hour) up to ``max_attempts``; a 4xx other than 408/429 fails the row at once. Delivery is at
least once: every post carries ``Idempotency-Key: <prefix>-<row id>`` so the receiver can drop a
repeat after a deliverer died between the answer and the mark.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select

from cases.core.db import db, unit_of_work
from cases.core.models import utcnow
from cases.outbox.notifications import backoff, next_due

PENDING, SENT, FAILED, RECORDED = "pending", "sent", "failed", "recorded"
LEASE = timedelta(minutes=5)
log = logging.getLogger("caseflow.webhooks")


@dataclass(frozen=True)
class Claimed:
    id: int
    url: str
    payload: dict


@dataclass(frozen=True)
class Outbox:
    """One table of posts: its model, the prefix of its idempotency keys, and how to sign a body
    (``sign(body bytes) -> extra headers``; None: unsigned)."""

    model: Any
    key_prefix: str
    timeout: float = 10.0
    max_attempts: int = 8
    sign: Callable[[bytes], dict[str, str]] | None = None


def deliver_pending(outbox: Outbox, now: datetime | None = None, limit: int = 100) -> int:
    """Post up to ``limit`` due pending rows of ``outbox``; returns how many were accepted. Call it
    outside a unit of work (each row is claimed and marked in transactions of its own)."""
    sent = 0
    for _ in range(limit):
        at = now or utcnow()
        item = _claim(outbox, at)
        if item is None:
            break
        status, error, permanent = post(outbox, item)
        with unit_of_work():
            row = _locked(outbox.model, item.id)
            if row is None:
                continue
            row.response_status = status
            if error is None:
                row.status, row.sent_at, row.last_error = SENT, at, None
                sent += 1
                continue
            log.warning("%s %s not delivered: %s", outbox.key_prefix, item.id, error)
            row.last_error = error[:2000]
            if permanent or row.attempts >= outbox.max_attempts:
                row.status = FAILED
            else:
                row.send_after = at + backoff(row.attempts)
    return sent


def _claim(outbox: Outbox, at: datetime) -> Claimed | None:
    model = outbox.model
    with unit_of_work():
        while True:
            row = next_due(model, at)
            if row is None:
                return None
            if row.attempts < outbox.max_attempts and row.url:
                break
            # deliverers died while posting it, attempt after attempt (or it has nowhere to go)
            row.status = FAILED
            row.last_error = f"gave up after {row.attempts} attempts; last: {row.last_error or 'interrupted'}"
        row.attempts += 1
        row.send_after = at + max(LEASE, timedelta(seconds=10 * outbox.timeout))
        return Claimed(row.id, row.url, dict(row.payload))


def _locked(model: Any, row_id: int) -> Any:
    return db.session.scalar(select(model).where(model.id == row_id)
                             .with_for_update().execution_options(populate_existing=True))


def post(outbox: Outbox, item: Claimed) -> tuple[int | None, str | None, bool]:
    """(HTTP status, error or None, whether the error is permanent)."""
    body = json.dumps(item.payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8",
               "Idempotency-Key": f"{outbox.key_prefix}-{item.id}", "User-Agent": "caseflow"}
    if outbox.sign is not None:
        headers.update(outbox.sign(body))
    request = urllib.request.Request(item.url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=outbox.timeout) as response:
            return response.status, None, False
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        return exc.code, f"HTTP {exc.code} {exc.reason}", permanent
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", False
