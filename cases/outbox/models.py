"""What goes out: mail notifications, webhook posts (HQ reports, chat replies) and the case's threads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.core.db import db
from cases.core.models import (
    UTCDateTime,
    utcnow,
)


class Notification(db.Model):
    """An outbound message, written in the transaction that decided to send it (an outbox);
    the scheduler process delivers it."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(200))
    #: threading headers of a mail to a customer (the case's earlier messages), so replies thread
    in_reply_to: Mapped[str | None] = mapped_column(String(200))
    mail_references: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        Index("ix_notifications_pending", "send_after",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )


class WebhookDelivery:
    """The delivery columns of a row posted to a webhook by ``cases.webhooks`` (claim, post, mark,
    back off): HQ reports and chat posts."""

    #: where it goes (the configured URL when the row was written); None: recorded only
    url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed | recorded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @staticmethod
    def pending_index(name: str) -> Index:
        """The partial index the deliverer reads due rows by."""
        return Index(name, "send_after", postgresql_where=text("status = 'pending'"),
                     sqlite_where=text("status = 'pending'"))


class HqReport(WebhookDelivery, db.Model):
    """A bug report to the HQ product team, and its delivery to the HQ webhook (an outbox row:
    written with the step that reported, posted by ``cases.hq.deliver_pending`` afterwards)."""

    __tablename__ = "hq_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    #: the release HQ answered with (the ``fixed_version`` message), when it came
    fixed_version: Mapped[str | None] = mapped_column(String(100))
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (WebhookDelivery.pending_index("ix_hq_reports_pending"),)


class ChannelThread(db.Model):
    """A conversation on an outside channel (a chat, a phone number) and the case it feeds."""

    __tablename__ = "channel_threads"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("uq_channel_threads_channel_external", "channel", "external_id", unique=True),)


class ChannelMessage(db.Model):
    """An inbound message already taken in: a platform's retry of the same message changes nothing."""

    __tablename__ = "channel_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("uq_channel_messages_channel_external", "channel", "external_id", unique=True),)


class ChatPost(WebhookDelivery, db.Model):
    """A message to a chat platform's conversation (a reply, a notice), and its delivery to the
    platform's reply webhook: an outbox row posted by ``cases.chat_out.deliver_pending``."""

    __tablename__ = "chat_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (WebhookDelivery.pending_index("ix_chat_posts_pending"),)
