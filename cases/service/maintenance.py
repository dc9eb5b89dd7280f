"""Scheduled maintenance and backup checks per installation (seed 004: 定期对信息系统进行维护和检查,
定期为您的数据进行备份): a schedule on an installed product (``installed_products``) comes due every
``interval_days`` from ``next_due``; on its date (the service's local day) it opens an internal task of
its own for the assignee. A date missed while nothing ran still opens its task: one per date.

The dates are a process the process owners can change (processes/maintenance_schedule.bpmn): saving a
schedule starts it as a case of the internal kind ``maintenance`` of the service's own organisation
(``service_process.py``; the schedule names it, ``process_case_id``). It reads the schedule
(``maintenance_state``) and waits for 00:00 (local) on ``next_due``; then the step
``open_maintenance_task`` opens the date's internal task (every date come, at most ``CATCH_UP``) and
moves ``next_due`` on, and the process waits for the next date. Editing the schedule tells the waiting
process (message ``schedule_changed``), which reads it again: a new date moves its timer, a
deactivated schedule ends it (reactivating starts a new one). The internal tasks stay what they were:
of no case, staff only."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select

from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import NotFound, ValidationFailed
from cases.core.models import Case, CaseKind, CaseStatus, Customer, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.customers.models import InstalledProduct
from cases.service import service_process
from cases.service.common import PLANNERS, check_seen, local_day, require_staff, zone
from cases.service.visit_models import InternalTask, MaintenanceSchedule
from engine.errors import HandlerError

KINDS = ("maintenance", "backup_check")
MAX_INTERVAL = 366 * 2
#: the tasks one schedule opens in one run at most (a schedule long overdue)
CATCH_UP = 12
#: the schedule's process and its message
PROCESS = "maintenance_schedule"
MESSAGE = "schedule_changed"


def schedules(user: User, customer_id: int | None = None) -> list[MaintenanceSchedule]:
    require_staff(user, "maintenance schedule")
    query = select(MaintenanceSchedule).join(InstalledProduct)
    if customer_id is not None:
        query = query.where(InstalledProduct.customer_id == customer_id)
    return list(db.session.scalars(query.order_by(MaintenanceSchedule.next_due, MaintenanceSchedule.id)))


def installations(user: User) -> list[tuple[int, str]]:
    """(id, "customer — product version") of every installed product, for the schedule form."""
    require_staff(user, "installation")
    rows = db.session.execute(select(InstalledProduct, Customer).join(Customer, InstalledProduct.customer_id == Customer.id)
                              .order_by(Customer.name, InstalledProduct.product))
    return [(p.id, f"{c.name} — {p.product} {p.product_version}") for p, c in rows]


def _check(fields: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    if "kind" in fields and fields["kind"] not in KINDS:
        errors.append({"field": "kind", "message": f"one of {', '.join(KINDS)}"})
    if "interval_days" in fields and not 1 <= fields["interval_days"] <= MAX_INTERVAL:
        errors.append({"field": "interval_days", "message": f"from 1 to {MAX_INTERVAL}"})
    if fields.get("assignee"):
        found = db.session.scalar(select(User).join(UserRole).where(
            User.username == fields["assignee"], User.active.is_(True), User.customer_id.is_(None)).limit(1))
        if found is None:
            errors.append({"field": "assignee", "message": f"{fields['assignee']!r} is not an active staff member"})
        fields["assignee_user"] = found


@use_case
def create(user: User, fields: dict[str, Any]) -> MaintenanceSchedule:
    require_role(user, *PLANNERS)
    errors: list[dict[str, Any]] = []
    installation = db.session.get(InstalledProduct, fields["installed_product_id"])
    if installation is None:
        errors.append({"field": "installed_product_id", "message": "no such installed product"})
    _check(fields, errors)
    if errors:
        raise ValidationFailed("the schedule cannot be saved", errors)
    row = MaintenanceSchedule(installation=installation, kind=fields["kind"], interval_days=fields["interval_days"],
                              next_due=fields["next_due"], assignee=fields.get("assignee_user"),
                              notes=fields.get("notes"), active=True, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    _start_process(user, row)
    db.session.flush()  # the answer carries the version after the process case is named
    return row


@use_case
def update(user: User, schedule_id: int, fields: dict[str, Any], seen: int | None) -> MaintenanceSchedule:
    require_role(user, *PLANNERS)
    row = db.session.get(MaintenanceSchedule, schedule_id)
    if row is None:
        raise NotFound(f"maintenance schedule {schedule_id} not found", resource="schedule", id=schedule_id)
    check_seen("schedule", row.version, seen)
    errors: list[dict[str, Any]] = []
    _check(fields, errors)
    if errors:
        raise ValidationFailed("the schedule cannot be saved", errors)
    for name in ("kind", "interval_days", "next_due", "notes", "active"):
        if name in fields:
            setattr(row, name, fields[name])
    if "assignee" in fields:
        row.assignee = fields.get("assignee_user")
    db.session.flush()
    if service_process.running(row.process_case):
        if "assignee" in fields and row.process_case is not None:
            row.process_case.owner = row.assignee
        service_process.tell(row.process_case, MESSAGE, {"active": row.active, "next_due": row.next_due.isoformat()},
                             user)
    elif row.active:  # reactivated (its process ended), or saved before the process was deployed
        _start_process(user, row)
    db.session.flush()
    return row


def _open_due(row: MaintenanceSchedule, today: date) -> int:
    """Open an internal task for every date of the schedule on or before ``today`` (at most
    ``CATCH_UP``), moving ``next_due`` on; how many opened."""
    opened = 0
    for _ in range(CATCH_UP):
        if not row.active or row.next_due > today:
            break
        product = row.installation
        db.session.add(InternalTask(
            schedule_id=row.id, title=f"{product.product} {product.product_version}",
            description=row.notes, assignee_id=row.assignee_id, state="open", due_on=row.next_due,
            created_at=utcnow()))
        row.next_due = row.next_due + timedelta(days=row.interval_days)
        opened += 1
    return opened


# -- the schedule's process (processes/maintenance_schedule.bpmn) ---------------------------------
def due_moment(day: date) -> datetime:
    """A schedule's date comes at 00:00 on that day in the service's zone."""
    return datetime.combine(day, time(0), tzinfo=zone())


def _start_process(actor: User | None, row: MaintenanceSchedule) -> Case | None:
    product = row.installation
    customer = db.session.get(Customer, product.customer_id)
    case = service_process.start(
        PROCESS, CaseKind.MAINTENANCE.value, row.assignee, actor,
        f"{row.kind}: {customer.name if customer else ''} — {product.product} {product.product_version}",
        f"Maintenance schedule {row.id} ({row.kind}, every {row.interval_days} days) of "
        f"{customer.name if customer else ''}'s {product.product} {product.product_version}.",
        {"schedule_id": row.id, "turns": 0})
    if case is not None:
        row.process_case, row.process_case_id = case, case.id
    return case


def start_missing_processes() -> list[int]:
    """Active schedules without a running process get one: saved before the process was deployed, or
    whose process handed over to a new instance after its 40th date (a long-lived loop is renewed to
    keep the engine's task tree short). The schedules started; run by the service job (due.py)."""
    if not service_process.deployed(PROCESS):
        return []

    def start_one(row: MaintenanceSchedule) -> bool:
        return row.active and not service_process.running(row.process_case) and _start_process(None, row) is not None

    return service_process.start_missing(MaintenanceSchedule, select(MaintenanceSchedule.id).outerjoin(
        Case, Case.id == MaintenanceSchedule.process_case_id).where(
        MaintenanceSchedule.active.is_(True),
        or_(MaintenanceSchedule.process_case_id.is_(None), Case.status == CaseStatus.CLOSED.value))
        .order_by(MaintenanceSchedule.id), start_one)


def _schedule_of(ctx: ServiceContext, schedule_id: int) -> MaintenanceSchedule | None:
    row: MaintenanceSchedule | None = db.session.scalar(
        select(MaintenanceSchedule).where(MaintenanceSchedule.id == schedule_id)
        .with_for_update(of=MaintenanceSchedule))
    # (None: deleted with its installation; the process ends)
    if row is not None and row.process_case_id not in (None, ctx.case_id):
        raise HandlerError("bad_parameter", f"schedule {schedule_id} is not run by this case")
    return row


@operation("maintenance_state")
def state_step(ctx: ServiceContext, schedule_id: int) -> dict[str, Any]:
    """Whether the schedule is still active, and the moment its next date comes."""
    row = _schedule_of(ctx, schedule_id)
    if row is None:
        return {"active": False, "due_at": None}
    return {"active": row.active, "due_at": due_moment(row.next_due).isoformat()}


@operation("open_maintenance_task")
def open_step(ctx: ServiceContext, schedule_id: int) -> dict[str, Any]:
    """The process's step on the schedule's date: the internal task of every date come, once each."""
    row = _schedule_of(ctx, schedule_id)
    if row is None:
        return {"opened": 0}
    opened = _open_due(row, local_day(utcnow()))
    return {"opened": opened, "next_due": row.next_due.isoformat()}
