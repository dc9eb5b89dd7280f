"""The tables of training, the risk register and quality audits (issue 18; seeds 000, 001, 004).

Kept apart from the room's other tables (major incidents, repairs ...) so each part's tables read on
their own. ``cases/wiring.py`` imports this module in ``MODELS``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import Case, Customer, User, UTCDateTime, utcnow


# -- training ------------------------------------------------------------------------------------
class TrainingSession(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A planned training: customer user training, new-staff induction or quarterly staff technical
    training. It runs as a process (``process_case``: a case of kind ``training``, processes/
    training_session.bpmn): its reminder goes out ``reminder_hours`` before it starts
    (``reminder_due_at``), once (``reminded_at``)."""

    __tablename__ = "training_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(Text)
    #: the customer whose users are trained (customer user training only)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[str] = mapped_column(String(20), default="on_site")
    location: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reminder_hours: Mapped[int] = mapped_column(Integer, default=24)
    reminder_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the case of kind ``training`` running the session's process; None until started
    process_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    process_case: Mapped[Case | None] = relationship(foreign_keys=[process_case_id], lazy="select")
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id], lazy="joined")
    participants: Mapped[list[TrainingParticipant]] = relationship(
        back_populates="session", lazy="selectin", order_by="TrainingParticipant.id",
        foreign_keys="TrainingParticipant.session_id")

    __mapper_args__ = {"version_id_col": version}


class TrainingParticipant(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """Someone invited to a session: a user (staff or a customer's), or a customer's person by name and
    address; ``case_id`` when a case's re-training enrolled them. Attendance and the assessment score
    (0-100) are recorded after the session; one who missed it is followed up (``followed_up_at``) and
    may be moved to a later session (``moved_to_id``)."""

    __tablename__ = "training_participants"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: where the invitation and reminder go (none: a user without an address is told in person)
    email: Mapped[str | None] = mapped_column(String(254))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attendance: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_to_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id"))
    #: the organiser's follow-up decision for one who missed it: excused (or moved: ``moved_to_id``), why
    excused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_note: Mapped[str | None] = mapped_column(Text)

    session: Mapped[TrainingSession] = relationship(back_populates="participants", foreign_keys=[session_id])
    user: Mapped[User | None] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")


# -- the risk register ---------------------------------------------------------------------------
class Risk(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A risk of the service (seed 004 6.1): its kind and level, an owner, a contingency plan and a
    review date; its review process (``review_case``) makes the review due on the date
    (``review_due_since``) as a task of the owner until they review it."""

    __tablename__ = "risks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    contingency_plan: Mapped[str] = mapped_column(Text)
    #: the customer it concerns, if one (the quarterly review per customer lists it)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    review_on: Mapped[date] = mapped_column(Date, index=True)
    review_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the case of kind ``risk_review`` running its reviews (processes/risk_review.bpmn); None until started
    review_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    customer: Mapped[Customer | None] = relationship(lazy="joined")
    review_case: Mapped[Case | None] = relationship(foreign_keys=[review_case_id], lazy="select")
    links: Mapped[list[RiskLink]] = relationship(back_populates="risk", lazy="selectin", order_by="RiskLink.id")
    reviews: Mapped[list[RiskReview]] = relationship(back_populates="risk", lazy="selectin",
                                                     order_by="RiskReview.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class RiskLink(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A case (and, if one, the escalation of it) that is evidence of a risk."""

    __tablename__ = "risk_links"
    __table_args__ = (UniqueConstraint("risk_id", "case_id", name="uq_risk_links_risk_case"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    risk: Mapped[Risk] = relationship(back_populates="links")
    case: Mapped[Case] = relationship(lazy="joined")


class RiskReview(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """One review of a risk: the level then, the notes, the next review date."""

    __tablename__ = "risk_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str] = mapped_column(Text)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(default=False)

    risk: Mapped[Risk] = relationship(back_populates="reviews")
    reviewed_by: Mapped[User | None] = relationship(lazy="joined")


# -- quality audits ------------------------------------------------------------------------------
class QualityAudit(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A closed case drawn for audit in a period's sample, then audited against the checklist."""

    __tablename__ = "quality_audits"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    period_first: Mapped[date] = mapped_column(Date, index=True)
    period_last: Mapped[date] = mapped_column(Date)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    auditor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checklist: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the share of checklist items met, 0-100
    score: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    audited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    case: Mapped[Case] = relationship(lazy="joined")
    auditor: Mapped[User | None] = relationship(foreign_keys=[auditor_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}
