"""The customer record (a helpdesk's organisation): address, internal notes, contacts, the
installed base and the service contracts; one transaction per change.

**Tier and contracts.** A contract grants a tier (standard, vip) from its ``start`` to its ``end``
(days in China Standard Time, both included); contracts of one customer may not overlap, so at
most one is active on a day. Once a customer has contracts, the active one decides the customer's
``tier``, and without an active one (all expired or not yet begun) the tier is ``standard``.
``sync_tier`` writes that into ``customers.tier`` in the transaction that changes a contract and in
the one that opens a case (so a contract that began or ended overnight counts from the next case
on); the SLA machinery keeps reading ``Customer.tier`` unchanged. A customer without contracts
keeps the tier set on the record directly.

Customer users read their own organisation's record without the internal notes; staff read
every record; admins and customer service managers change them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import STAFF_ROLES, Customer, Role, User, utcnow
from cases.core.paging import Page, paginate
from cases.customers.models import Contract, CustomerContact, InstalledProduct
from cases.sla import calendars

EDITORS = (Role.ADMIN.value, Role.MANAGER.value)
CONTRACT_ZONE = ZoneInfo("Asia/Shanghai")
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,39}$"
DEFAULT_TIER = "standard"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def today() -> date:
    return utcnow().astimezone(CONTRACT_ZONE).date()


@dataclass
class CustomerView:
    customer: Customer
    contacts: list[CustomerContact]
    products: list[InstalledProduct]
    contracts: list[Contract]
    active_contract: Contract | None
    primary_contact: CustomerContact | None
    internal: bool  # staff: the internal notes are part of it
    today: date


def _contracts(customer_id: int) -> list[Contract]:
    return list(db.session.scalars(select(Contract).where(Contract.customer_id == customer_id)
                                   .order_by(Contract.start.desc(), Contract.id.desc())))


def active_contract(customer_id: int, day: date | None = None) -> Contract | None:
    day = day or today()
    return db.session.scalar(select(Contract).where(
        Contract.customer_id == customer_id, Contract.start <= day, Contract.end >= day)
        .order_by(Contract.start.desc()).limit(1))


def sync_tier(customer: Customer, actor: User | None = None) -> None:
    """Make the customer's tier the active contract's (``standard`` without one) when the customer
    has contracts; in the caller's transaction."""
    day = today()
    active = and_(Contract.start <= day, Contract.end >= day)
    # one statement: the active contract (the latest begun) if there is one, else any contract
    first = db.session.scalar(select(Contract).where(Contract.customer_id == customer.id)
                              .order_by(case((active, 0), else_=1), Contract.start.desc()).limit(1))
    if first is None:
        return
    contract = first if first.start <= day <= first.end else None
    tier = contract.tier if contract is not None else DEFAULT_TIER
    if customer.tier != tier:
        previous, customer.tier = customer.tier, tier
        audit.record(actor, "customer_tier_synced", customer.code, tier=tier, previous=previous,
                     contract=contract.number if contract is not None else None)


def _customer(customer_id: int, lock: bool = False) -> Customer:
    """The customer; ``lock``: its row locked for the rest of the transaction (PostgreSQL), so changes to
    one record (overlap checks, the primary contact, the tier) are serialised."""
    customer = db.session.get(Customer, customer_id, with_for_update=True if lock else None)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", resource="customer", id=customer_id)
    return customer


def view(customer: Customer, internal: bool) -> CustomerView:
    contacts = list(db.session.scalars(select(CustomerContact).where(CustomerContact.customer_id == customer.id)
                                       .order_by(CustomerContact.is_primary.desc(), CustomerContact.id)))
    products = list(db.session.scalars(select(InstalledProduct).where(InstalledProduct.customer_id == customer.id)
                                       .order_by(InstalledProduct.product, InstalledProduct.id)))
    contracts = _contracts(customer.id)
    day = today()
    active = next((c for c in contracts if c.status_on(day) == "active"), None)
    primary = next((c for c in contacts if c.is_primary), None)
    return CustomerView(customer, contacts, products, contracts, active, primary, internal, day)


