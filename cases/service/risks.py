"""The risk register (seed 004 6.1-6.3): risks by kind and level, each with an owner, a contingency
plan and a review date, linked to the cases (and escalations) that are evidence of it.

A risk is raised from the register or from a case (then that case is its first evidence and its
timeline says so). When its review date comes, the scheduler's service job (``cases/service/due.py``)
makes the review due: the owner is mailed once and the review waits in the register's "reviews due"
list until the owner (or a supervisor) reviews it — confirming or changing the level, with notes and
the next review date, or closing the risk. The quarterly review lists the open high risks.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, NoReturn

from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from cases.core import audit, events
from cases.core.access import require_role, restrict_cases, visible_case
from cases.core.db import db, unit_of_work, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import STAFF_ROLES, Case, Customer, Role, User, utcnow
from cases.core.texts import N_
from cases.kpis.figures import Period
from cases.outbox import notifications
from cases.service import review
from cases.service.oversight_models import Risk, RiskLink, RiskReview
from cases.sla import calendars
from cases.sla.models import Escalation

KINDS = {"technical": N_("Technical"), "operational": N_("Operational"), "security": N_("Security"),
         "market": N_("Market")}
LEVELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
OPEN, CLOSED = "open", "closed"
#: anyone on the staff may raise a risk or link evidence; these also review, re-own and close any risk
MANAGERS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.TECHNICAL_LEAD.value, Role.ADMIN.value)
STAFF = tuple(sorted(STAFF_ROLES))
FIELDS = ("title", "description", "kind", "level", "contingency_plan", "review_on")


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationFailed(message, [{"field": field, "message": message}])


def _risk(risk_id: int, lock: bool = False) -> Risk:
    query = select(Risk).where(Risk.id == risk_id)
    if lock:
        query = query.with_for_update(of=Risk)
    row: Risk | None = db.session.scalar(query)
    if row is None:
        raise NotFound(f"risk {risk_id} not found", resource="risk", id=risk_id)
    return row


def _check_seen(row: Risk, seen: int | None) -> None:
    if seen is None:
        raise PreconditionRequired("send the risk version you saw (If-Match header)")
    if seen != row.version:
        raise Conflict(f"the risk changed since version {seen}; it is now at {row.version}",
                       code="stale_version", current_version=row.version)


def _owner(username: str) -> User:
    user: User | None = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.is_staff:
        _refuse("owner", f"no active member of staff {username!r}")
    return user


def _check(fields: dict[str, Any], today: date) -> None:
    if "kind" in fields and fields["kind"] not in KINDS:
        _refuse("kind", f"one of {', '.join(KINDS)}")
    if "level" in fields and fields["level"] not in LEVELS:
        _refuse("level", f"one of {', '.join(LEVELS)}")
    if "review_on" in fields and not today <= fields["review_on"] <= date(today.year + 5, 12, 31):
        _refuse("review_on", "a date from today to five years ahead")


def today(now: datetime) -> date:
    """The service's date at ``now`` (the default calendar's zone)."""
    return now.astimezone(calendars.get(calendars.DEFAULT).tz).date()


# -- reading -------------------------------------------------------------------------------------
def register(actor: User, filters: dict[str, Any] | None = None) -> list[Risk]:
    """The register: open risks first, the highest level first, then the nearest review."""
    require_role(actor, *STAFF)
    filters = filters or {}
    order = sql_case({"high": 0, "medium": 1, "low": 2}, value=Risk.level)
    query = select(Risk).order_by(Risk.status.desc(), order, Risk.review_on, Risk.id)
    for name in ("kind", "level", "status"):
        if filters.get(name):
            query = query.where(getattr(Risk, name) == filters[name])
    if filters.get("case_id"):
        query = query.where(Risk.links.any(RiskLink.case_id == filters["case_id"]))
    if filters.get("review_due"):
        query = query.where(Risk.review_due_since.is_not(None), Risk.status == OPEN)
    return list(db.session.scalars(query))


def risk(actor: User, risk_id: int) -> Risk:
    require_role(actor, *STAFF)
    return _risk(risk_id)


def case_numbered(actor: User, number: str) -> Case | None:
    """The case with this number that ``actor`` may see (None: none)."""
    found: Case | None = db.session.scalar(restrict_cases(actor, select(Case).where(Case.number == number.strip())))
    return found


def of_case(case_id: int) -> list[Risk]:
    """The risks a case is evidence of (the case page lists them)."""
    return list(db.session.scalars(select(Risk).join(RiskLink, RiskLink.risk_id == Risk.id)
                                   .where(RiskLink.case_id == case_id).order_by(Risk.id)))


# -- writing -------------------------------------------------------------------------------------
def _link(actor: User, row: Risk, case_id: int, escalation_id: int | None, note: str | None) -> RiskLink:
    try:
        case = visible_case(actor, case_id)
    except NotFound:
        _refuse("case_id", f"no case {case_id}")
    if escalation_id is not None:
        escalation = db.session.get(Escalation, escalation_id)
        if escalation is None or escalation.case_id != case.id:
            _refuse("escalation_id", "not an escalation of that case")
    if any(link.case_id == case.id for link in row.links):
        _refuse("case_id", f"{case.number} is already evidence of this risk")
    link = RiskLink(risk=row, case_id=case.id, escalation_id=escalation_id, note=note, linked_by_id=actor.id,
                    linked_at=utcnow())
    db.session.add(link)
    db.session.flush()
    events.record(case, "risk_linked", actor, risk_id=row.id, title=row.title, risk_kind=row.kind, level=row.level,
                  escalation_id=escalation_id)
    return link


@use_case
def raise_risk(actor: User, fields: dict[str, Any], now: datetime | None = None) -> Risk:
    """Enter a risk; ``case_id`` (with ``escalation_id``): raised from that case, its first evidence."""
    require_role(actor, *STAFF)
    now = now or utcnow()
    for name in ("title", "kind", "level", "contingency_plan", "review_on"):
        if not fields.get(name):
            _refuse(name, "required")
    _check(fields, today(now))
    owner = _owner(fields["owner"]) if fields.get("owner") else actor
    customer = None
    if fields.get("customer_id") is not None:
        customer = db.session.get(Customer, fields["customer_id"])
        if customer is None:
            _refuse("customer_id", f"no customer {fields['customer_id']}")
    row = Risk(**{k: fields.get(k) for k in FIELDS}, owner=owner, owner_id=owner.id, status=OPEN,
               customer_id=customer.id if customer else None, created_by_id=actor.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    if fields.get("case_id") is not None:
        link = _link(actor, row, fields["case_id"], fields.get("escalation_id"), fields.get("note"))
        if row.customer_id is None:
            row.customer_id = link.case.customer_id
    elif fields.get("escalation_id") is not None:
        _refuse("escalation_id", "an escalation is linked with its case (case_id)")
    audit.record(actor, "risk_raised", row.id, kind=row.kind, level=row.level)
    return row


@use_case
def update(actor: User, risk_id: int, fields: dict[str, Any], seen: int | None,
           now: datetime | None = None) -> Risk:
    """Change what is known of a risk: its texts, kind, level, owner, review date (a new date
    answers a review that was due)."""
    row = _risk(risk_id, lock=True)
    if not (actor.has_role(*MANAGERS) or actor.id == row.owner_id):
        require_role(actor, *MANAGERS)
    _check_seen(row, seen)
    if not row.is_open:
        raise Conflict("the risk is closed", code="risk_closed")
    now = now or utcnow()
    _check(fields, today(now))
    for name in FIELDS:
        if name in fields:
            if fields[name] in (None, "") and name != "description":
                _refuse(name, "required")
            setattr(row, name, fields[name])
    if fields.get("owner"):
        row.owner = _owner(fields["owner"])
    if "review_on" in fields:
        row.review_due_since = None
    db.session.flush()
    audit.record(actor, "risk_updated", row.id, fields=sorted(fields))
    return row


@use_case
def link_case(actor: User, risk_id: int, fields: dict[str, Any]) -> RiskLink:
    require_role(actor, *STAFF)
    row = _risk(risk_id, lock=True)
    if fields.get("case_id") is None:
        _refuse("case_id", "required")
    return _link(actor, row, fields["case_id"], fields.get("escalation_id"), fields.get("note"))


@use_case
def review_risk(actor: User, risk_id: int, fields: dict[str, Any], seen: int | None,
                now: datetime | None = None) -> RiskReview:
    """The owner's review: the level now, notes, and either the next review date or ``close``."""
    row = _risk(risk_id, lock=True)
    if not (actor.has_role(*MANAGERS) or actor.id == row.owner_id):
        require_role(actor, *MANAGERS)
    _check_seen(row, seen)
    if not row.is_open:
        raise Conflict("the risk is closed", code="risk_closed")
    now = now or utcnow()
    if not fields.get("notes"):
        _refuse("notes", "required")
    level = fields.get("level") or row.level
    _check({"level": level}, today(now))
    close = bool(fields.get("close"))
    next_on: date | None = fields.get("next_review_on")
    if close and next_on is not None:
        _refuse("next_review_on", "a closed risk is not reviewed again")
    if not close:
        if next_on is None:
            _refuse("next_review_on", "required unless the risk is closed")
        _check({"review_on": next_on}, today(now))
        if next_on <= today(now):
            _refuse("next_review_on", "a date after today")
    entry = RiskReview(risk=row, reviewed_by_id=actor.id, reviewed_at=now, level=level, notes=fields["notes"],
                       next_review_on=next_on, closed=close)
    db.session.add(entry)
    row.level, row.review_due_since = level, None
    if close:
        row.status, row.closed_at = CLOSED, now
    elif next_on is not None:
        row.review_on = next_on
    db.session.flush()
    for link in row.links:
        events.record(link.case, "risk_reviewed", actor, risk_id=row.id, title=row.title, level=level, closed=close)
    audit.record(actor, "risk_reviewed", row.id, level=level, closed=close)
    return entry


