"""The service room's tables: major incidents (their linked cases, team and updates) and known problems."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import Case, User, UTCDateTime, utcnow
from cases.knowledge.models import KnowledgeArticle


class MajorIncident(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy\'s dynamic base
    """A major incident: one fault that affects many cases (seeds 002, 004: 启动紧急响应机制,
    组织专项小组). Not a process error of an instance (those are cases/process/incidents.py)."""

    __tablename__ = "major_incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open | resolved
    origin_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    #: the internal case of kind ``major_incident`` running its process (processes/major_incident.bpmn):
    #: its lead's task, its ladder, its resolution; None until started (cases/service/major_incidents.py)
    process_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cause: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: its own SLA (cases/sla policies, case kind ``major_incident``): [{kind, minutes, calendar,
    #: policy_version, started_at, due_at, ladder: [{name, notify, at}], met_at, breached}]
    sla: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: the rungs of its ladder reached: [{target, rung, kind, at, notified}]
    escalations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    origin_case: Mapped[Case] = relationship(foreign_keys=[origin_case_id], lazy="joined")
    process_case: Mapped[Case | None] = relationship(foreign_keys=[process_case_id], lazy="select")
    declared_by: Mapped[User | None] = relationship(foreign_keys=[declared_by_id], lazy="joined")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def number(self) -> str:
        return f"MI-{self.id:04d}"


class MajorIncidentCase(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy\'s dynamic base
    """A case a major incident affects, and what resolving the incident did to it."""

    __tablename__ = "major_incident_cases"
    incident_id: Mapped[int] = mapped_column(ForeignKey("major_incidents.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: None until the incident was resolved: resolved | not_resolvable | failed
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    case: Mapped[Case] = relationship(lazy="joined")


class MajorIncidentMember(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy\'s dynamic base
    """A member of the incident's team: works every staff task of the linked cases."""

    __tablename__ = "major_incident_members"
    incident_id: Mapped[int] = mapped_column(ForeignKey("major_incidents.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user: Mapped[User] = relationship(lazy="joined")


class MajorIncidentUpdate(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy\'s dynamic base
    """An update posted on the incident; a public one went to every affected customer once."""

    __tablename__ = "major_incident_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("major_incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    #: who heard of it: [{customer, case_number, via, to}]
    reached: Mapped[list[Any]] = mapped_column(JSON, default=list)
    author: Mapped[User | None] = relationship(lazy="joined")


class KnownProblem(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy\'s dynamic base
    """A group of recurring cases (product, version, category, customer) marked as a known problem,
    with its workaround in a knowledge article."""

    __tablename__ = "known_problems"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the group's key (cases/service/problems.py): "" for a product or version not known
    product: Mapped[str] = mapped_column(String(100), default="")
    product_version: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    workaround: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}
    article: Mapped[KnowledgeArticle | None] = relationship(lazy="joined")