def read(actor: User, customer_id: int) -> CustomerView:
    """Staff: any customer. A customer user: their own organisation (another one is not found)."""
    if not actor.is_staff and not (actor.is_customer and actor.customer_id == customer_id):
        raise NotFound(f"customer {customer_id} not found", resource="customer", id=customer_id)
    return view(_customer(customer_id), actor.is_staff)


#: the service's own organisation: the customer row of its internal cases (risk reviews)
OWN_CODE = "OWN-ORGANISATION"
OWN_NAME = "本服务机构 / Own service organisation"


def own_organisation() -> Customer:
    """The service's own organisation, created on first use in the caller's transaction (a savepoint
    makes two first uses at once find the one row). Flagged ``internal``: never listed as a customer,
    no customer users, no announcements, no cases opened for it by hand."""
    found: Customer | None = db.session.scalar(select(Customer).where(Customer.internal.is_(True))
                                               .order_by(Customer.id).limit(1))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            row = Customer(code=OWN_CODE, name=OWN_NAME, tier=DEFAULT_TIER, internal=True)
            db.session.add(row)
        return row
    except IntegrityError:  # created meanwhile by another transaction (the code is unique)
        existing: Customer = db.session.scalars(select(Customer).where(Customer.code == OWN_CODE)).one()
        if not existing.internal:
            raise Conflict(f"a customer already has the code {OWN_CODE}", code="own_organisation_code_taken") from None
        return existing


def list_customers(actor: User, q: str | None, tier: str | None, page: int, per_page: int) -> Page:
    require_role(actor, *sorted(STAFF_ROLES))
    query = select(Customer).where(Customer.internal.is_(False)).order_by(Customer.name, Customer.id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Customer.name).like(pattern), func.lower(Customer.code).like(pattern)))
    if tier:
        query = query.where(Customer.tier == tier)
    return paginate(query, page, per_page)


def _check_seen(kind: str, row_version: int, seen: int | None, required: bool = True) -> None:
    if seen is None:
        if required:
            raise PreconditionRequired(f"send the {kind} version you saw (If-Match header)")
        return
    if seen != row_version:
        raise Conflict(f"the {kind} changed since version {seen}; it is now at {row_version}",
                       code="stale_version", current_version=row_version)


def _flush(conflict: str) -> None:
    """Flush; a unique key taken by a concurrent transaction (PostgreSQL) is a conflict, not a 500."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict, code="concurrent_update") from exc


def _refuse(errors: list[dict], message: str) -> None:
    if errors:
        raise ValidationFailed(message, errors)


@use_case
def create(actor: User, fields: dict[str, Any]) -> CustomerView:
    require_role(actor, *EDITORS)
    code = fields["code"]
    errors = []
    if not re.match(CODE_PATTERN, code):
        errors.append({"field": "code", "message": "1-40 capital letters, digits, '_' or '-'"})
    elif code == OWN_CODE or db.session.scalar(select(Customer.id).where(Customer.code == code)) is not None:
        errors.append({"field": "code", "message": f"customer {code} already exists"})
    _refuse(errors, "the customer cannot be created")
    customer = Customer(code=code, name=fields["name"], tier=fields.get("tier") or DEFAULT_TIER,
                        address=fields.get("address"), notes=fields.get("notes"), created_at=utcnow())
    db.session.add(customer)
    _flush(f"customer {code} was created at the same time; reload and retry")
    audit.record(actor, "customer_created", code)
    return view(customer, True)


@use_case
def update(actor: User, customer_id: int, fields: dict[str, Any], seen: int | None) -> CustomerView:
    """Change name, address, notes or (without contracts) the tier; ``seen``: the record's version."""
    require_role(actor, *EDITORS)
    customer = _customer(customer_id, lock=True)
    _check_seen("customer", customer.version, seen)
    if "tier" in fields and fields["tier"] != customer.tier and _contracts(customer.id):
        _refuse([{"field": "tier", "message": "the customer has contracts: the active contract decides the tier"}],
                "the tier cannot be set")
    for key in ("name", "address", "notes", "tier"):
        if key in fields:
            setattr(customer, key, fields[key])
    db.session.flush()
    audit.record(actor, "customer_updated", customer.code, fields=sorted(fields))
    return view(customer, True)


