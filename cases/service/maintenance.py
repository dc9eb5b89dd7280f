"""Scheduled maintenance and backup checks per installation (seed 004: 定期对信息系统进行维护和检查,
定期为您的数据进行备份): a schedule on an installed product (``installed_products``) comes due every
``interval_days`` from ``next_due``; on its date (the service's local day) it opens an internal task of
its own for the assignee (``due.py``, run by the scheduler). A date missed while nothing ran still
opens its task: one per date."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import NotFound, ValidationFailed
from cases.core.models import Customer, User, UserRole, utcnow
from cases.customers.models import InstalledProduct
from cases.service.common import PLANNERS, check_seen, require_staff
from cases.service.visit_models import InternalTask, MaintenanceSchedule

KINDS = ("maintenance", "backup_check")
MAX_INTERVAL = 366 * 2
#: the tasks one schedule opens in one run at most (a schedule long overdue)
CATCH_UP = 12


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
    return row


def open_due(today: date) -> int:
    """Open an internal task for every schedule date on or before ``today`` (caller's unit of work)."""
    opened = 0
    due = db.session.scalars(select(MaintenanceSchedule).where(
        MaintenanceSchedule.active.is_(True), MaintenanceSchedule.next_due <= today)
        .order_by(MaintenanceSchedule.id).with_for_update(skip_locked=True, of=MaintenanceSchedule))
    for row in due:
        for _ in range(CATCH_UP):
            if row.next_due > today:
                break
            product = row.installation
            db.session.add(InternalTask(
                schedule_id=row.id, title=f"{product.product} {product.product_version}",
                description=row.notes, assignee_id=row.assignee_id, state="open", due_on=row.next_due,
                created_at=utcnow()))
            row.next_due = row.next_due + timedelta(days=row.interval_days)
            opened += 1
    return opened
