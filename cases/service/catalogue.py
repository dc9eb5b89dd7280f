"""The service catalogue (seed 003: 专项服务事项清单): the paid special services with their prices.

Business managers (and managers, admins) keep it; everybody reads the active entries (customers see
what a special service costs). The negotiation step of the support process picks an entry
(``negotiate_service`` form, field ``catalogue_code``, checked through ``x-caseflow-reference``), and
an on-site visit out of warranty is charged at an entry's price (``visits.py``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, ValidationFailed
from cases.core.models import User
from cases.process import forms
from cases.service.common import CATALOGUE_KEEPERS, cents, check_seen
from cases.service.visit_models import CatalogueItem

UNITS = ("each", "hour", "day", "visit")
REFERENCE = "service_catalogue"


def entries(user: User, include_inactive: bool = False) -> list[CatalogueItem]:
    query = select(CatalogueItem).order_by(CatalogueItem.code)
    if not (include_inactive and user.is_staff):
        query = query.where(CatalogueItem.active.is_(True))
    return list(db.session.scalars(query))


def by_code(code: str) -> CatalogueItem | None:
    return db.session.scalar(select(CatalogueItem).where(CatalogueItem.code == code))


def active_by_code(code: str, field: str) -> CatalogueItem:
    item = by_code(code)
    if item is None or not item.active:
        raise ValidationFailed("not in the service catalogue",
                               [{"field": field, "message": f"{code!r} is not an active entry of the service catalogue"}])
    return item


def _check(fields: dict[str, Any]) -> None:
    errors = []
    if "unit" in fields and fields["unit"] not in UNITS:
        errors.append({"field": "unit", "message": f"one of {', '.join(UNITS)}"})
    if "price" in fields and not 0 <= float(fields["price"]) <= 100_000_000:
        errors.append({"field": "price", "message": "from 0 to 100000000"})
    if errors:
        raise ValidationFailed("the catalogue entry cannot be saved", errors)


def _flush() -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict("another entry has this code", code="duplicate_code") from exc


@use_case
def create(user: User, fields: dict[str, Any]) -> CatalogueItem:
    require_role(user, *CATALOGUE_KEEPERS)
    _check(fields)
    if by_code(fields["code"]) is not None:
        raise ValidationFailed("the code is taken", [{"field": "code", "message": "another entry has this code"}])
    item = CatalogueItem(code=fields["code"], name_zh=fields["name_zh"], name_en=fields["name_en"],
                         description=fields.get("description"), price_cents=cents(fields["price"]),
                         unit=fields.get("unit") or "each", active=fields.get("active", True))
    db.session.add(item)
    _flush()
    return item


@use_case
def update(user: User, item_id: int, fields: dict[str, Any], seen: int | None) -> CatalogueItem:
    require_role(user, *CATALOGUE_KEEPERS)
    item = db.session.get(CatalogueItem, item_id)
    if item is None:
        raise NotFound(f"catalogue entry {item_id} not found", resource="catalogue_entry", id=item_id)
    check_seen("catalogue entry", item.version, seen)
    _check(fields)
    for name in ("name_zh", "name_en", "description", "unit", "active"):
        if name in fields:
            setattr(item, name, fields[name])
    if "price" in fields:
        item.price_cents = cents(fields["price"])
    _flush()
    return item


def _reference_problem(value: Any) -> str | None:
    item = by_code(str(value))
    return None if item is not None and item.active else f"{value!r} is not an active entry of the service catalogue"


def choices() -> list[tuple[str, str]]:
    """(code, "name_zh / name_en — price") for the negotiation form's select."""
    return [(i.code, f"{i.name_zh} / {i.name_en} — ¥{i.price_cents / 100:,.2f}")
            for i in db.session.scalars(select(CatalogueItem).where(CatalogueItem.active.is_(True))
                                        .order_by(CatalogueItem.code))]


forms.reference(REFERENCE, _reference_problem, choices)