# --- contacts, installed products, contracts -------------------------------------------------

def _check_contact(customer: Customer, row: CustomerContact, values: dict) -> list[dict]:
    if not (values.get("phone") or values.get("email")):
        return [{"field": "phone", "message": "a contact needs a phone number or an e-mail address"}]
    if values.get("email") and not re.match(EMAIL_PATTERN, values["email"]):
        return [{"field": "email", "message": "not an e-mail address"}]
    return []


def _check_product(customer: Customer, row: InstalledProduct, values: dict) -> list[dict]:
    installed_on = values.get("installed_on")
    if installed_on is not None and not 1990 <= installed_on.year <= 2200:
        return [{"field": "installed_on", "message": "a date from the year 1990 to 2200"}]
    return []


def _check_contract(customer: Customer, row: Contract, values: dict) -> list[dict]:
    errors = []
    start, end, warranty = values["start"], values["end"], values.get("warranty_until")
    for name, day in (("start", start), ("end", end), ("warranty_until", warranty)):
        if day is not None and not 1990 <= day.year <= 2200:
            errors.append({"field": name, "message": "a date from the year 1990 to 2200"})
    if errors:
        return errors
    if end < start:
        errors.append({"field": "end", "message": "the contract must end on or after its start"})
    if warranty is not None and warranty < start:
        errors.append({"field": "warranty_until", "message": "the warranty cannot end before the contract starts"})
    if values.get("calendar") and not calendars.exists(values["calendar"]):
        errors.append({"field": "calendar", "message": f"no business calendar {values['calendar']!r}"})
    taken = db.session.scalar(select(Contract.id).where(Contract.number == values["number"],
                                                        Contract.id != (row.id or 0)))
    if taken is not None:
        errors.append({"field": "number", "message": f"contract {values['number']} already exists"})
    if not errors:
        overlap = db.session.scalar(select(Contract).where(
            Contract.customer_id == customer.id, Contract.id != (row.id or 0),
            Contract.start <= end, Contract.end >= start).limit(1))
        if overlap is not None:
            errors.append({"field": "start", "message": f"overlaps contract {overlap.number} "
                                                       f"({overlap.start} to {overlap.end}); one contract at a time"})
    return errors


@dataclass(frozen=True)
class ItemKind:
    name: str
    model: type
    fields: tuple[str, ...]
    check: Any
    label: str  # the attribute that names a row in the audit trail


KINDS = {
    "contact": ItemKind("contact", CustomerContact, ("name", "role", "phone", "email", "is_primary"),
                        _check_contact, "name"),
    "product": ItemKind("installed product", InstalledProduct,
                        ("product", "product_version", "environment", "installed_on"), _check_product, "product"),
    "contract": ItemKind("contract", Contract, ("number", "tier", "start", "end", "warranty_until", "calendar"),
                         _check_contract, "number"),
}


def _defaults(kind: str, fields: dict) -> dict:
    if kind == "contract" and "warranty_until" not in fields and "start" in fields:
        start = fields["start"]  # the warranty lasts at least one year (DOMAIN.md)
        anniversary = start.replace(year=start.year + 1, day=28) if (start.month, start.day) == (2, 29) \
            else start.replace(year=start.year + 1)
        return {**fields, "warranty_until": anniversary - timedelta(days=1)}
    return fields


def _apply(actor: User, customer: Customer, kind: ItemKind, row: Any, fields: dict) -> None:
    values = {key: getattr(row, key) for key in kind.fields}
    values.update(fields)
    _refuse(kind.check(customer, row, values), f"the {kind.name} is not valid")
    for key in kind.fields:
        setattr(row, key, values[key])
    if kind.model is CustomerContact:
        _one_primary(customer, row)


def _one_primary(customer: Customer, row: CustomerContact) -> None:
    others = list(db.session.scalars(select(CustomerContact).where(
        CustomerContact.customer_id == customer.id, CustomerContact.id != (row.id or 0))))
    if row.is_primary:
        for other in others:
            if other.is_primary:
                other.is_primary = False
    elif not any(o.is_primary for o in others):
        row.is_primary = True  # someone is the primary contact while there are contacts


