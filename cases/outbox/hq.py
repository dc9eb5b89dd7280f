"""Bug reports to the HQ product team: recorded with the step that reports, posted afterwards.

Writing. ``report`` (called by the ``report_to_hq`` service task, inside the step's unit of
work) adds an ``hq_reports`` row and a case event and never talks to the network: a step that
rolls back reports nothing, and one that commits cannot lose its report. With
``HQ_WEBHOOK_URL`` unset the row is ``recorded`` only and never posted.

Delivering. ``deliver_pending`` posts due ``pending`` rows as JSON to the URL stored on the
row through the webhook outbox machinery (cases/outbox/webhooks.py: claim, POST with
``HQ_WEBHOOK_TIMEOUT`` outside any transaction, mark; backoff up to ``HQ_WEBHOOK_MAX_ATTEMPTS``).
Delivery is at least once: every post carries the header
``Idempotency-Key: caseflow-hq-<report id>`` (and ``report_id`` in the body), so HQ can drop a
repeat after a deliverer died between HQ's answer and the mark.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from cases.core import events
from cases.core.db import db
from cases.core.models import Case, User, utcnow
from cases.core.services import ServiceContext, operation
from cases.outbox import webhooks
from cases.outbox.models import HqReport
from cases.outbox.webhooks import PENDING, RECORDED


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

def outbox(settings: HqSettings | None = None) -> webhooks.Outbox:
    settings = settings or app_settings()
    return webhooks.Outbox(HqReport, "caseflow-hq", settings.timeout, settings.max_attempts)


def deliver_pending(now: datetime | None = None, limit: int = 100, settings: HqSettings | None = None) -> int:
    """Post up to ``limit`` due pending reports; returns how many HQ accepted. Call it outside a
    unit of work (each report is claimed and marked in transactions of its own)."""
    return webhooks.deliver_pending(outbox(settings), now, limit)


@operation("report_to_hq")
def _report_operation(ctx: ServiceContext, category: str | None, priority: str | None,
                      note: str | None = None) -> dict[str, Any]:
    """Record a bug report for HQ, posted to HQ_WEBHOOK_URL after the step."""
    return report(ctx.case, ctx.actor, category, priority, note)


@operation("record_fixed_version")
def _fixed_version_operation(ctx: ServiceContext, version: Any, notes: Any) -> dict[str, Any]:
    return record_fixed_version(ctx.case, ctx.actor, version, notes)
