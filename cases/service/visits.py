"""Repairs and visits on site (seed 004: 硬件维修与更换, 预约上门服务时间窗口, 记录维修日志).

Staff book a repair or a visit for a case in an appointment window; the customer confirms it or
answers with another window, which staff confirm or answer in turn (``proposed`` ⇄
``counter_proposed`` → ``confirmed``). A front-line staff member may confirm for the customer (the
customer said yes on the phone). When a window is set the warranty is checked on its day: a contract
of the customer in warranty then (``contracts.warranty_until``) means no charge, otherwise the visit
is charged at the price of the special service chosen from the catalogue (required then). The
technician's repair log (arrival, time on site, parts, result) closes the visit as ``done``. Every
step is a public event on the case's timeline.

The dated work is a process the process owners can change (processes/service_visit.bpmn): booking a
visit starts it as a case of the internal kind ``visit`` (``service_process.py``; the visit names it,
``process_case_id``). It reads the appointment (``visit_state``) and waits: for the other side's
answer while the window is only proposed; for 10:00 the day before a confirmed window, when the step
``visit_reminder`` (visits_due.py) reminds the customer once; then for the window's end, when the task
"Record the repair" (form ``record_repair``) is the technician's. Every change here — a confirmation,
another window, a cancellation, a log recorded through the API — is told to the waiting process
(message ``visit_changed``), which reads the appointment again: a new window moves its timers, a
cancellation or a done visit ends it. The repair-log API completes the open "Record the repair" task
(its step ``write_repair_log`` writes the log with this module's rules); before the window's end it
records the log itself and the process ends.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from cases.casework import tasks
from cases.core import events
from cases.core.access import visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cases.core.models import Case, CaseKind, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.customers.models import Contract
from cases.process import forms
from cases.service import catalogue, service_process
from cases.service.common import FIELD_STAFF, check_seen, local_day, require_field_staff, zone
from cases.service.visit_models import RepairLog, Visit
from cases.service.visits_due import reminder_due
from engine.errors import HandlerError

KINDS = ("repair", "visit")
RESULTS = ("repaired", "replaced", "not_repairable", "advised")
STATUSES = ("proposed", "counter_proposed", "confirmed", "done", "cancelled")
OPEN_STATUSES = ("proposed", "counter_proposed", "confirmed")
MAX_MINUTES = 24 * 60
#: the visit's process, its message, and its task the repair log completes
PROCESS = "service_visit"
MESSAGE = "visit_changed"
RECORD_TASK = "record_repair"
#: the "Record the repair" form's fields (process variables, empty until the form is sent)
LOG_FIELDS = ("arrived_at", "minutes", "parts", "result", "notes")


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
    _start_process(user, visit)
    db.session.flush()  # the answer carries the visit's version after its process case is named
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
    _follow(user, visit)
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
    _follow(user, visit)
    return visit


@use_case
def cancel(user: User, visit_id: int, reason: str, seen: int | None) -> Visit:
    require_field_staff(user)
    visit = get(user, visit_id)
    check_seen("visit", visit.version, seen)
    _open(visit)
    visit.status = "cancelled"
    events.record(visit.case, "visit_cancelled", user, public=True, reason=reason, **_public(visit))
    _follow(user, visit)
    return visit


@use_case
def record_log(user: User, visit_id: int, fields: dict[str, Any]) -> RepairLog:
    """The technician's repair log: arrival, time on site, parts, result; the visit is done. When the
    visit's process has its task "Record the repair" open, the log is that task's completion."""
    require_field_staff(user)
    visit = get(user, visit_id)
    if visit.status not in ("confirmed", "done"):
        raise Conflict(f"visit {visit.id} is {visit.status}: only a confirmed visit is logged",
                       code="visit_not_confirmed", visit_status=visit.status)
    errors = _log_errors(fields)
    if errors:
        raise ValidationFailed("the repair log cannot be recorded", errors)
    task = service_process.open_task(visit.process_case_id, RECORD_TASK)
    if task is not None:
        data = {"arrived_at": fields["arrived_at"].isoformat(), "minutes": fields["minutes"],
                "parts": list(fields.get("parts") or []), "result": fields["result"], "notes": fields["notes"]}
        tasks.complete_in_unit(user, task.id, data)
        found: RepairLog | None = db.session.scalar(select(RepairLog).where(RepairLog.visit_id == visit.id)
                                                   .order_by(RepairLog.id.desc()).limit(1))
        assert found is not None  # the process's step wrote it
        return found
    was = visit.status
    log = _write_log(user, visit, fields)
    if was != "done":
        service_process.tell(visit.process_case, MESSAGE, {"status": visit.status}, user)
    return log


def _log_errors(fields: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    if fields["result"] not in RESULTS:
        errors.append({"field": "result", "message": f"one of {', '.join(RESULTS)}"})
    if not 1 <= fields["minutes"] <= MAX_MINUTES:
        errors.append({"field": "minutes", "message": f"from 1 to {MAX_MINUTES}"})
    if fields["arrived_at"] > utcnow():
        errors.append({"field": "arrived_at", "message": "cannot be in the future"})
    return errors


def _write_log(user: User | None, visit: Visit, fields: dict[str, Any]) -> RepairLog:
    now = utcnow()
    log = RepairLog(visit=visit, visit_id=visit.id, arrived_at=fields["arrived_at"], minutes=fields["minutes"],
                    parts=list(fields.get("parts") or []), result=fields["result"], notes=fields["notes"],
                    recorded_by_id=user.id if user else None, recorded_at=now)
    db.session.add(log)
    db.session.flush()  # the answer carries the log's id: the request's unit commits after the response is built
    visit.status, visit.done_at = "done", visit.done_at or now
    events.record(visit.case, "visit_done", user, public=True, result=log.result, minutes=log.minutes,
                  parts=log.parts, **_public(visit))
    db.session.flush()
    return log


# -- the visit's process (processes/service_visit.bpmn) -------------------------------------------
def _start_process(actor: User | None, visit: Visit) -> Case | None:
    """Start the visit's process, owned by its technician (or whoever booked it)."""
    owner = visit.technician or (actor if actor is not None and actor.is_staff else None)
    serving = visit.case
    case = service_process.start(
        PROCESS, CaseKind.VISIT.value, owner, actor,
        f"{serving.number} · {visit.kind}: {visit.purpose}",
        f"The {visit.kind} of visit {visit.id} for case {serving.number} ({serving.customer.name}).",
        {"visit_id": visit.id, **dict.fromkeys(LOG_FIELDS)})
    if case is not None:
        visit.process_case, visit.process_case_id = case, case.id
    return case


