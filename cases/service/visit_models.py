"""The tables of running the service: the special-service catalogue, visits and their repair logs,
maintenance schedules, remote-assistance sessions and internal tasks (issue 18, seeds 003 and 004)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import Case, User, UTCDateTime, utcnow
from cases.customers.models import Contract, InstalledProduct


class CatalogueItem(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A paid special service on the list (seed 003: 专项服务事项清单) with its price, kept by the
    business managers; the negotiation step and out-of-warranty visits pick from it."""

    __tablename__ = "service_catalogue"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: in cents (fen) of CNY: exact sums on both databases
    price_cents: Mapped[int] = mapped_column(Integer)
    #: what the price is per: each, hour, day, visit
    unit: Mapped[str] = mapped_column(String(20), default="each")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class Visit(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """An on-site repair or visit for a case in an appointment window: proposed by one side, confirmed
    or answered with another window by the other; warranty checked when the window is set."""

    __tablename__ = "service_visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # repair | visit
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: proposed (by staff), counter_proposed (by the customer), confirmed, done, cancelled
    status: Mapped[str] = mapped_column(String(20), index=True)
    #: who proposed the current window: staff | customer
    proposed_by: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(Text)
    customer_note: Mapped[str | None] = mapped_column(Text)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    in_warranty: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    catalogue_item_id: Mapped[int | None] = mapped_column(ForeignKey("service_catalogue.id"))
    #: what the customer pays, in cents: 0 in warranty, else the catalogue item's price
    charge_cents: Mapped[int] = mapped_column(Integer, default=0)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the case of kind ``visit`` running the visit's process (processes/service_visit.bpmn); None
    #: until started (a visit booked before the process was deployed, or long done)
    process_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship(foreign_keys=[case_id], lazy="joined")
    process_case: Mapped[Case | None] = relationship(foreign_keys=[process_case_id], lazy="select")
    technician: Mapped[User | None] = relationship(foreign_keys=[technician_id], lazy="joined")
    contract: Mapped[Contract | None] = relationship(lazy="joined")
    catalogue_item: Mapped[CatalogueItem | None] = relationship(lazy="joined")
    logs: Mapped[list[RepairLog]] = relationship(lazy="selectin", order_by="RepairLog.id",
                                                 back_populates="visit")


class RepairLog(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """What was done on a visit: parts, time on site, result (seed 004: 记录维修日志)."""

    __tablename__ = "repair_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("service_visits.id"), index=True)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    result: Mapped[str] = mapped_column(String(20))  # repaired | replaced | not_repairable | advised
    notes: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    visit: Mapped[Visit] = relationship(back_populates="logs")
    recorded_by: Mapped[User | None] = relationship(lazy="joined")


class MaintenanceSchedule(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """Scheduled maintenance or a backup check of one installation, every ``interval_days`` from
    ``next_due``: on its date it opens an internal task of its own."""

    __tablename__ = "maintenance_schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    installed_product_id: Mapped[int] = mapped_column(ForeignKey("installed_products.id", ondelete="CASCADE"),
                                                      index=True)
    kind: Mapped[str] = mapped_column(String(20))  # maintenance | backup_check
    interval_days: Mapped[int] = mapped_column(Integer)
    next_due: Mapped[date] = mapped_column(Date, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the case of kind ``maintenance`` running the schedule's process
    #: (processes/maintenance_schedule.bpmn); None until started
    process_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    installation: Mapped[InstalledProduct] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(lazy="joined")
    process_case: Mapped[Case | None] = relationship(lazy="select")


class RemoteSession(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A remote-assistance session on a case: when, who, what was done."""

    __tablename__ = "remote_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff: Mapped[User] = relationship(lazy="joined")

    @property
    def minutes(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds() // 60)


class InternalTask(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """Staff work behind a case (seed 003: e.g. reproduce it in a test environment) or opened by a
    maintenance schedule on its date; never shown to the customer."""

    __tablename__ = "internal_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_schedules.id", ondelete="SET NULL"),
                                                    index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | done
    due_on: Mapped[date | None] = mapped_column(Date)
    minutes_spent: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    schedule: Mapped[MaintenanceSchedule | None] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.state == "open"