# -- review dates (the scheduler's service job, cases/service/due.py) ----------------------------
def review_moment(day: date) -> datetime:
    """A review date comes at 09:00 on that day in the default calendar's zone."""
    return datetime.combine(day, time(9), tzinfo=calendars.get(calendars.DEFAULT).tz)


def open_due_reviews(now: datetime | None = None) -> list[int]:
    """Every open risk whose review date has come and whose review is not yet due becomes due, once:
    its owner is mailed. The risks made due."""
    now = now or utcnow()
    candidates = list(db.session.scalars(select(Risk.id).where(
        Risk.status == OPEN, Risk.review_due_since.is_(None), Risk.review_on <= today(now)).order_by(Risk.id)))
    db.session.rollback()
    opened = []
    for risk_id in candidates:
        with unit_of_work():
            row = db.session.scalar(select(Risk).where(Risk.id == risk_id).with_for_update(skip_locked=True, of=Risk))
            if row is None or row.review_due_since is not None or not row.is_open or review_moment(row.review_on) > now:
                continue
            row.review_due_since = now
            notifications.enqueue(
                "risk_review_due", [row.owner], f"风险复核到期 / Risk review due: {row.title}",
                f"风险“{row.title}”今天需要复核。\nThe risk \"{row.title}\" is due for review today.\n\n"
                f"{row.kind} · {row.level}\n{row.contingency_plan}\n")
            opened.append(row.id)
    return opened