def _follow(actor: User, visit: Visit) -> None:
    """The appointment changed: its process hears of it (and an open visit booked before the process
    was deployed gets one)."""
    db.session.flush()
    if service_process.tell(visit.process_case, MESSAGE, {"status": visit.status}, actor):
        return
    if visit.process_case_id is None and visit.status in OPEN_STATUSES and visit.window_start > utcnow():
        _start_process(actor, visit)
        db.session.flush()


def start_missing_processes() -> list[int]:
    """Open future visits without a process get one (booked before the process was deployed); the
    visits started. Run by the scheduler's service job (cases/service/due.py)."""
    if not service_process.deployed(PROCESS):
        return []

    def start_one(visit: Visit) -> bool:
        return (visit.process_case_id is None and visit.status in OPEN_STATUSES
                and _start_process(None, visit) is not None)

    return service_process.start_missing(Visit, select(Visit.id).where(
        Visit.status.in_(OPEN_STATUSES), Visit.process_case_id.is_(None), Visit.window_start > utcnow())
        .order_by(Visit.id), start_one)


def visit_of_step(ctx: ServiceContext, visit_id: int) -> Visit:
    """The visit a step of ``ctx``'s process works on (locked)."""
    visit: Visit | None = db.session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update(of=Visit))
    # (None: the process is starting as the visit is booked)
    if visit is None or visit.process_case_id not in (None, ctx.case_id):
        raise HandlerError("bad_parameter", f"visit {visit_id} is not run by this case")
    return visit


@operation("visit_state")
def state_step(ctx: ServiceContext, visit_id: int) -> dict[str, Any]:
    """Where the appointment stands now (the process waits for what comes next)."""
    visit = visit_of_step(ctx, visit_id)
    remind = visit.status == "confirmed" and visit.reminder_sent_at is None and visit.window_start > utcnow()
    return {"status": visit.status, "remind": remind, "reminder_at": reminder_due(visit).isoformat(),
            "window_end": visit.window_end.isoformat()}


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment


@operation("write_repair_log")
def record_step(ctx: ServiceContext, visit_id: int, arrived_at: Any, minutes: Any, parts: Any, result: Any,
                notes: Any) -> dict[str, Any]:
    """The step after "Record the repair": the form written into the repair log with the API's rules."""
    visit = visit_of_step(ctx, visit_id)
    if visit.status not in ("confirmed", "done"):
        raise HandlerError("bad_parameter", f"write_repair_log: visit {visit.id} is {visit.status}")
    moment = _moment(arrived_at)
    if moment is None or not isinstance(minutes, int) or isinstance(minutes, bool) or not isinstance(notes, str):
        raise HandlerError("bad_parameter", "write_repair_log: 'arrived_at' (a date-time), 'minutes' (a number) and "
                                            "'notes' are required")
    fields = {"arrived_at": moment, "minutes": minutes, "parts": [str(p) for p in parts or []], "result": result,
              "notes": notes}
    errors = _log_errors(fields)
    if errors:
        raise HandlerError("bad_parameter", f"write_repair_log: {errors[0]['field']}: {errors[0]['message']}")
    log = _write_log(ctx.actor, visit, fields)
    return {"log_id": log.id}


def arrival_problem(value: Any) -> str | None:
    """What is wrong with a repair's arrival time (None: fine): a date-time, not in the future."""
    moment = _moment(value)
    if moment is None:
        return "a date and time"
    if moment > utcnow():
        return "cannot be in the future"
    return None


#: the repair form's arrival is checked when the form is sent (422 naming the field, nothing run)
forms.reference("repair_arrival", arrival_problem, list)


def within_window(visit: Visit) -> bool | None:
    """Whether the technician arrived within the confirmed window (None: not logged)."""
    if not visit.logs:
        return None
    arrived = min(log.arrived_at for log in visit.logs)
    return visit.window_start <= arrived <= visit.window_end
