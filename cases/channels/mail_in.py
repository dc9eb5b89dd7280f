"""Inbound e-mail: a customer's message opens a case or continues one.

The SMTP listener process (workers/mail_listener.py) hands every accepted message to
:func:`receive`, one unit of work per message. Threading, in this order:

1. ``In-Reply-To`` / ``References`` name a message caseflow sent (a notification's Message-ID)
   or one it received before on a case;
2. the subject carries a case number in brackets, ``[CF-2026-000123]`` — honoured only when the
   sender belongs to that case's customer (a guessed number threads nothing);
3. otherwise the message opens a new case.

The sender must be known: a customer user with that address (active), or the contact address
of the case the message threads into. Anything else is refused (the listener answers 550), as are
bounces and auto-replies (RFC 3834 ``Auto-Submitted``), so no mail loop can start. A message seen
before (same Message-ID) changes nothing.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser

from sqlalchemy import func, select

from cases.casework import attachments
from cases.casework.intake import start_case
from cases.channels.inbound import Delivery, _continue
from cases.core import events
from cases.core.db import db, use_case
from cases.core.errors import DomainError
from cases.core.models import Case, User, utcnow
from cases.outbox import mail_templates, notifications
from cases.outbox.models import ChannelMessage, ChannelThread, Notification

CHANNEL = "email"
CASE_TOKEN = re.compile(r"\[(CF-\d{4}-\d{6,})\]")
REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|回复|答复|转发)\s*[:：]\s*)+", re.I)
MAX_TEXT = 20000


class Refused(DomainError):
    """The message is not taken in; the listener answers with a permanent SMTP error."""

    code = "mail_refused"


@dataclass(frozen=True)
class Parsed:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    references: list[str]
    attachments: list[tuple[str | None, bytes]]


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown or lying charset
        content = part.get_payload(decode=True).decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        parser = _TextOfHtml()
        parser.feed(content)
        content = "".join(parser.parts)
    content = re.sub(r"\n{3,}", "\n\n", content.replace("\r\n", "\n")).strip()
    return content[:MAX_TEXT]


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def parse(raw: bytes) -> Parsed:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    if auto != "no" or message.get("X-Caseflow-Kind") or (message.get("Precedence") or "").lower() in ("bulk", "junk", "list"):
        raise Refused("automatic messages (auto-replies, bounces, lists) open no cases")
    name, sender = parseaddr(str(message.get("From") or ""))
    if not sender or "@" not in sender:
        raise Refused("the message has no sender address")
    message_id = (_ids(str(message.get("Message-ID") or "")) or [None])[0]
    subject = " ".join(str(message.get("Subject") or "").split())
    references = _ids(str(message.get("In-Reply-To") or "")) + _ids(str(message.get("References") or ""))
    text = _body_text(message)
    files = [(part.get_filename(), part.get_payload(decode=True) or b"") for part in message.iter_attachments()]
    if message_id is None:  # a stable stand-in, so a re-delivery is still recognised
        message_id = f"<sha256.{hashlib.sha256(raw).hexdigest()}@caseflow.invalid>"
    return Parsed(message_id, sender.lower(), name, subject[:300], text, references, files)


def _threaded_case(mail: Parsed) -> Case | None:
    for reference in reversed(mail.references):  # the most recent first
        case_id = db.session.scalar(select(Notification.case_id).where(Notification.message_id == reference))
        if case_id is None:
            case_id = db.session.scalar(select(ChannelThread.case_id).where(
                ChannelThread.channel == CHANNEL, ChannelThread.external_id == reference))
        if case_id is not None:
            return db.session.get(Case, case_id)
    return None


def _customer_user(address: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == address, User.active.is_(True),
                                                User.customer_id.is_not(None)).order_by(User.id).limit(1))


def _may_write_to(case: Case, address: str, user: User | None) -> bool:
    return (user is not None and user.customer_id == case.customer_id) or \
        (case.contact_email or "").lower() == address


@use_case
def receive(raw: bytes, recipients: list[str] | None = None) -> Delivery:
    mail = parse(raw)
    seen = db.session.scalar(select(ChannelMessage).where(ChannelMessage.channel == CHANNEL,
                                                          ChannelMessage.external_id == mail.message_id))
    if seen is not None:
        return Delivery(db.session.get(Case, seen.case_id), "duplicate")
    user = _customer_user(mail.sender)
    case = _threaded_case(mail)
    if case is not None and not _may_write_to(case, mail.sender, user):
        case = None  # a stranger's reply to a forwarded mail threads nothing
    if case is None:
        token = CASE_TOKEN.search(mail.subject)
        if token and user is not None:
            candidate = db.session.scalar(select(Case).where(Case.number == token.group(1)))
            if candidate is not None and candidate.customer_id == user.customer_id:
                case = candidate
    payload = {"text": mail.text, "channel": CHANNEL, "subject": mail.subject, "from": mail.sender}
    if case is not None and case.is_open:
        outcome = _continue(case, user, mail.text, payload)
    else:
        if user is None:
            raise Refused(f"unknown sender {mail.sender}: register the address on a customer user")
        title = REPLY_PREFIX.sub("", CASE_TOKEN.sub("", mail.subject)).strip() or _first_line(mail.text)
        previous = case
        case = start_case(user.customer, user, {
            "channel": CHANNEL, "title": title[:200], "description": mail.text or title,
            "contact_name": mail.sender_name or user.display_name, "contact_email": mail.sender})
        if previous is not None:
            events.record(case, "follow_up_of", user, public=True, case_number=previous.number)
        _acknowledge(case, mail.sender, mail.message_id)
        outcome = "opened"
    _keep_attachments(case, user, mail)
    db.session.add(ChannelMessage(channel=CHANNEL, external_id=mail.message_id, case_id=case.id))
    db.session.add(ChannelThread(channel=CHANNEL, external_id=mail.message_id, case_id=case.id))
    db.session.flush()
    return Delivery(case, outcome)


def _keep_attachments(case: Case, user: User | None, mail: Parsed) -> None:
    """Store the mail's files on the case; one that cannot be kept (type, size, count) is noted
    on the case instead of refusing the whole message."""
    for filename, data in mail.attachments:
        try:
            with db.session.begin_nested():
                attachments.attach(case, user, filename, data, public=True)
        except DomainError as refused:
            events.record(case, "attachment_refused", user, public=True, filename=filename,
                          reason=refused.message)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "E-mail")[:200]


def _acknowledge(case: Case, address: str, message_id: str) -> None:
    """The acknowledgement answers the customer's mail (In-Reply-To), so it lands in their thread."""
    subject, body = mail_templates.render("case_acknowledged", {
        "case_number": case.number, "title": case.title,
        "link": notifications.case_link(case, notifications.app_settings().base_url)})
    notifications.enqueue("case_acknowledged", [address], subject, body, case=case, thread=(message_id, message_id))
    case.updated_at = utcnow()

