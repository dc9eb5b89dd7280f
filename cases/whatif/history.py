"""Reading a period's history for a replay: read-only, in bounded batches.

``reading(config)`` opens a connection of its own — to ``WHATIF_DATABASE_URL`` (a replica) when
it is configured, else to the service's database — in a read-only transaction (PostgreSQL:
``SET TRANSACTION READ ONLY``; SQLite: ``PRAGMA query_only``), so a replay can neither change
live data nor hold a write lock. ``batches`` walks the support cases opened in the period by id
(the period's ids first, then ``batch_size`` cases per query by their ids) and hands out plain facts: the case's fields,
its owner and team, the tier at opening, its SLA targets, pauses and the escalations recorded.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.orm import aliased

from cases.core.db import db, without_write_intent
from cases.core.models import Case, CaseKind, Customer, Task, User
from cases.customers.models import Contract
from cases.sla import calendars
from cases.sla.business_time import BusinessCalendar
from cases.sla.models import Calendar, Escalation, SlaPause, SlaTarget

BATCH_SIZE = 500
SHANGHAI = ZoneInfo(calendars.DEFAULT_TIMEZONE)
_ENGINES: dict[str, Engine] = {}


@dataclass(frozen=True)
class TargetFacts:
    id: int
    kind: str
    cycle: int
    policy_version: int
    calendar: str
    target_minutes: int
    extended_minutes: int
    warning_percent: int
    manager_after_minutes: int
    started_at: datetime
    state: str
    met_at: datetime | None
    breached_at: datetime | None
    due_at: datetime | None
    elapsed_seconds: int


@dataclass(frozen=True)
class PauseFacts:
    reason: str
    started_at: datetime
    ended_at: datetime | None


@dataclass
class CaseFacts:
    id: int
    number: str
    kind: str
    created_at: datetime
    status: str
    priority: str | None
    category: str | None
    channel: str
    owner: str | None
    team: str | None
    tier: str
    tier_source: str  # case (kept at opening) | contract (in force that day) | record (today's tier)
    targets: list[TargetFacts] = field(default_factory=list)
    pauses: list[PauseFacts] = field(default_factory=list)
    escalations: set[tuple[int, str]] = field(default_factory=set)


def _engine(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url, pool_pre_ping=True)
    return _ENGINES[url]


def _normalised(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@contextmanager
def reading(config: dict[str, Any]) -> Iterator[Connection]:
    """A connection in a read-only transaction, on the replica when one is configured."""
    url = config.get("WHATIF_DATABASE_URL")
    engine = _engine(_normalised(url)) if url else db.engine
    with without_write_intent(), engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA query_only = ON")
        else:
            conn.execute(text("SET TRANSACTION READ ONLY"))
        try:
            yield conn
        finally:
            conn.rollback()
            if sqlite:
                conn.exec_driver_sql("PRAGMA query_only = OFF")


def stored_calendars(conn: Connection) -> dict[str, BusinessCalendar]:
    """Every calendar by name as the clocks see it: the built-in ones, overridden by stored ones."""
    found = dict(calendars.BUILTIN)
    for row in conn.execute(select(Calendar)).all():
        found[row.name] = calendars.to_business_calendar(row)  # type: ignore[arg-type]
    return found


def count(conn: Connection, start: datetime, end: datetime) -> int:
    return int(conn.scalar(select(func.count()).select_from(Case).where(*_cohort(start, end))) or 0)


def _cohort(start: datetime, end: datetime) -> tuple[Any, ...]:
    return (Case.created_at >= start, Case.created_at < end, Case.kind == CaseKind.SUPPORT.value)


def batches(conn: Connection, start: datetime, end: datetime,
            batch_size: int = BATCH_SIZE) -> Iterator[list[CaseFacts]]:
    """The support cases opened in ``[start, end)`` with their SLA facts, ``batch_size`` at a time.

    The period's case ids are read first (one range read on ``cases.created_at``), then each batch by
    its ids (primary-key lookups): a plan that does not depend on the statistics. A keyset query
    (``id > last ORDER BY id LIMIT n`` beside the period's range) let a planner with statistics
    (SQLite after ANALYZE) or without them (PostgreSQL after a bulk load) read the whole period again
    for every batch."""
    owner = aliased(User, name="owner")
    ids = list(conn.scalars(select(Case.id).where(*_cohort(start, end)).order_by(Case.id)))
    for first in range(0, len(ids), batch_size):
        chunk = ids[first:first + batch_size]
        rows = conn.execute(
            select(Case.id, Case.number, Case.kind, Case.created_at, Case.status, Case.priority, Case.category,
                   Case.channel, Case.tier_at_open, Case.customer_id, Customer.tier, owner.username, owner.team)
            .join(Customer, Customer.id == Case.customer_id).outerjoin(owner, owner.id == Case.owner_id)
            .where(Case.id.in_(chunk)).order_by(Case.id)).all()
        contracts = _contracts(conn, {r.customer_id for r in rows if r.tier_at_open is None})
        cases = {r.id: _case(r, contracts.get(r.customer_id, [])) for r in rows}
        _attach(conn, cases)
        yield list(cases.values())


def _case(row: Any, contracts: list[tuple[date, date, str]]) -> CaseFacts:
    tier, source = row.tier_at_open, "case"
    if tier is None:
        day = row.created_at.astimezone(SHANGHAI).date()
        in_force = [t for first, last, t in contracts if first <= day <= last]
        tier, source = (in_force[0], "contract") if in_force else (row.tier, "record")
        if not in_force and contracts:
            tier = "standard"  # a customer with contracts but none in force that day: standard
            source = "contract"
    return CaseFacts(row.id, row.number or str(row.id), row.kind, row.created_at, row.status, row.priority,
                     row.category, row.channel, row.username, row.team, tier, source)


def _contracts(conn: Connection, customer_ids: set[int]) -> dict[int, list[tuple[date, date, str]]]:
    found: dict[int, list[tuple[date, date, str]]] = defaultdict(list)
    if customer_ids:
        for row in conn.execute(select(Contract.customer_id, Contract.start, Contract.end, Contract.tier)
                                .where(Contract.customer_id.in_(customer_ids)).order_by(Contract.start.desc())):
            found[row.customer_id].append((row.start, row.end, row.tier))
    return found


def _attach(conn: Connection, cases: dict[int, CaseFacts]) -> None:
    ids = list(cases)
    t = SlaTarget
    for r in conn.execute(select(t.case_id, t.id, t.kind, t.cycle, t.policy_version, t.calendar, t.target_minutes,
                                 t.extended_minutes, t.warning_percent, t.manager_after_minutes, t.started_at,
                                 t.state, t.met_at, t.breached_at, t.due_at, t.elapsed_seconds)
                          .where(t.case_id.in_(ids)).order_by(t.id)).all():
        cases[r.case_id].targets.append(TargetFacts(
            r.id, r.kind, r.cycle, r.policy_version, r.calendar, r.target_minutes, r.extended_minutes,
            r.warning_percent, r.manager_after_minutes, r.started_at, r.state, r.met_at, r.breached_at, r.due_at,
            r.elapsed_seconds))
    for p in conn.execute(select(SlaPause.case_id, SlaPause.reason, SlaPause.started_at, SlaPause.ended_at)
                          .where(SlaPause.case_id.in_(ids)).order_by(SlaPause.started_at, SlaPause.id)).all():
        cases[p.case_id].pauses.append(PauseFacts(p.reason, p.started_at, p.ended_at))
    for e in conn.execute(select(Escalation.case_id, Escalation.target_id, Escalation.level)
                          .where(Escalation.case_id.in_(ids))).all():
        cases[e.case_id].escalations.add((e.target_id, e.level))


def task_load(conn: Connection, start: datetime, end: datetime) -> list[tuple[str | None, datetime]]:
    """(lane, opened at) of every task of the period's support cases: the work each role received."""
    return [(r.lane, r.created_at) for r in conn.execute(
        select(Task.lane, Task.created_at).join(Case, Case.id == Task.case_id).where(*_cohort(start, end)))]


def one(conn: Connection, number: str) -> CaseFacts | None:
    """One case (any kind) by its number, with its SLA facts."""
    owner = aliased(User, name="owner")
    row = conn.execute(
        select(Case.id, Case.number, Case.kind, Case.created_at, Case.status, Case.priority, Case.category,
               Case.channel, Case.tier_at_open, Case.customer_id, Customer.tier, owner.username, owner.team)
        .join(Customer, Customer.id == Case.customer_id).outerjoin(owner, owner.id == Case.owner_id)
        .where(Case.number == number)).first()
    if row is None:
        return None
    case = _case(row, _contracts(conn, {row.customer_id}).get(row.customer_id, []))
    _attach(conn, {case.id: case})
    return case
