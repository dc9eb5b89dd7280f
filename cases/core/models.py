"""The tables every room shares: users and their roles, customers, cases, their tasks, history and audit."""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db


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
    case it is about), a customer's follow-up programme after a deployment, or the review of a risk
    of the register (risk_review, a case of the service's own organisation: ``Customer.internal``), a
    training session (training), a major incident's own lifecycle and ladder (major_incident), an on-site
    visit's appointment and repair record (visit) or a maintenance schedule's dates (maintenance), all of
    the own organisation as well."""

    SUPPORT = "support"
    COMPLAINT = "complaint"
    FOLLOW_UP = "follow_up"
    RISK_REVIEW = "risk_review"
    TRAINING = "training"
    MAJOR_INCIDENT = "major_incident"
    #: an on-site repair or visit's process (service_visit), beside the case it serves
    VISIT = "visit"
    #: a maintenance schedule's process (maintenance_schedule)
    MAINTENANCE = "maintenance"


#: kinds whose cases the service runs for itself: no customer, no SLA targets, not in the case KPIs
INTERNAL_KINDS = frozenset({CaseKind.RISK_REVIEW.value, CaseKind.TRAINING.value, CaseKind.MAJOR_INCIDENT.value,
                            CaseKind.VISIT.value, CaseKind.MAINTENANCE.value})


class CaseStatus(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class TaskState(str, enum.Enum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


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
    #: the service's own organisation (the one row that holds its internal cases, e.g. risk reviews):
    #: never in a customer list, never given customer users
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"), index=True)
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


#: partial indexes' predicates (migrations/versions/0019_h16v): open tasks nobody holds; the
#: confirmation's answers and timeouts, self-service answers and satisfaction scores in the history
TASKS_POOLED = "state = 'open' AND assignee_id IS NULL"
EVENTS_CONFIRMATION = ("(kind = 'task_completed' AND (data ->> 'element') = 'confirm') OR "
                       "(kind = 'timer_fired' AND (data ->> 'element') = 'confirm_timeout')")
EVENTS_SELF_SERVICE = "kind = 'self_service'"
EVENTS_RATING = ("(kind = 'task_completed' AND (data ->> 'element') IN ('callback', 'follow_up_call_1', "
                 "'follow_up_call_3', 'follow_up_call_6', 'follow_up_call_12')) OR kind = 'survey_answered'")


#: indexes a migration creates on PostgreSQL only and the models do not declare (0019_h16v): the
#: case search's trigram index (an extension's operator class over an expression), the KPIs'
#: confirmation answers by outcome (a JSON path SQLite does not parse)
MIGRATION_ONLY_INDEXES = frozenset({"ix_cases_search_trgm", "ix_case_events_confirmed", "ix_case_events_rejected"})


def include_in_comparison(obj: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any) -> bool:
    """Alembic's ``include_object``: compare the models with the database except for those indexes."""
    return not (type_ == "index" and reflected and name in MIGRATION_ONLY_INDEXES)


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
    #: the customer's SLA tier when the case opened (the contract then in force), kept for replays
    tier_at_open: Mapped[str | None] = mapped_column(String(20))

    customer: Mapped[Customer] = relationship(lazy="joined")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined")

    # the open cases' ids: the escalation queue's total joins its running targets with them
    # without reading the cases
    # and the KPIs' cohorts (cases opened in a period) and backlog, read from the index alone
    __table_args__ = (Index("ix_cases_open", "id", postgresql_where=text("status = 'open'"),
                            sqlite_where=text("status = 'open'")),
                      Index("ix_cases_cohort", "created_at", "kind", "id", "customer_id", "owner_id", "status",
                            "closed_at"))

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN.value

    @property
    def is_follow_up(self) -> bool:
        return self.kind == CaseKind.FOLLOW_UP.value

    @property
    def is_internal(self) -> bool:
        """A case the service runs for itself (``INTERNAL_KINDS``)."""
        return self.kind in INTERNAL_KINDS


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
        # the "all open tasks" inbox: its page in order and its total from the index alone
        Index("ix_tasks_open_created", "created_at", "id",
              postgresql_where=text("state = 'open'"), sqlite_where=text("state = 'open'")),
        # the "claimable" inbox: open tasks nobody holds, by lane — its page in order and its total
        # from the index alone (case_id: a major incident's team may claim its linked cases' tasks)
        Index("ix_tasks_open_pooled", "lane", "created_at", "id", "case_id",
              postgresql_where=text(TASKS_POOLED), sqlite_where=text(TASKS_POOLED)),
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
    # the KPIs ask, for each case of a period, whether it has events of a kind; and read the
    # confirmations, the self-service answers and the satisfaction scores (cases/kpis/report.py
    # spells each predicate as its query's condition, so that the planner uses the index)
    __table_args__ = (
        Index("ix_case_events_case_kind", "case_id", "kind"),
        Index("ix_case_events_confirmations", "case_id",
              postgresql_where=text(EVENTS_CONFIRMATION), sqlite_where=text(EVENTS_CONFIRMATION)),
        Index("ix_case_events_self_service", "case_id",
              postgresql_where=text(EVENTS_SELF_SERVICE), sqlite_where=text(EVENTS_SELF_SERVICE)),
        Index("ix_case_events_ratings", "at",
              postgresql_where=text(EVENTS_RATING), sqlite_where=text(EVENTS_RATING)),
    )


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
