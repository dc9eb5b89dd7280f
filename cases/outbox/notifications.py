"""Outbound notifications: an outbox written with the step that decided to notify, delivered
over SMTP by the scheduler process.

Writing. ``enqueue`` adds one ``notifications`` row per recipient address to the *current*
unit of work and never commits: the caller's transaction decides, so a step that rolls back
sends nothing. ``notify_escalation`` renders the bilingual SLA escalation mails
(``mail_templates.py``) and enqueues them.

Delivering. ``deliver_pending`` sends due pending rows, each in two short transactions of its
own: a *claim* (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the write lock
taken by ``BEGIN IMMEDIATE`` serialises claims) counts the attempt and moves ``send_after`` a
lease ahead, so no other deliverer takes the row while it is being sent; then, after the SMTP
conversation (outside any transaction, so no lock is held while talking to the server), a
*mark* records ``sent`` or the failure. A failure retries with exponential backoff (1, 2, 4 …
minutes, at most an hour) until ``NOTIFY_MAX_ATTEMPTS``; a permanent refusal (5xx for the
recipient or the content) fails the row at once. Operators list and retry failed rows.

Semantics: **at least once**. If the process dies (or the database is unreachable) after the
SMTP server accepted a message but before the mark commits, the row's lease runs out and the
message is sent again — with the same Message-ID, so mail clients can tell it is a duplicate.
Nothing is ever lost silently: a row leaves ``pending`` only as ``sent`` or ``failed``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, unit_of_work, use_case
from cases.core.errors import Conflict, NotFound
from cases.core.models import Case, Role, User, utcnow
from cases.core.paging import Page, paginate
from cases.outbox import mail_templates, mailer
from cases.outbox.mailer import MailSettings
from cases.outbox.models import Notification

PENDING, SENT, FAILED = "pending", "sent", "failed"
STATUSES = (PENDING, SENT, FAILED)

#: Escalation.level -> notification kind (and mail template)
ESCALATION_KINDS = {"warning": "sla_warning", "breach": "sla_breach", "manager": "sla_manager"}

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
#: How long a claimed row is left alone while it is being sent (or after its deliverer died).
LEASE_MIN = timedelta(minutes=5)

READERS = (Role.ADMIN.value, Role.SUPERVISOR.value)
RETRIERS = (Role.ADMIN.value,)

log = logging.getLogger("caseflow.notifications")
_said_disabled = False


def app_settings() -> MailSettings:
    """The mail settings of the application this code runs in (its configuration, never the
    request: the database session is bound to the same application)."""
    return MailSettings.from_config(current_app.config)


# -- writing ---------------------------------------------------------------------------------

def enqueue(kind: str, recipients: Iterable[User | str], subject: str, body: str,
            case: Case | None = None, send_after: datetime | None = None,
            thread: tuple[str | None, str | None] = (None, None)) -> list[Notification]:
    """Queue one plain-text message per recipient in the current unit of work (no commit).

    Recipients are users or addresses. Inactive users, users without an e-mail address and
    invalid addresses are skipped; an address already queued by this call is not queued twice.
    ``thread``: the In-Reply-To and References headers (a reply in the customer's thread).
    Returns the rows queued (``user_id`` tells which user each is for).
    """
    subject = " ".join(subject.split())[:300]  # one header line
    now = utcnow()
    if case is not None and case.id is None:
        db.session.flush()
    queued: list[Notification] = []
    seen: set[str] = set()
    for recipient in recipients:
        user, address = _address_of(recipient)
        if address is None or address.lower() in seen:
            continue
        seen.add(address.lower())
        row = Notification(case_id=case.id if case is not None else None, user_id=user.id if user else None,
                           kind=kind, recipient=address, subject=subject, body=body, status=PENDING,
                           attempts=0, created_at=now, send_after=send_after or now,
                           in_reply_to=thread[0], mail_references=thread[1])
        db.session.add(row)
        queued.append(row)
    return queued


def _address_of(recipient: User | str) -> tuple[User | None, str | None]:
    user = recipient if isinstance(recipient, User) else None
    if user is not None and not (user.active and user.email):
        return user, None
    text = user.email if user is not None else recipient
    address = parseaddr(text.strip())[1]
    local, at, domain = address.rpartition("@")
    if not (local and at and "." in domain) or len(address) > 254 or any(c.isspace() or ord(c) < 32 for c in address):
        log.warning("not queued: invalid address %r", text)
        return user, None
    return user, address


def case_link(case: Case, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/cases/{case.id}"


def escalation_values(case: Case, target_kind: str, due_at: datetime, timezone: str, base_url: str) -> dict:
    """The values the escalation templates use; ``due_at`` (aware) is shown in ``timezone``."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be an aware datetime")
    target_zh, target_en = mail_templates.TARGET_NAMES.get(target_kind, (target_kind, target_kind))
    local = due_at.astimezone(ZoneInfo(timezone))
    return {
        "case_number": case.number or f"#{case.id}", "title": case.title,
        "target_zh": target_zh, "target_en": target_en,
        "due_local": f"{local:%Y-%m-%d %H:%M} ({timezone})",
        "customer": case.customer.name if case.customer is not None else "-",
        "priority": case.priority or "-",
        "owner": case.owner.display_name if case.owner is not None else "-",
        "link": case_link(case, base_url),
    }


