"""Attachments and satisfaction surveys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import (
    Case,
    User,
    UTCDateTime,
    utcnow,
)


class Attachment(db.Model):
    """A file on a case or one of its tasks. The bytes live in the attachment storage
    (cases/casework/storage.py) under ``storage_key`` (content-addressed: the SHA-256), the row says
    what they are: the type sniffed from the content, never the one the client claimed."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(200))
    #: shown to the customer's users (a customer's own uploads always are)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[User | None] = relationship(lazy="joined")


class Survey(db.Model):
    """A satisfaction survey sent for a case (the callback, a complaint's outcome, a follow-up).
    The link's token is stored as its SHA-256 only; it answers once, until ``expires_at``."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # callback | complaint | follow_up
    milestone: Mapped[int | None] = mapped_column(Integer)  # a follow-up's month (1, 3, 6, 12)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    recipient: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_via: Mapped[str | None] = mapped_column(String(10))  # link | api
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    #: the complaint a low score opened
    complaint_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    case: Mapped[Case] = relationship(foreign_keys=[case_id], lazy="joined")

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class SurveyFailure(db.Model):
    """A public survey request with a token that does not exist, kept for the rate limit's window."""

    __tablename__ = "survey_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FormSubmission(db.Model):  # type: ignore[misc, name-defined]  # db.Model is built at run time
    """A page form's one-time token, used: the same form sent again (a double click, Back and Send
    again) finds the case its first sending opened instead of opening another."""

    __tablename__ = "form_submissions"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedView(db.Model):  # type: ignore[misc, name-defined]  # db.Model is built at run time
    """A list's filter saved under a name by a user (cases/casework/saved_views.py): the case list's
    or the inbox's query string, found again in the list's "My views"."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "page", "name", name="uq_saved_views_user_page_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    page: Mapped[str] = mapped_column(String(20))  # cases | inbox
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
