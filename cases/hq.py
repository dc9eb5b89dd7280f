"""Bug reports to the HQ product team: recorded with the step that reports, posted afterwards.

Writing. ``report`` (called by the ``report_to_hq`` service task, inside the step's unit of
work) adds an ``hq_reports`` row and a case event and never talks to the network: a step that
rolls back reports nothing, and one that commits cannot lose its report. With
``HQ_WEBHOOK_URL`` unset the row is ``recorded`` only and never posted.

Delivering. ``deliver_pending`` posts due ``pending`` rows as JSON to the URL stored on the
row, each in two short transactions of its own, like the mail outbox (cases/notifications.py):
a *claim* (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) counts the
attempt and leases the row; the POST runs outside any transaction with a timeout
(``HQ_WEBHOOK_TIMEOUT``); a *mark* records ``sent`` (any 2xx) or the failure. Failures retry with
the outbox's backoff (1, 2, 4 … minutes, at most an hour) up to ``HQ_WEBHOOK_MAX_ATTEMPTS``; a 4xx
other than 408/429 fails the row at once. Delivery is at least once: every post carries the
header ``Idempotency-Key: caseflow-hq-<report id>`` (and ``report_id`` in the body), so HQ can
drop a repeat after a deliverer died between HQ's answer and the mark.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from . import events
from .db import db, unit_of_work
from .models import Case, HqReport, User, utcnow
from .notifications import backoff

PENDING, SENT, FAILED, RECORDED = "pending", "sent", "failed", "recorded"
LEASE = timedelta(minutes=5)
log = logging.getLogger("caseflow.hq")


@dataclass(frozen=True)
class HqSettings:
    url: str | None
    timeout: float = 10.0
    max_attempts: int = 8


def app_settings() -> HqSettings:
    config = current_app.config
    return HqSettings(config.get("HQ_WEBHOOK_URL"), float(config.get("HQ_WEBHOOK_TIMEOUT", 10)),
                      int(config.get("HQ_WEBHOOK_MAX_ATTEMPTS", 8)))


def _payload(case: Case, report_id: int, at: datetime, category: str | None, priority: str | None) -> dict[str, Any]:
    return {
        "report_id": report_id, "case_id": case.id, "case_number": case.number, "reported_at": at.isoformat(),
        "customer": {"code": case.customer.code, "name": case.customer.name, "tier": case.customer.tier},
        "category": category or case.category, "priority": priority or case.priority, "title": case.title,
        "description": case.description, "environment": case.environment,
        "steps_to_reproduce": case.steps_to_reproduce,
    }


def report(case: Case, actor: User | None, category: str | None = None, priority: str | None = None,
           note: str | None = None) -> dict[str, Any]:
    """Record a bug report of ``case`` for HQ (in the caller's unit of work). ``category`` and
    ``priority``: the process's, which the case's fields only take after the step."""
    settings = app_settings()
    now = utcnow()
    row = HqReport(case_id=case.id, payload={}, url=settings.url, status=PENDING if settings.url else RECORDED,
                   created_at=now, send_after=now)
    db.session.add(row)
    db.session.flush()
    row.payload = {**_payload(case, row.id, now, category, priority), **({"note": note} if note else {})}
    events.record(case, "hq_reported", actor, public=True, report_id=row.id, status=row.status)
    return {"report_id": row.id, "status": row.status}


def record_fixed_version(case: Case, actor: User | None, version: str | None, notes: str | None) -> dict[str, Any]:
    """HQ's answer to the case's latest report: the release that fixes it."""
    row = db.session.scalar(select(HqReport).where(HqReport.case_id == case.id)
                            .order_by(HqReport.id.desc()).limit(1))
    now = utcnow()
    if row is not None:
        row.fixed_version, row.fixed_at = (str(version)[:100] if version is not None else None), now
    events.record(case, "fixed_version_received", actor, public=True, version=version, notes=notes,
                  report_id=row.id if row else None)
    return {"report_id": row.id if row else None, "version": version}


def reports_of(case_id: int) -> list[HqReport]:
    return list(db.session.scalars(select(HqReport).where(HqReport.case_id == case_id).order_by(HqReport.id)))


# -- delivery ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claimed:
    id: int
    url: str
    payload: dict


def deliver_pending(now: datetime | None = None, limit: int = 100, settings: HqSettings | None = None) -> int:
    """Post up to ``limit`` due pending reports; returns how many HQ accepted. Call it outside a
    unit of work (each report is claimed and marked in transactions of its own)."""
    settings = settings or app_settings()
    sent = 0
    for _ in range(limit):
        at = now or utcnow()
        item = _claim(settings, at)
        if item is None:
            break
        status, error, permanent = _post(item, settings.timeout)
        with unit_of_work():
            row = _locked(item.id)
            if row is None:
                continue
            row.response_status = status
            if error is None:
                row.status, row.sent_at, row.last_error = SENT, at, None
                sent += 1
                continue
            log.warning("HQ report %s not delivered: %s", item.id, error)
            row.last_error = error[:2000]
            if permanent or row.attempts >= settings.max_attempts:
                row.status = FAILED
            else:
                row.send_after = at + backoff(row.attempts)
    return sent


def _claim(settings: HqSettings, at: datetime) -> _Claimed | None:
    with unit_of_work():
        while True:
            row = db.session.scalar(
                select(HqReport).where(HqReport.status == PENDING, HqReport.send_after <= at)
                .order_by(HqReport.send_after, HqReport.id).limit(1)
                .with_for_update(skip_locked=True).execution_options(populate_existing=True))
            if row is None:
                return None
            if row.attempts < settings.max_attempts and row.url:
                break
            # deliverers died while posting it, attempt after attempt (or it has nowhere to go)
            row.status = FAILED
            row.last_error = f"gave up after {row.attempts} attempts; last: {row.last_error or 'interrupted'}"
        row.attempts += 1
        row.send_after = at + max(LEASE, timedelta(seconds=10 * settings.timeout))
        return _Claimed(row.id, row.url, dict(row.payload))


def _locked(report_id: int) -> HqReport | None:
    return db.session.scalar(select(HqReport).where(HqReport.id == report_id)
                             .with_for_update().execution_options(populate_existing=True))


def _post(item: _Claimed, timeout: float) -> tuple[int | None, str | None, bool]:
    """(HTTP status, error or None, whether the error is permanent)."""
    request = urllib.request.Request(
        item.url, data=json.dumps(item.payload, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "Idempotency-Key": f"caseflow-hq-{item.id}", "User-Agent": "caseflow"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            return response.status, None, False
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        return exc.code, f"HTTP {exc.code} {exc.reason}", permanent
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", False
