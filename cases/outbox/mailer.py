"""SMTP: the settings, one outbound message as MIME, and a connection reused for a delivery pass.

Nothing here touches the database; ``notifications.py`` decides what to send and records the
outcome.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Mapping


@dataclass(frozen=True)
class MailSettings:
    """Where and how to send. ``host`` None: delivery is disabled (messages stay pending)."""

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0
    sender: str = "caseflow <caseflow@localhost>"
    max_attempts: int = 8
    base_url: str = "http://127.0.0.1:5000"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(host=config.get("SMTP_HOST") or None, port=int(config.get("SMTP_PORT", 25)),
                   username=config.get("SMTP_USERNAME") or None, password=config.get("SMTP_PASSWORD") or None,
                   starttls=bool(config.get("SMTP_STARTTLS", False)), ssl=bool(config.get("SMTP_SSL", False)),
                   timeout=float(config.get("SMTP_TIMEOUT", 30)),
                   sender=config.get("MAIL_FROM") or cls.sender,
                   max_attempts=int(config.get("NOTIFY_MAX_ATTEMPTS", 8)),
                   base_url=(config.get("PUBLIC_BASE_URL") or cls.base_url).rstrip("/"))

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    @property
    def domain(self) -> str:
        """The domain of Message-IDs: the sender's."""
        return self.envelope_sender.rpartition("@")[2] or "caseflow.invalid"


@dataclass(frozen=True)
class Outgoing:
    """One claimed notification, detached from the database."""

    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    message_id: str
    case_number: str | None
    in_reply_to: str | None = None
    references: str | None = None


def new_message_id(settings: MailSettings, notification_id: int) -> str:
    # An explicit domain: make_msgid would otherwise ask the resolver for this host's name.
    return make_msgid(idstring=f"caseflow.{notification_id}", domain=settings.domain)


def build(settings: MailSettings, item: Outgoing, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = item.recipient
    message["Subject"] = item.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = item.message_id
    if item.in_reply_to:  # a reply in the customer's thread (RFC 5322 3.6.4)
        message["In-Reply-To"] = item.in_reply_to
    if item.references:
        message["References"] = item.references
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message["X-Caseflow-Kind"] = item.kind
    if item.case_number:
        message["X-Caseflow-Case"] = item.case_number
    message.set_content(item.body, charset="utf-8")
    return message


class Unreachable(Exception):
    """No SMTP session could be opened (connection, TLS or login failed): stop the pass."""


def classify(error: Exception) -> tuple[bool, str]:
    """(permanent?, description) of a failed send."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        text = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in error.recipients.items())
        return all(500 <= code < 600 for code in codes), f"recipient refused: {text}"
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600, f"message refused: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return False, f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    return False, f"{type(error).__name__}: {error}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Connection:
    """An SMTP session opened on the first message and reused for the rest of a pass."""

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls and not s.ssl:
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, recipient: str) -> None:
        """Hand the message to the server; raises on any refusal. A broken session is dropped so
        the next message opens a new one."""
        if self._smtp is None:
            try:
                self._smtp = self._open()
            except (smtplib.SMTPException, OSError) as exc:
                raise Unreachable(classify(exc)[1]) from exc
        try:
            self._smtp.send_message(message, from_addr=self.settings.envelope_sender, to_addrs=[recipient])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError):
            raise  # the session is still good (smtplib reset it)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
