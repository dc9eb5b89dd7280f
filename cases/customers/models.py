"""The customer record beyond name and tier: consultants, contacts, the installed base, contracts, announcements."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import (
    User,
    UTCDateTime,
    utcnow,
)


class CustomerConsultant(db.Model):
    """A customer's dedicated service consultant (the VIP channel): their service orders skip the
    round-robin queue. A table of its own, not a column on customers, because users already
    reference customers (a column would make the two tables reference each other)."""

    __tablename__ = "customer_consultants"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consultant: Mapped[User] = relationship(lazy="joined")


class UpdateAnnouncement(db.Model):
    """A software update announced to customers ahead of its window (seed 004), and whom it reached."""

    __tablename__ = "update_announcements"
    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    notes_zh: Mapped[str] = mapped_column(Text)
    notes_en: Mapped[str] = mapped_column(Text)
    #: "all", "customers" (the codes in ``customer_codes``) or "product" (the installed base)
    audience: Mapped[str] = mapped_column(String(20))
    customer_codes: Mapped[list] = mapped_column(JSON, default=list)
    #: audience "product": {"product": name, "versions": [..], "from_version": v, "below_version": v}
    product_filter: Mapped[dict | None] = mapped_column(JSON)
    #: {"customers": n, "mails": n, "chat_posts": n, "cases": n}
    reached: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[User | None] = relationship(lazy="joined")


class CustomerContact(db.Model):
    """A person at the customer we talk to; one of them may be the primary contact."""

    __tablename__ = "customer_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(254))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class InstalledProduct(db.Model):
    """A product (and version) running at the customer: the installed base update notices target."""

    __tablename__ = "installed_products"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(100), index=True)
    product_version: Mapped[str] = mapped_column(String(100))
    environment: Mapped[str | None] = mapped_column(Text)  # servers, OS, database, configuration notes
    installed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class Contract(db.Model):
    """A service contract: the tier it grants from ``start`` to ``end`` (both included) and the
    warranty. Its status (upcoming, active, expired) follows from the dates."""

    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    tier: Mapped[str] = mapped_column(String(20))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    warranty_until: Mapped[date | None] = mapped_column(Date)
    #: the business calendar of the support hours it promises (informational; the SLA policy decides)
    calendar: Mapped[str | None] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}

    def status_on(self, day: date) -> str:
        if day < self.start:
            return "upcoming"
        return "active" if day <= self.end else "expired"

    def in_warranty_on(self, day: date) -> bool:
        return self.warranty_until is not None and day <= self.warranty_until