# -- the quarterly review ------------------------------------------------------------------------
@review.section("risks", 40)
def review_section(period: Period, customer_id: int | None) -> review.Section:
    """The open high risks now (a register has no history by period), and the risks raised in the period."""
    scope = select(Risk)
    if customer_id is not None:
        scope = scope.where(Risk.customer_id == customer_id)
    open_high = list(db.session.scalars(scope.where(Risk.status == OPEN, Risk.level == "high")
                                        .order_by(Risk.review_on, Risk.id)))
    counts = dict(db.session.execute(select(Risk.level, func.count()).where(
        Risk.status == OPEN, *([Risk.customer_id == customer_id] if customer_id is not None else []))
        .group_by(Risk.level)).all())
    raised = db.session.scalar(select(func.count()).select_from(scope.where(
        Risk.created_at >= period.start, Risk.created_at < period.end).subquery())) or 0
    table = review.Table(
        (("title", N_("Risk")), ("kind", N_("Kind")), ("owner", N_("Owner")),
         ("contingency_plan", N_("Contingency plan")), ("review_on", N_("Review date")), ("cases", N_("Cases"))),
        tuple({"title": r.title, "kind": KINDS[r.kind], "owner": r.owner.display_name,
               "contingency_plan": r.contingency_plan, "review_on": r.review_on.isoformat(),
               "cases": ", ".join(link.case.number or "" for link in r.links)} for r in open_high))
    return review.Section("risks", N_("Risks"), (
        review.Figure("open_high", N_("Open high risks"), counts.get("high", 0), target=0, higher_is_better=False),
        review.Figure("open_medium", N_("Open medium risks"), counts.get("medium", 0)),
        review.Figure("open_low", N_("Open low risks"), counts.get("low", 0)),
        review.Figure("raised", N_("Risks raised in the period"), raised),
    ), (table,))
