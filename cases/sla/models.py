"""The SLA tables: business calendars, policy versions, a case's targets, pauses and escalations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.core.db import db
from cases.core.models import (
    UTCDateTime,
    utcnow,
)


class Calendar(db.Model):
    """A business calendar an administrator defined (built-in ones live in cases/sla/calendars.py)."""

    __tablename__ = "calendars"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(60))
    #: seven lists (Mon..Sun) of ["HH:MM", "HH:MM"] intervals; ["00:00", "24:00"] is the whole day
    hours: Mapped[list] = mapped_column(JSON)
    holiday_country: Mapped[str | None] = mapped_column(String(10))
    extra_holidays: Mapped[list] = mapped_column(JSON, default=list)
    removed_holidays: Mapped[list] = mapped_column(JSON, default=list)
    extra_workdays: Mapped[list] = mapped_column(JSON, default=list)
    makeup_hours: Mapped[list | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class SlaPolicyVersion(db.Model):
    """One immutable version of the SLA policy; the newest is active. Cases keep a copy of the
    targets they started with, so a new version never moves a running case's deadlines."""

    __tablename__ = "sla_policy_versions"
    id: Mapped[int] = mapped_column(primary_key=True)  # the version number
    calendar: Mapped[str] = mapped_column(String(60))
    #: [{"priority": "urgent"|"*", "tier": "vip"|"*", "calendar": name|null,
    #:   "first_response": minutes, "next_update": minutes|null, "resolution": minutes,
    #:   "off_hours": {"first_response": ..., ...}|null}]
    rules: Mapped[list] = mapped_column(JSON)
    #: the calendar whose working time decides whether a case arrived "off hours"
    office_calendar: Mapped[str | None] = mapped_column(String(60))
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    manager_after_minutes: Mapped[int] = mapped_column(Integer, default=120)
    #: the escalation ladder's rungs (cases/sla/ladder.py); None: warning, breach, manager
    ladder: Mapped[list | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


#: the first cycle's targets (migrations/versions/0019_h16v)
FIRST_RESPONSE = "kind = 'first_response' AND cycle = 1"
FIRST_RESOLUTION = "kind = 'resolution' AND cycle = 1"


class SlaTarget(db.Model):
    """One promise on one case (first response, next update, resolution) and its clock.

    Elapsed business time is ``elapsed_seconds`` plus the business time since ``running_since``
    while the clock runs; a pause folds the running part into ``elapsed_seconds``.
    """

    __tablename__ = "sla_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # first_response | next_update | resolution
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    policy_version: Mapped[int] = mapped_column(Integer)  # 0: the built-in policy
    calendar: Mapped[str] = mapped_column(String(60))
    target_minutes: Mapped[int] = mapped_column(Integer)
    extended_minutes: Mapped[int] = mapped_column(Integer, default=0)
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    manager_after_minutes: Mapped[int] = mapped_column(Integer, default=120)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    elapsed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="running")  # running|paused|met|cancelled
    warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    manager_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the policy's ladder with each rung's instant ("at"); None: warning, breach, manager
    ladder: Mapped[list | None] = mapped_column(JSON)
    __table_args__ = (
        Index("uq_sla_targets_case_kind_cycle", "case_id", "kind", "cycle", unique=True),
        # the escalation queue: running targets by due time (its page) and by warning time (at risk)
        Index("ix_sla_targets_running_due", "due_at", "id",
              postgresql_where=text("state = 'running'"), sqlite_where=text("state = 'running'")),
        Index("ix_sla_targets_running_warning", "warning_at",
              postgresql_where=text("state = 'running'"), sqlite_where=text("state = 'running'")),
        # ... and everything the queue's condition reads, with the case: its total is counted from
        # this index alone (an index-only scan), without reading the targets themselves
        Index("ix_sla_targets_running_queue", "warning_at", "due_at", "breached_at", "case_id",
              postgresql_where=text("state = 'running'"), sqlite_where=text("state = 'running'")),
        # the KPIs: a case's first promises (first response, resolution) with what the figures read
        Index("ix_sla_targets_first_response", "case_id", "state", "breached_at", "due_at", "elapsed_seconds",
              postgresql_where=text(FIRST_RESPONSE), sqlite_where=text(FIRST_RESPONSE)),
        Index("ix_sla_targets_first_resolution", "case_id", "state", "breached_at", "due_at",
              postgresql_where=text(FIRST_RESOLUTION), sqlite_where=text(FIRST_RESOLUTION)),
    )


class SlaPause(db.Model):
    """An interval in which the case's clocks stood still (waiting for the customer or a third party)."""

    __tablename__ = "sla_pauses"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Escalation(db.Model):
    """A rung of an escalation ladder reached by one target: at most one per target and level."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("sla_targets.id"))
    level: Mapped[str] = mapped_column(String(20))  # warning | breach | manager
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    notified: Mapped[list] = mapped_column(JSON, default=list)  # user names
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    __table_args__ = (Index("uq_escalations_target_level", "target_id", "level", unique=True),)
