"""Software update notices (seed 004: customers are told before an update).

Staff who plan releases (admin, supervisor, customer service manager) announce an update —
product, version, the planned window, notes in Chinese and English — to **all customers** or to
**the customers they name** (codes). The announcer chooses the audience explicitly because the
customer record does not hold an installed base (which products and versions each customer
runs); whoever plans a rollout knows whom it touches, and "all" covers a product every customer
runs. A register of installations would let caseflow pick the audience itself; it is not here.

Every targeted customer hears of it on the channel they talk to us through: if their most
recent case came in through a chat platform (and that conversation is known), a post to that
conversation; otherwise a mail to each of their active users with an address. Their open cases
that wait for a fixed version from HQ (``waiting:fixed_version``) get a public
``update_announced`` event, so the case history shows the release is coming. The announcement
records whom it reached; one transaction writes it all (outbox rows, events, the record).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from . import audit, chat_out, events, mail_templates, notifications
from .access import require_role
from .db import db, use_case
from .errors import ValidationFailed
from .models import Case, CaseStatus, Customer, Role, UpdateAnnouncement, User, utcnow
from .queries import Page, paginate

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
    if bool(codes) == bool(fields.get("all_customers")):
        errors.append({"field": "customer_codes", "message": "name the customers, or set all_customers (not both)"})
    customers = list(db.session.scalars(select(Customer).where(Customer.code.in_(codes)).order_by(Customer.code))) \
        if codes else list(db.session.scalars(select(Customer).order_by(Customer.code)))
    unknown = sorted(set(codes) - {c.code for c in customers})
    if unknown:
        errors.append({"field": "customer_codes", "message": f"unknown customers: {', '.join(unknown)}"})
    if errors:
        raise ValidationFailed("the announcement cannot be sent", errors)
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
        audience="customers" if fields.get("customer_codes") else "all",
        customer_codes=sorted({c.code for c in customers}) if fields.get("customer_codes") else [],
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
            contacts = list(db.session.scalars(select(User).where(
                User.customer_id == customer.id, User.active.is_(True), User.email.is_not(None)).order_by(User.id)))
            subject, body = mail_templates.render(KIND, text_values)
            reached["mails"] += len(notifications.enqueue(KIND, contacts, subject, body))
            if not contacts:
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