def notify_escalation(level: str, case: Case, target_kind: str, due_at: datetime, timezone: str,
                      recipients: list[User], *, send_after: datetime | None = None,
                      settings: MailSettings | None = None) -> list[str]:
    """Queue the mail for an escalation rung (``level``: warning | breach | manager) of one SLA
    target to ``recipients``, in the current unit of work. Returns the user names queued (users
    without an address or inactive are left out), e.g. for ``Escalation.notified``."""
    try:
        kind = ESCALATION_KINDS[level]
    except KeyError:
        raise ValueError(f"unknown escalation level {level!r}") from None
    settings = settings or app_settings()
    subject, body = mail_templates.render(
        kind, escalation_values(case, target_kind, due_at, timezone, settings.base_url))
    queued_for = {row.user_id for row in enqueue(kind, recipients, subject, body, case=case, send_after=send_after)}
    return list(dict.fromkeys(u.username for u in recipients if u.id in queued_for))


# -- delivering ------------------------------------------------------------------------------

def deliver_pending(now: datetime | None = None, limit: int = 100, settings: MailSettings | None = None) -> int:
    """Send up to ``limit`` due pending messages; returns how many the server accepted.

    Call it outside a unit of work: each message is claimed and marked in transactions of its
    own. With no SMTP host configured nothing is sent and the rows stay pending. Delivery is
    at least once (see the module's docstring). A server that cannot be reached ends the pass
    after recording the attempt on the one message that found out.
    """
    settings = settings or app_settings()
    if not settings.enabled:
        _say_disabled()
        return 0
    connection = mailer.Connection(settings)
    sent = 0
    try:
        for _ in range(limit):
            at = now or utcnow()
            item = _claim(settings, at)
            if item is None:
                break
            try:
                connection.send(mailer.build(settings, item, at), item.recipient)
            except mailer.Unreachable as exc:
                log.warning("SMTP server %s:%s unreachable: %s", settings.host, settings.port, exc)
                _record_failure(item.id, str(exc), False, at, settings)
                break
            except Exception as exc:
                permanent, text = mailer.classify(exc)
                log.warning("notification %s to %s not sent: %s", item.id, item.recipient, text)
                _record_failure(item.id, text, permanent, at, settings)
                continue
            _record_sent(item.id, at)
            sent += 1
    finally:
        connection.close()
    return sent


def _say_disabled() -> None:
    global _said_disabled
    if not _said_disabled:
        _said_disabled = True
        log.warning("SMTP_HOST is not set: notifications stay pending until it is")


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def next_due(model, at: datetime):
    """The first pending row of an outbox table due at ``at``, locked; rows another deliverer holds
    are skipped (mail here, webhook posts in cases/outbox/webhooks.py)."""
    return db.session.scalar(
        select(model).where(model.status == PENDING, model.send_after <= at)
        .order_by(model.send_after, model.id).limit(1)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))


