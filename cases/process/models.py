"""The process tables: deployed versions, running instances, their timers, migrations, round-robin turns."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import (
    UTCDateTime,
    utcnow,
)


class InstanceStatus(str, enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"  # a step the scheduler ran failed; waits for an operator's retry


class ProcessVersion(db.Model):
    """An immutable deployment of the process, decision and form files, keyed by content hash."""

    __tablename__ = "process_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    process_ids: Mapped[list] = mapped_column(JSON)
    files: Mapped[dict] = mapped_column(JSON, deferred=True)
    forms: Mapped[dict] = mapped_column(JSON, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: why the version was made (required when deployed from the API or the pages)
    change_note: Mapped[str | None] = mapped_column(Text)


class ProcessInstance(db.Model):
    """One row of serialized engine state per case; ``lock_version`` guards concurrent writes."""

    __tablename__ = "process_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=InstanceStatus.RUNNING.value)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the earliest timer the instance waits for (derived; None when it waits for none)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: why the last step run by the scheduler failed (status ERROR), for the operators
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element: Mapped[str | None] = mapped_column(String(100))
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[ProcessVersion] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class Timer(db.Model):
    """A timer an instance waits for. Derived from the engine state in the same transaction,
    so a restart loses none: the scheduler reads this table, not its own memory."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    element_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: an SLA alarm (cases/sla/clock.py) only escalates; it does not move the case on
    alarm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class MigrationBatch(db.Model):
    """A bulk move of running cases, with its progress while it runs."""

    __tablename__ = "migration_batches"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done
    total: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the owner's mapping of renamed element ids {old id: new id} the batch moved with (None: none)
    mapping: Mapped[dict[str, str] | None] = mapped_column(JSON)


class InstanceMigration(db.Model):
    """One instance moved to another version, with what is needed to move it back."""

    __tablename__ = "instance_migrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch: Mapped[str] = mapped_column(String(36), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    from_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    previous_state: Mapped[str] = mapped_column(Text, deferred=True)
    #: the instance's lock_version right after the move: a revert only undoes an untouched move
    lock_version_after: Mapped[int] = mapped_column(Integer)
    #: the instance's state right after the move: a revert undoes the move while it is unchanged
    #: (no step completed since; a refused step's error note changes only lock_version)
    state_after: Mapped[str | None] = mapped_column(Text, deferred=True)
    migrated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    migrated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoundRobinTurn(db.Model):
    """When a user of a role was last given a task by round robin: the next is the one whose turn
    is oldest. A row per (role, user), so concurrent cases lock different rows (``SKIP LOCKED``)
    instead of queueing on one cursor per role."""

    __tablename__ = "round_robin_turns"
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSkill(db.Model):
    """The categories and products a staff member handles (the ``skills`` strategy matches a case's
    category and its customer's installed products against them)."""

    __tablename__ = "user_skills"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    products: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DutyShift(db.Model):
    """One shift of a user's weekly roster: a weekday and local minutes ``[start, end)`` in a zone
    (an overnight shift is two rows). The ``on_duty`` strategy assigns only users on a shift now."""

    __tablename__ = "duty_shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday .. 6 Sunday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)  # up to 1440 (midnight at the end of the day)
    timezone: Mapped[str] = mapped_column(String(64))


class CaseCollaborator(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A staff member who works a case beside its lanes' roles: a major incident's team member works
    every staff task of the incident's linked cases (cases/process/taskrules.py). ``source`` says
    why (``major_incident:<id>``), so removing the reason removes exactly its rows."""

    __tablename__ = "case_collaborators"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(60), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