def _item(kind: ItemKind, customer: Customer, item_id: int) -> Any:
    row = db.session.get(kind.model, item_id)
    if row is None or row.customer_id != customer.id:
        raise NotFound(f"{kind.name} {item_id} not found", resource=kind.name.replace(" ", "_"), id=item_id)
    return row


@use_case
def add_item(actor: User, customer_id: int, kind_name: str, fields: dict[str, Any]) -> Any:
    require_role(actor, *EDITORS)
    customer, kind = _customer(customer_id, lock=True), KINDS[kind_name]
    row = kind.model(customer_id=customer.id, created_at=utcnow(), **dict.fromkeys(kind.fields))
    if kind.model is CustomerContact:
        row.is_primary = False
    _apply(actor, customer, kind, row, _defaults(kind_name, fields))
    db.session.add(row)
    _flush(f"a {kind.name} like this was saved at the same time; reload and retry")
    if kind.model is Contract:
        sync_tier(customer, actor)
    audit.record(actor, f"customer_{kind_name}_added", customer.code, id=row.id, name=getattr(row, kind.label))
    return row


@use_case
def update_item(actor: User, customer_id: int, kind_name: str, item_id: int, fields: dict[str, Any],
                seen: int | None) -> Any:
    require_role(actor, *EDITORS)
    customer, kind = _customer(customer_id, lock=True), KINDS[kind_name]
    row = _item(kind, customer, item_id)
    _check_seen(kind.name, row.version, seen)
    _apply(actor, customer, kind, row, fields)
    _flush(f"a {kind.name} like this was saved at the same time; reload and retry")
    if kind.model is Contract:
        sync_tier(customer, actor)
    audit.record(actor, f"customer_{kind_name}_updated", customer.code, id=row.id, fields=sorted(fields))
    return row


@use_case
def remove_item(actor: User, customer_id: int, kind_name: str, item_id: int, seen: int | None) -> None:
    require_role(actor, *EDITORS)
    customer, kind = _customer(customer_id, lock=True), KINDS[kind_name]
    row = _item(kind, customer, item_id)
    _check_seen(kind.name, row.version, seen, required=False)
    label = getattr(row, kind.label)
    db.session.delete(row)
    db.session.flush()
    if kind.model is CustomerContact and row.is_primary:
        successor = db.session.scalar(select(CustomerContact).where(CustomerContact.customer_id == customer.id)
                                      .order_by(CustomerContact.id).limit(1))
        if successor is not None:
            successor.is_primary = True
    if kind.model is Contract:
        sync_tier(customer, actor)
    audit.record(actor, f"customer_{kind_name}_removed", customer.code, id=item_id, name=label)


def contact_addresses(customer_id: int) -> list[str]:
    """The e-mail addresses of the customer's contacts, the primary contact first."""
    return list(db.session.scalars(select(CustomerContact.email).where(
        CustomerContact.customer_id == customer_id, CustomerContact.email.is_not(None))
        .order_by(CustomerContact.is_primary.desc(), CustomerContact.id)))


def running_product(product: str, versions: list[str] | None = None, from_version: str | None = None,
                    below_version: str | None = None) -> list[Customer]:
    """The customers with ``product`` installed (name compared without case) in one of ``versions``,
    or at a version from ``from_version`` (included) and below ``below_version``."""
    rows = db.session.scalars(select(InstalledProduct).where(
        func.lower(InstalledProduct.product) == product.strip().lower()))
    wanted = {v.strip().lower() for v in versions or []}
    ids = set()
    for row in rows:
        key = version_key(row.product_version)
        if wanted and row.product_version.strip().lower() not in wanted:
            continue
        if from_version and key < version_key(from_version):
            continue
        if below_version and key >= version_key(below_version):
            continue
        ids.add(row.customer_id)
    if not ids:
        return []
    return list(db.session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.code)))


def version_key(text: str) -> tuple:
    """Dotted versions in numeric order: 5.10 after 5.9; a letter part after the numbers (5.2 < 5.2b)."""
    parts = re.findall(r"\d+|[A-Za-z]+", text)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts)
