"""Quality audits (seed 004: 质量监控员负责对服务过程进行监督和检查): the quality monitor samples closed
cases of a period for audit and audits each against a checklist, giving a score.

The sample is random but reproducible: the support cases closed in the period are ranked by a hash of
the period and the case's id, and the first ``share`` of them (rounded up) are drawn. Drawing the same
period again draws the same cases (a case closed late in the period may join) and never draws a case
twice. ``share`` is chosen per draw; its default is the configuration's ``QUALITY_AUDIT_SHARE`` (10 %).

An audit answers each checklist item (met or not); its score is the share of items met, 0-100. The
audit is an internal event on the case's timeline. The quarterly review shows the audited count and the
average score.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any, NoReturn

from flask import current_app
from sqlalchemy import func, select

from cases.core import audit, events
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import Case, CaseKind, CaseStatus, Role, User, utcnow
from cases.core.texts import N_
from cases.kpis.figures import Period, period_problems
from cases.service import review
from cases.service.oversight_models import QualityAudit

#: the checklist (DOMAIN.md "The life of a case": what a well-handled case leaves on record)
CHECKLIST = {
    "report_complete": N_("The report has a description, the environment and the steps to reproduce"),
    "classified": N_("Category and priority were recorded"),
    "owner_and_deadline": N_("An owner and a deadline were set"),
    "analysis_recorded": N_("The analysis (root cause) was recorded"),
    "solution_recorded": N_("The solution was recorded"),
    "customer_confirmed": N_("The customer confirmed the solution"),
    "satisfaction_recorded": N_("The customer's satisfaction was recorded"),
    "communication_clear": N_("The messages to the customer were clear and polite"),
}
DEFAULT_SHARE = 0.1
PENDING, DONE = "pending", "done"
#: the quality monitor's work: supervisors and the customer service manager (and admins)
MONITORS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.ADMIN.value)


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationFailed(message, [{"field": field, "message": message}])


def require_monitor(actor: User) -> None:
    require_role(actor, *MONITORS)


def default_share() -> float:
    return float(current_app.config.get("QUALITY_AUDIT_SHARE", DEFAULT_SHARE))


def rank(period: Period, case_id: int) -> str:
    """The case's place in the period's draw: the same for the same period, whoever draws."""
    return hashlib.sha256(f"{period.first.isoformat()}/{period.last.isoformat()}/{case_id}".encode()).hexdigest()


def _closed_in(period: Period) -> list[int]:
    return list(db.session.scalars(select(Case.id).where(
        Case.kind == CaseKind.SUPPORT.value, Case.status == CaseStatus.CLOSED.value,
        Case.closed_at >= period.start, Case.closed_at < period.end)))


@use_case
def draw(actor: User, period: Period, share: float | None = None) -> list[QualityAudit]:
    """Draw the period's sample: the audits drawn now (cases already drawn stay as they are)."""
    require_role(actor, *MONITORS)
    problems = period_problems(period.first, period.last)
    if problems:
        raise ValidationFailed("the period is not valid", problems)
    share = default_share() if share is None else share
    if not 0 < share <= 1:
        _refuse("share", "a share above 0 and at most 1")
    closed = sorted(_closed_in(period), key=lambda case_id: rank(period, case_id))
    chosen = closed[:math.ceil(share * len(closed))]
    drawn = set(db.session.scalars(select(QualityAudit.case_id).where(QualityAudit.case_id.in_(chosen)))) \
        if chosen else set()
    now = utcnow()
    added = [QualityAudit(case_id=case_id, period_first=period.first, period_last=period.last, drawn_at=now,
                          drawn_by_id=actor.id, status=PENDING) for case_id in chosen if case_id not in drawn]
    db.session.add_all(added)
    db.session.flush()
    audit.record(actor, "quality_sample_drawn", f"{period.first}..{period.last}", share=share,
                 closed=len(closed), drawn=len(added))
    return added


def audits(actor: User, status: str | None = None, period: Period | None = None) -> list[QualityAudit]:
    require_role(actor, *MONITORS)
    query = select(QualityAudit).order_by(QualityAudit.status.desc(), QualityAudit.period_first.desc(),
                                          QualityAudit.id)
    if status:
        query = query.where(QualityAudit.status == status)
    if period is not None:
        query = query.where(QualityAudit.period_first == period.first, QualityAudit.period_last == period.last)
    return list(db.session.scalars(query))


