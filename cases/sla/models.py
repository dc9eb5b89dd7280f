"""The SLA tables: business calendars, policy versions, a case's targets, pauses and escalations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    text,
    true,
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
#: the escalation queue's rows: running targets of open cases (migrations/versions/0021_h16e)
OPEN_QUEUE = {"postgresql": "state = 'running' AND case_open", "sqlite": "state = 'running' AND case_open = 1"}


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
    #: whether the target's case is open: the database keeps it (triggers below, 0021_h16e), the
    #: application never writes it, so the escalation queue counts its targets without the cases
    case_open: Mapped[bool] = mapped_column(Boolean, server_default=true(), nullable=False)
    __table_args__ = (
        Index("uq_sla_targets_case_kind_cycle", "case_id", "kind", "cycle", unique=True),
        # the escalation queue: running targets by due time (its page) and by warning time (at risk)
        Index("ix_sla_targets_running_due", "due_at", "id",
              postgresql_where=text("state = 'running'"), sqlite_where=text("state = 'running'")),
        Index("ix_sla_targets_running_warning", "warning_at",
              postgresql_where=text("state = 'running'"), sqlite_where=text("state = 'running'")),
        # ... and the queue itself: the running targets of open cases, in the page's order, with
        # everything its condition reads: the page and the total read this index, not the cases
        Index("ix_sla_targets_open_queue", "due_at", "id", "warning_at", "breached_at",
              postgresql_where=text(OPEN_QUEUE["postgresql"]), sqlite_where=text(OPEN_QUEUE["sqlite"])),
        # the KPIs: a case's first promises (first response, resolution) with what the figures read
        Index("ix_sla_targets_first_response", "case_id", "state", "breached_at", "due_at", "elapsed_seconds",
              postgresql_where=text(FIRST_RESPONSE), sqlite_where=text(FIRST_RESPONSE)),
        Index("ix_sla_targets_first_resolution", "case_id", "state", "breached_at", "due_at",
              postgresql_where=text(FIRST_RESOLUTION), sqlite_where=text(FIRST_RESOLUTION)),
    )


#: ``sla_targets.case_open`` follows its case's status, kept by the database itself in the
#: statement that writes either table (one per database; migrations/versions/0021_h16e has the same):
#: a target takes its case's status when inserted (or its case or the flag is written), and a case
#: whose status changes sets its targets' flag. PostgreSQL reads the case ``FOR SHARE``: a case
#: closing and a target inserted at the same moment wait for each other instead of missing each other.
CASE_OPEN_TRIGGERS = {
    "postgresql": (
        """CREATE FUNCTION sla_targets_case_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT status = 'open' INTO NEW.case_open FROM cases WHERE id = NEW.case_id FOR SHARE;
    NEW.case_open := coalesce(NEW.case_open, false);
    RETURN NEW;
END $$""",
        """CREATE TRIGGER sla_targets_case_open BEFORE INSERT OR UPDATE OF case_id, case_open ON sla_targets
FOR EACH ROW EXECUTE FUNCTION sla_targets_case_open()""",
        """CREATE FUNCTION cases_sla_targets_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sla_targets SET case_open = (NEW.status = 'open')
     WHERE case_id = NEW.id AND case_open IS DISTINCT FROM (NEW.status = 'open');
    RETURN NULL;
END $$""",
        """CREATE TRIGGER cases_sla_targets_open AFTER UPDATE OF status ON cases
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION cases_sla_targets_open()""",
    ),
    "sqlite": (
        """CREATE TRIGGER sla_targets_case_open AFTER INSERT ON sla_targets
BEGIN
    UPDATE sla_targets SET case_open = coalesce((SELECT status = 'open' FROM cases WHERE id = NEW.case_id), 0)
     WHERE id = NEW.id;
END""",
        """CREATE TRIGGER sla_targets_case_open_kept AFTER UPDATE OF case_id, case_open ON sla_targets
WHEN NEW.case_open IS NOT coalesce((SELECT status = 'open' FROM cases WHERE id = NEW.case_id), 0)
BEGIN
    UPDATE sla_targets SET case_open = coalesce((SELECT status = 'open' FROM cases WHERE id = NEW.case_id), 0)
     WHERE id = NEW.id;
END""",
        """CREATE TRIGGER cases_sla_targets_open AFTER UPDATE OF status ON cases
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE sla_targets SET case_open = (NEW.status = 'open') WHERE case_id = NEW.id;
END""",
    ),
}
for _dialect, _statements in CASE_OPEN_TRIGGERS.items():  # a schema made by create_all has them too
    for _statement in _statements:
        event.listen(SlaTarget.__table__, "after_create",
                     DDL(_statement).execute_if(dialect=_dialect))  # type: ignore[no-untyped-call]

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
