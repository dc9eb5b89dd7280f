"""Tables. Status vocabularies are enums with predicates on the models."""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; caseflow stores UTC-aware instants only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Role(str, enum.Enum):
    AGENT = "agent"
    SERVICE_CONSULTANT = "service_consultant"
    BUSINESS_MANAGER = "business_manager"
    TECHNICAL_LEAD = "technical_lead"
    SUPERVISOR = "supervisor"
    COMPLAINT_OFFICER = "complaint_officer"
    PROCESS_OWNER = "process_owner"
    ADMIN = "admin"
    MANAGER = "manager"  # customer service manager: the last rung of an escalation ladder
    CUSTOMER = "customer"


STAFF_ROLES = frozenset(r.value for r in Role) - {Role.CUSTOMER.value}
CHANNELS = ("phone", "email", "web", "chat", "im", "vip")
PRIORITIES = ("urgent", "high", "medium", "low")
CATEGORIES = (
    "software_bug", "data_problem", "new_requirement", "environment_problem", "operation_problem",
    "general_consultation", "configuration_problem", "performance_problem", "complaint",
    "special_service", "hardware_repair",
)
TIERS = ("standard", "vip")


class CaseKind(str, enum.Enum):
    """Which process a case runs: a support case, a complaint (complaint_handling, linked to the
    case it is about), or a customer's follow-up programme after a deployment."""

    SUPPORT = "support"
    COMPLAINT = "complaint"
    FOLLOW_UP = "follow_up"


class CaseStatus(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class TaskState(str, enum.Enum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstanceStatus(str, enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"  # a step the scheduler ran failed; waits for an operator's retry


class Customer(db.Model):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20), default="standard")
    #: when the software went live at the customer: the follow-ups count from it
    deployed_on: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(500))
    #: internal notes: staff only, never shown to the customer's users
    notes: Mapped[str | None] = mapped_column(Text)
    #: the record's version (If-Match when it is changed)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class UserRole(db.Model):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    team: Mapped[str | None] = mapped_column(String(60), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Loaded on demand: a user read as an assignee or owner needs neither. The token lookup
    # loads both in its one query.
    role_rows: Mapped[list[UserRole]] = relationship(lazy="select", cascade="all, delete-orphan")
    customer: Mapped[Customer | None] = relationship(lazy="select")

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_customer(self) -> bool:
        return Role.CUSTOMER.value in self.roles

    @property
    def is_staff(self) -> bool:
        return not self.roles.isdisjoint(STAFF_ROLES)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(lazy="joined")

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.active


class LoginFailure(db.Model):
    """A failed log-in, kept for the rate limit's window."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


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


class Case(db.Model):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    environment: Mapped[str | None] = mapped_column(Text)
    steps_to_reproduce: Mapped[str | None] = mapped_column(Text)
    category_hint: Mapped[str | None] = mapped_column(String(40))
    priority_hint: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40), index=True)
    priority: Mapped[str | None] = mapped_column(String(20), index=True)
    classification_rule: Mapped[dict | None] = mapped_column(JSON)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    analysis: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(60), default="intake")
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.OPEN.value, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20), default=CaseKind.SUPPORT.value,
                                      server_default=CaseKind.SUPPORT.value, index=True)
    #: the case this one is about (a complaint's original case)
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)

    customer: Mapped[Customer] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN.value

    @property
    def is_follow_up(self) -> bool:
        return self.kind == CaseKind.FOLLOW_UP.value


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


class Task(db.Model):
    """A user task of an instance. Open rows feed the inboxes; closed rows stay as record."""

    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(60))
    form: Mapped[str | None] = mapped_column(String(200))
    also_roles: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default=TaskState.OPEN.value)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    case: Mapped[Case] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_tasks_open_assignee", "assignee_id", "created_at",
              postgresql_where=text("state = 'open'"), sqlite_where=text("state = 'open'")),
        Index("ix_tasks_open_lane", "lane", "created_at",
              postgresql_where=text("state = 'open'"), sqlite_where=text("state = 'open'")),
        Index("ix_tasks_instance_state", "instance_id", "state"),
    )

    @property
    def is_open(self) -> bool:
        return self.state == TaskState.OPEN.value


class CaseEvent(db.Model):
    """The history of a case: every change and task completion, who, when, what."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[User | None] = relationship(lazy="joined")


class Timer(db.Model):
    """A timer an instance waits for. Derived from the engine state in the same transaction,
    so a restart loses none: the scheduler reads this table, not its own memory."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    element_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: an SLA alarm (cases/sla.py) only escalates; it does not move the case on
    alarm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class AuditEvent(db.Model):
    """What operators and process owners did to the installation: deploys, migrations, retries."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[User | None] = relationship(lazy="joined")


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


class RoundRobinCursor(db.Model):
    """Where the round-robin assignment rule stopped, per role."""

    __tablename__ = "round_robin_cursors"
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_user_id: Mapped[int | None] = mapped_column(Integer)


class Calendar(db.Model):
    """A business calendar an administrator defined (built-in ones live in cases/calendars.py)."""

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
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


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
    __table_args__ = (Index("uq_sla_targets_case_kind_cycle", "case_id", "kind", "cycle", unique=True),)


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


class CustomerConsultant(db.Model):
    """A customer's dedicated service consultant (the VIP channel): their service orders skip the
    round-robin queue. A table of its own, not a column on customers, because users already
    reference customers (a column would make the two tables reference each other)."""

    __tablename__ = "customer_consultants"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consultant: Mapped[User] = relationship(lazy="joined")


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


class CallLog(db.Model):
    """A hotline call an agent logged on a case."""

    __tablename__ = "call_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    caller_name: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(50), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    agent: Mapped[User] = relationship(lazy="joined")

class Attachment(db.Model):
    """A file on a case or one of its tasks. The bytes live in the attachment storage
    (cases/storage.py) under ``storage_key`` (content-addressed: the SHA-256), the row says
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


class KnowledgeArticle(db.Model):
    """A knowledge-base article or an agents' canned answer (``kind``), in one language.
    ``version`` guards concurrent edits like a task's; the search index is ``article_terms``."""

    __tablename__ = "knowledge_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="article")  # article | canned_answer
    language: Mapped[str] = mapped_column(String(5), index=True)  # zh | en
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)  # draft | published
    #: the number of index terms (title, tags and body weighted): BM25's document length
    indexed_length: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_published(self) -> bool:
        return self.status == "published"


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


class ArticleTerm(db.Model):
    """The full-text index of the knowledge base, built in Python (cases/knowledge_index.py) so
    it behaves the same on SQLite and PostgreSQL: how often ``term`` occurs in a ``field``."""

    __tablename__ = "article_terms"
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    field: Mapped[str] = mapped_column(String(10), primary_key=True)  # title | tags | body
    term: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer)


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


from .customer_models import Contract, CustomerContact, InstalledProduct  # noqa: E402  (they use UTCDateTime)

__all__ = [
    "ApiToken", "ArticleTerm", "Attachment", "AuditEvent", "Calendar", "CallLog", "Case", "CaseEvent", "CaseKind",
    "ChannelMessage", "ChannelThread", "ChatPost", "Contract", "Customer", "CustomerConsultant", "CustomerContact", "Escalation",
    "HqReport", "InstalledProduct", "InstanceMigration", "KnowledgeArticle", "LoginFailure", "MigrationBatch", "Notification", "ProcessInstance",
    "ProcessVersion", "Role", "RoundRobinCursor", "SlaPause", "SlaPolicyVersion", "SlaTarget",
    "Survey", "SurveyFailure", "Task", "Timer", "UpdateAnnouncement", "User", "UserRole",
]
