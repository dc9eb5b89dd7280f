"""Repairs and visits on site (seed 004: 硬件维修与更换, 预约上门服务时间窗口, 记录维修日志).

Staff book a repair or a visit for a case in an appointment window; the customer confirms it or
answers with another window, which staff confirm or answer in turn (``proposed`` ⇄
``counter_proposed`` → ``confirmed``). A front-line staff member may confirm for the customer (the
customer said yes on the phone). When a window is set the warranty is checked on its day: a contract
of the customer in warranty then (``contracts.warranty_until``) means no charge, otherwise the visit
is charged at the price of the special service chosen from the catalogue (required then). The day
before a confirmed visit the customer is reminded (``due.py``, run by the scheduler). The
technician's repair log (arrival, time on site, parts, result) closes the visit as ``done``. Every
step is a public event on the case's timeline.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.access import visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cases.core.models import Case, User, UserRole, utcnow
from cases.customers.models import Contract
from cases.service import catalogue
from cases.service.common import FIELD_STAFF, check_seen, local_day, require_field_staff
from cases.service.visit_models import RepairLog, Visit

KINDS = ("repair", "visit")
RESULTS = ("repaired", "replaced", "not_repairable", "advised")
STATUSES = ("proposed", "counter_proposed", "confirmed", "done", "cancelled")
OPEN_STATUSES = ("proposed", "counter_proposed", "confirmed")
MAX_MINUTES = 24 * 60


def warranty_on(customer_id: int, moment: datetime) -> Contract | None:
    """The customer's contract whose warranty covers the day of ``moment`` (local), if any."""
    day = local_day(moment)
    return db.session.scalar(select(Contract).where(
        Contract.customer_id == customer_id, Contract.start <= day, Contract.warranty_until.is_not(None),
        Contract.warranty_until >= day).order_by(Contract.warranty_until.desc()).limit(1))


def visits_of(user: User, case_id: int) -> list[Visit]:
    visible_case(user, case_id)
    return list(db.session.scalars(select(Visit).where(Visit.case_id == case_id).order_by(Visit.window_start,
                                                                                          Visit.id)))