def _audit(audit_id: int, lock: bool = False) -> QualityAudit:
    query = select(QualityAudit).where(QualityAudit.id == audit_id)
    if lock:
        query = query.with_for_update(of=QualityAudit)
    row: QualityAudit | None = db.session.scalar(query)
    if row is None:
        raise NotFound(f"quality audit {audit_id} not found", resource="quality_audit", id=audit_id)
    return row


def get(actor: User, audit_id: int) -> QualityAudit:
    require_role(actor, *MONITORS)
    return _audit(audit_id)


def suggested(case: Case) -> dict[str, bool]:
    """What the record itself shows for each item (the auditor's form starts from it; the auditor decides)."""
    return {
        "report_complete": bool(case.description and case.environment and case.steps_to_reproduce),
        "classified": bool(case.category and case.priority),
        "owner_and_deadline": bool(case.owner_id and case.due_at),
        "analysis_recorded": bool(case.analysis),
        "solution_recorded": bool(case.solution),
        "customer_confirmed": case.status == CaseStatus.CLOSED.value and case.reopen_count == 0,
        "satisfaction_recorded": case.satisfaction is not None,
        "communication_clear": True,
    }


def score_of(checklist: dict[str, bool]) -> int:
    return round(100 * sum(1 for key in CHECKLIST if checklist[key]) / len(CHECKLIST))


@use_case
def record(actor: User, audit_id: int, seen: int | None, checklist: dict[str, Any], notes: str | None,
           now: datetime | None = None) -> QualityAudit:
    """The audit of one drawn case: every checklist item met or not, notes; the score follows."""
    require_role(actor, *MONITORS)
    row = _audit(audit_id, lock=True)
    if seen is None:
        raise PreconditionRequired("send the audit version you saw (\"version\")")
    if seen != row.version:
        raise Conflict(f"the audit changed since version {seen}; it is now at {row.version}",
                       code="stale_version", current_version=row.version)
    problems = [{"field": f"checklist.{key}", "message": "met (true) or not (false)"}
                for key in CHECKLIST if not isinstance(checklist.get(key), bool)]
    problems += [{"field": f"checklist.{key}", "message": "not an item of the checklist"}
                 for key in checklist if key not in CHECKLIST]
    if problems:
        raise ValidationFailed("the checklist is not complete", problems)
    now = now or utcnow()
    row.checklist = {key: checklist[key] for key in CHECKLIST}
    row.score, row.notes, row.status = score_of(row.checklist), notes, DONE
    row.auditor, row.auditor_id, row.audited_at = actor, actor.id, now
    db.session.flush()
    events.record(row.case, "quality_audited", actor, audit_id=row.id, score=row.score,
                  missed=[key for key in CHECKLIST if not row.checklist[key]])
    audit.record(actor, "quality_audited", row.case.number, score=row.score)
    return row


@review.section("quality", 50)
def review_section(period: Period, customer_id: int | None) -> review.Section:
    """The audits done in the period (their audit date in it) and their average score."""
    query = select(func.count(), func.avg(QualityAudit.score)).where(
        QualityAudit.status == DONE, QualityAudit.audited_at >= period.start, QualityAudit.audited_at < period.end)
    pending = select(func.count()).select_from(QualityAudit).where(QualityAudit.status == PENDING)
    if customer_id is not None:
        query = query.join(Case, Case.id == QualityAudit.case_id).where(Case.customer_id == customer_id)
        pending = pending.join(Case, Case.id == QualityAudit.case_id).where(Case.customer_id == customer_id)
    count, average = db.session.execute(query).one()
    return review.Section("quality", N_("Quality audits"), (
        review.Figure("audited", N_("Cases audited"), count or 0),
        review.Figure("average_score", N_("Average audit score"),
                      round(float(average) / 100, 4) if average is not None else None, "ratio"),
        review.Figure("pending", N_("Audits waiting"), db.session.scalar(pending) or 0),
    ))