def _claim(settings: MailSettings, at: datetime) -> mailer.Outgoing | None:
    """Take the next due row: count the attempt and lease it (one short transaction)."""
    with unit_of_work():
        while True:
            row = next_due(Notification, at)
            if row is None:
                return None
            if row.attempts < settings.max_attempts:
                break
            # Only reachable when deliverers died while sending it, attempt after attempt.
            row.status = FAILED
            row.last_error = f"gave up after {row.attempts} attempts; last: {row.last_error or 'interrupted'}"
        row.attempts += 1
        row.send_after = at + max(LEASE_MIN, timedelta(seconds=10 * settings.timeout))
        row.message_id = row.message_id or mailer.new_message_id(settings, row.id)
        number = db.session.scalar(select(Case.number).where(Case.id == row.case_id)) if row.case_id else None
        return mailer.Outgoing(id=row.id, kind=row.kind, recipient=row.recipient, subject=row.subject,
                               body=row.body, message_id=row.message_id, case_number=number,
                               in_reply_to=row.in_reply_to, references=row.mail_references)


def _locked(notification_id: int) -> Notification | None:
    return db.session.scalar(select(Notification).where(Notification.id == notification_id)
                             .with_for_update().execution_options(populate_existing=True))


def _record_sent(notification_id: int, at: datetime) -> None:
    with unit_of_work():
        row = _locked(notification_id)
        if row is not None:
            row.status = SENT
            row.sent_at = at


def _record_failure(notification_id: int, error: str, permanent: bool, at: datetime,
                    settings: MailSettings) -> None:
    with unit_of_work():
        row = _locked(notification_id)
        if row is None:
            return
        row.last_error = error[:2000]
        if permanent or row.attempts >= settings.max_attempts:
            row.status = FAILED
        else:
            row.send_after = at + backoff(row.attempts)


# -- operators -------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutboxEntry:
    notification: Notification
    case_number: str | None
    username: str | None


def outbox(user: User, status: str | None = None, case_id: int | None = None, kind: str | None = None,
           page: int = 1, per_page: int = 20) -> Page:
    """Notifications, newest first, with their case numbers and user names (admin, supervisor)."""
    require_role(user, *READERS)
    query = select(Notification)
    for column, value in ((Notification.status, status), (Notification.case_id, case_id),
                          (Notification.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    found = paginate(query.order_by(Notification.created_at.desc(), Notification.id.desc()), page, per_page)
    case_ids = {n.case_id for n in found.items if n.case_id}
    user_ids = {n.user_id for n in found.items if n.user_id}
    numbers = dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all()) \
        if case_ids else {}
    names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    items = [OutboxEntry(n, numbers.get(n.case_id), names.get(n.user_id)) for n in found.items]
    return Page(items, found.total, found.page, found.per_page)


@use_case
def retry(user: User, notification_id: int) -> OutboxEntry:
    """Queue a failed notification again, with a fresh budget of attempts (admin)."""
    require_role(user, *RETRIERS)
    row = _locked(notification_id)
    if row is None:
        raise NotFound(f"notification {notification_id} not found", resource="notification", id=notification_id)
    if row.status != FAILED:
        raise Conflict(f"notification {notification_id} is {row.status}, only a failed one can be retried",
                       code="notification_not_failed")
    audit.record(user, "retry_notification", row.id, kind=row.kind, recipient=row.recipient,
                 attempts=row.attempts, last_error=row.last_error)
    row.status, row.attempts, row.send_after = PENDING, 0, utcnow()
    number = db.session.scalar(select(Case.number).where(Case.id == row.case_id)) if row.case_id else None
    name = db.session.scalar(select(User.username).where(User.id == row.user_id)) if row.user_id else None
    return OutboxEntry(row, number, name)


def complaint_response_mail(case: Case, response: str) -> tuple[str, str]:
    """The subject and body of a complaint's signed-off response to the customer."""
    return mail_templates.render("complaint_response", {
        "case_number": case.number, "title": case.title, "response": response,
        "link": case_link(case, app_settings().base_url)})