def get(user: User, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found", resource="visit", id=visit_id)
    visible_case(user, visit.case_id)  # the same 404 for another organisation's visit
    return visit


def _window_errors(fields: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    errors = []
    start, end = fields.get("window_start"), fields.get("window_end")
    if start is not None and start <= now:
        errors.append({"field": "window_start", "message": "the window must start in the future"})
    if start is not None and end is not None and end <= start:
        errors.append({"field": "window_end", "message": "must be after window_start"})
    if start is not None and end is not None and (end - start).total_seconds() > MAX_MINUTES * 60:
        errors.append({"field": "window_end", "message": "a window is at most 24 hours long"})
    return errors


def _technician(username: str | None, errors: list[dict[str, Any]]) -> User | None:
    if not username:
        return None
    found = db.session.scalar(select(User).join(UserRole).where(
        User.username == username, User.active.is_(True), UserRole.role.in_(FIELD_STAFF)).limit(1))
    if found is None:
        errors.append({"field": "technician", "message": f"{username!r} is not an active front-line staff member"})
    return found


def _price(visit: Visit, case: Case, code: str | None, errors: list[dict[str, Any]]) -> None:
    """Check the warranty on the window's day: no charge in warranty, else the catalogue price."""
    contract = warranty_on(case.customer_id, visit.window_start)
    item = None
    if code:
        item = catalogue.by_code(code)
        if item is None or not item.active:
            errors.append({"field": "catalogue_code", "message": f"{code!r} is not an active entry of the service "
                                                                 "catalogue"})
            item = None
    elif contract is None and visit.catalogue_item_id is None:
        errors.append({"field": "catalogue_code", "message": "out of warranty on that day: choose the special "
                                                             "service from the catalogue the visit is charged as"})
    if item is not None:
        visit.catalogue_item = item
    visit.contract = contract
    visit.in_warranty = contract is not None
    visit.charge_cents = 0 if contract is not None or visit.catalogue_item is None else visit.catalogue_item.price_cents


def _public(visit: Visit) -> dict[str, Any]:
    return {"visit_id": visit.id, "visit_kind": visit.kind, "window_start": visit.window_start.isoformat(),
            "window_end": visit.window_end.isoformat(), "in_warranty": visit.in_warranty,
            "charge": visit.charge_cents / 100}


@use_case
def book(user: User, case_id: int, fields: dict[str, Any]) -> Visit:
    """Staff propose a repair or visit in a window; the customer is asked to confirm it."""
    require_field_staff(user)
    case = visible_case(user, case_id)
    if not case.is_open:
        raise Conflict(f"case {case.number} is closed", code="case_closed")
    now = utcnow()
    errors = _window_errors(fields, now)
    if fields["kind"] not in KINDS:
        errors.append({"field": "kind", "message": f"one of {', '.join(KINDS)}"})
    technician = _technician(fields.get("technician"), errors)
    visit = Visit(case=case, case_id=case.id, kind=fields["kind"], window_start=fields["window_start"],
                  window_end=fields["window_end"], status="proposed", proposed_by="staff",
                  purpose=fields["purpose"], technician=technician, created_by_id=user.id, created_at=now)
    if not errors:
        _price(visit, case, fields.get("catalogue_code"), errors)
    if errors:
        raise ValidationFailed("the visit cannot be booked", errors)
    db.session.add(visit)
    db.session.flush()
    events.record(case, "visit_proposed", user, public=True, by="staff", purpose=visit.purpose, **_public(visit))
    return visit


def _open(visit: Visit) -> None:
    if visit.status not in OPEN_STATUSES:
        raise Conflict(f"visit {visit.id} is {visit.status}", code="visit_not_open", visit_status=visit.status)


def _side(user: User, visit: Visit) -> str:
    if user.is_customer and user.customer_id == visit.case.customer_id:
        return "customer"
    if user.has_role(*FIELD_STAFF):
        return "staff"
    raise Forbidden("only the customer or front-line staff answer an appointment")


@use_case
def confirm(user: User, visit_id: int, seen: int | None) -> Visit:
    """The other side accepts the window proposed (staff may confirm for the customer)."""
    visit = get(user, visit_id)
    check_seen("visit", visit.version, seen)
    _open(visit)
    side = _side(user, visit)
    if visit.status == "confirmed":
        raise Conflict(f"visit {visit.id} is confirmed already", code="visit_confirmed")
    if visit.status == "counter_proposed" and side == "customer":
        raise Conflict("the window is your own proposal: staff confirm it", code="own_proposal")
    visit.status, visit.confirmed_at = "confirmed", utcnow()
    events.record(visit.case, "visit_confirmed", user, public=True, by=side, **_public(visit))
    return visit


@use_case
def propose(user: User, visit_id: int, fields: dict[str, Any], seen: int | None) -> Visit:
    """Answer with another window (the customer: a counter-proposal; staff: a new proposal)."""
    visit = get(user, visit_id)
    check_seen("visit", visit.version, seen)
    _open(visit)
    side = _side(user, visit)
    errors = _window_errors(fields, utcnow())
    if errors:
        raise ValidationFailed("the window cannot be proposed", errors)
    visit.window_start, visit.window_end = fields["window_start"], fields["window_end"]
    visit.status = "counter_proposed" if side == "customer" else "proposed"
    visit.proposed_by, visit.confirmed_at, visit.reminder_sent_at = side, None, None
    if side == "customer":
        visit.customer_note = fields.get("note")
    _price(visit, visit.case, None if side == "customer" else fields.get("catalogue_code"), errors)
    if errors:
        raise ValidationFailed("the window cannot be proposed", errors)
    events.record(visit.case, "visit_counter_proposed" if side == "customer" else "visit_proposed", user,
                  public=True, by=side, note=fields.get("note"), **_public(visit))
    return visit


@use_case
def cancel(user: User, visit_id: int, reason: str, seen: int | None) -> Visit:
    require_field_staff(user)
    visit = get(user, visit_id)
    check_seen("visit", visit.version, seen)
    _open(visit)
    visit.status = "cancelled"
    events.record(visit.case, "visit_cancelled", user, public=True, reason=reason, **_public(visit))
    return visit


@use_case
def record_log(user: User, visit_id: int, fields: dict[str, Any]) -> RepairLog:
    """The technician's repair log: arrival, time on site, parts, result; the visit is done."""
    require_field_staff(user)
    visit = get(user, visit_id)
    if visit.status not in ("confirmed", "done"):
        raise Conflict(f"visit {visit.id} is {visit.status}: only a confirmed visit is logged",
                       code="visit_not_confirmed", visit_status=visit.status)
    errors = []
    if fields["result"] not in RESULTS:
        errors.append({"field": "result", "message": f"one of {', '.join(RESULTS)}"})
    if not 1 <= fields["minutes"] <= MAX_MINUTES:
        errors.append({"field": "minutes", "message": f"from 1 to {MAX_MINUTES}"})
    if fields["arrived_at"] > utcnow():
        errors.append({"field": "arrived_at", "message": "cannot be in the future"})
    if errors:
        raise ValidationFailed("the repair log cannot be recorded", errors)
    now = utcnow()
    log = RepairLog(visit=visit, visit_id=visit.id, arrived_at=fields["arrived_at"], minutes=fields["minutes"],
                    parts=list(fields.get("parts") or []), result=fields["result"], notes=fields["notes"],
                    recorded_by_id=user.id, recorded_at=now)
    db.session.add(log)
    db.session.flush()  # the answer carries the log's id: the request's unit commits after the response is built
    visit.status, visit.done_at = "done", visit.done_at or now
    events.record(visit.case, "visit_done", user, public=True, result=log.result, minutes=log.minutes,
                  parts=log.parts, **_public(visit))
    return log


def within_window(visit: Visit) -> bool | None:
    """Whether the technician arrived within the confirmed window (None: not logged)."""
    if not visit.logs:
        return None
    arrived = min(log.arrived_at for log in visit.logs)
    return visit.window_start <= arrived <= visit.window_end
