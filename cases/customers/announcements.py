"""Software update notices (seed 004: customers are told before an update).

Staff who plan releases (admin, supervisor, customer service manager) announce an update —
product, version, the planned window, notes in Chinese and English — to **the customers running
the product** (the installed base of the customer records, ``cases/customers/records.py``: any
version, the versions listed, or a range ``from_version`` included to ``below_version``
excluded, compared numerically: 5.10 after 5.9), to **the customers they name** (codes), or to
**all customers**; exactly one of the three.

Every targeted customer hears of it on the channel they talk to us through: if their most
recent case came in through a chat platform (and that conversation is known), a post to that
conversation; otherwise a mail to each of their active users with an address and to the
contacts on their record with one (each address once). Their open cases
that wait for a fixed version from HQ (``waiting:fixed_version``) get a public
``update_announced`` event, so the case history shows the release is coming. The announcement
records whom it reached; one transaction writes it all (outbox rows, events, the record).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from cases.core import audit, events
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import ValidationFailed
from cases.core.models import Case, CaseStatus, Customer, Role, User, utcnow
from cases.core.paging import Page, paginate
from cases.customers import records as customer_records
from cases.customers.models import UpdateAnnouncement
from cases.outbox import chat_posts as chat_out
from cases.outbox import mail_templates, notifications

ANNOUNCERS = (Role.ADMIN.value, Role.SUPERVISOR.value, Role.MANAGER.value)
WAITING_FOR_RELEASE = "waiting:fixed_version"
KIND = "update_announcement"


def _check(fields: dict[str, Any], now: datetime) -> list[Customer]:
    errors = []
    start, end = fields["window_start"], fields["window_end"]
    if start <= now:
        errors.append({"field": "window_start", "message": "customers are told before an update: the window "
                                                          "must start in the future"})
    if end <= start:
        errors.append({"field": "window_end", "message": "must be after window_start"})
    try:
        ZoneInfo(fields["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        errors.append({"field": "timezone", "message": f"unknown time zone {fields['timezone']!r}"})
    codes = fields.get("customer_codes") or []
    base = fields.get("installed_base")
    if sum((bool(codes), bool(fields.get("all_customers")), base is not None)) != 1:
        errors.append({"field": "customer_codes", "message": "choose one audience: installed_base (the customers "
                                                            "running the product), customer_codes or all_customers"})
    if base is not None:
        customers = _running(fields, base, errors)
    elif codes:
        customers = list(db.session.scalars(select(Customer).where(Customer.code.in_(codes), Customer.internal.is_(False))
                                            .order_by(Customer.code)))
    else:
        customers = list(db.session.scalars(select(Customer).where(Customer.internal.is_(False)).order_by(Customer.code)))
    unknown = sorted(set(codes) - {c.code for c in customers})
    if unknown:
        errors.append({"field": "customer_codes", "message": f"unknown customers: {', '.join(unknown)}"})
    if errors:
        raise ValidationFailed("the announcement cannot be sent", errors)
    return customers


def product_filter(fields: dict[str, Any]) -> dict[str, Any] | None:
    """The installed-base audience with the announcement's product filled in (None: another audience)."""
    base = fields.get("installed_base")
    if base is None:
        return None
    return {"product": base.get("product") or fields["product"], "versions": base.get("versions") or [],
            "from_version": base.get("from_version"), "below_version": base.get("below_version")}


def _running(fields: dict[str, Any], base: dict[str, Any], errors: list[dict]) -> list[Customer]:
    wanted = product_filter(fields)
    low, high = wanted["from_version"], wanted["below_version"]
    if wanted["versions"] and (low or high):
        errors.append({"field": "installed_base.versions", "message": "list versions, or give a range (not both)"})
        return []
    if low and high and customer_records.version_key(high) <= customer_records.version_key(low):
        errors.append({"field": "installed_base.below_version", "message": "must be above from_version"})
        return []
    customers = customer_records.running_product(wanted["product"], wanted["versions"], low, high)
    if not customers:
        errors.append({"field": "installed_base", "message": f"no customer runs {wanted['product']} "
                                                            "in the versions given"})
    return customers


def _window(start: datetime, end: datetime, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    return f"{start.astimezone(zone):%Y-%m-%d %H:%M} – {end.astimezone(zone):%Y-%m-%d %H:%M} ({timezone})"


def _prefers_chat(customer: Customer) -> chat_out.Conversation | None:
    latest = db.session.scalar(select(Case.channel).where(Case.customer_id == customer.id)
                               .order_by(Case.created_at.desc(), Case.id.desc()).limit(1))
    return chat_out.latest_conversation_of_customer(customer.id) if latest in chat_out.CHAT_CHANNELS else None


@use_case
def announce(user: User, fields: dict[str, Any]) -> UpdateAnnouncement:
    require_role(user, *ANNOUNCERS)
    now = utcnow()
    customers = _check(fields, now)
    row = UpdateAnnouncement(
        product=fields["product"], version=fields["version"], window_start=fields["window_start"],
        window_end=fields["window_end"], notes_zh=fields["notes_zh"], notes_en=fields["notes_en"],
        audience="product" if fields.get("installed_base") is not None
        else "customers" if fields.get("customer_codes") else "all",
        customer_codes=[] if fields.get("all_customers") else sorted({c.code for c in customers}),
        product_filter=product_filter(fields),
        reached={}, created_by_id=user.id, created_by=user, created_at=now)
    db.session.add(row)
    db.session.flush()
    values = {"product": row.product, "version": row.version, "notes_zh": row.notes_zh, "notes_en": row.notes_en,
              "window_local": _window(row.window_start, row.window_end, fields["timezone"])}
    reached: dict[str, Any] = {"customers": [], "mails": 0, "chat_posts": 0, "cases": [], "unreachable": []}
    for customer in customers:
        text_values = {**values, "customer": customer.name}
        conversation = _prefers_chat(customer)
        if conversation is not None:
            chat_out.enqueue(conversation, KIND, mail_templates.render_chat(KIND, text_values),
                             extra={"announcement_id": row.id})
            reached["chat_posts"] += 1
        else:
            contacts: list[User | str] = list(db.session.scalars(select(User).where(
                User.customer_id == customer.id, User.active.is_(True), User.email.is_not(None)).order_by(User.id)))
            contacts += customer_records.contact_addresses(customer.id)
            subject, body = mail_templates.render(KIND, text_values)
            queued = notifications.enqueue(KIND, contacts, subject, body)
            reached["mails"] += len(queued)
            if not queued:
                reached["unreachable"].append(customer.code)
                continue
        reached["customers"].append(customer.code)
        for case in db.session.scalars(select(Case).where(
                Case.customer_id == customer.id, Case.status == CaseStatus.OPEN.value,
                Case.stage == WAITING_FOR_RELEASE).order_by(Case.id)):
            events.record(case, "update_announced", user, public=True, announcement_id=row.id,
                          product=row.product, version=row.version, window_start=row.window_start.isoformat(),
                          window_end=row.window_end.isoformat())
            reached["cases"].append(case.number)
    row.reached = reached
    audit.record(user, "announce_update", row.id, product=row.product, version=row.version,
                 customers=len(reached["customers"]))
    return row


def announcements(user: User, page: int, per_page: int) -> Page:
    require_role(user, *ANNOUNCERS)
    return paginate(select(UpdateAnnouncement).order_by(UpdateAnnouncement.created_at.desc(),
                                                       UpdateAnnouncement.id.desc()), page, per_page)
