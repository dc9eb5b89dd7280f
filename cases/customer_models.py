"""The customer record beyond name and tier: contacts, the installed base and the contracts.

A contract grants a service tier for a period; the contract in force is the source of the
customer's ``tier`` (``cases/customer_records.py`` keeps the two in step), so the SLA machinery,
which reads ``Customer.tier``, needs no change.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .db import db
from .models import UTCDateTime, utcnow


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
