"""Assignment rules: the next active user of a role, fairly, under concurrency (round robin); a
VIP customer's dedicated consultant."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from cases.core import events
from cases.core.db import db
from cases.core.models import Case, Role, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.customers.models import CustomerConsultant
from cases.process.models import RoundRobinTurn


@dataclass
class Members:
    """The active users of a role (by id) and those of them who have no round-robin turn row yet,
    read in one statement (:func:`members`)."""

    users: list[User]
    without_turn: set[int] = field(default_factory=set)


def members(role: str) -> Members:
    rows = db.session.execute(
        select(User, RoundRobinTurn.user_id).join(UserRole)
        .outerjoin(RoundRobinTurn, (RoundRobinTurn.role == role) & (RoundRobinTurn.user_id == User.id))
        .where(UserRole.role == role, User.active.is_(True)).order_by(User.id)).all()
    return Members([user for user, _turn in rows], {user.id for user, turn in rows if turn is None})


def next_user(role: str, of: Members | None = None) -> User | None:
    """The active user of the role whose round-robin turn is oldest (never given one: first, by id);
    their turn becomes now. ``of``: the role's members if the caller read them already.

    Each (role, user) has a turn row. On PostgreSQL the oldest turn not locked by a concurrent
    step is taken (``FOR UPDATE SKIP LOCKED``), so concurrent cases go to different users instead
    of queueing on one cursor row until the first commits; only when every user's row is taken
    does a step wait, for the oldest. A step that rolls back gives its user's turn back. On SQLite
    the write transaction holds the database lock anyway."""
    if any(isinstance(row, RoundRobinTurn) and row.role == role for row in db.session.dirty):
        db.session.flush()  # a turn of this role this step already took (populate_existing below would undo it)
    if of is None:
        of = members(role)
    if not of.users:
        return None
    candidates = {user.id: user for user in of.users}
    if of.without_turn:  # a user new to the role (or the role's first round robin)
        _ensure_turns(role, sorted(of.without_turn))
        of.without_turn.clear()
    oldest = select(RoundRobinTurn).where(RoundRobinTurn.role == role,
                                          RoundRobinTurn.user_id.in_(candidates)) \
        .order_by(RoundRobinTurn.last_at.asc().nulls_first(), RoundRobinTurn.user_id).limit(1) \
        .execution_options(populate_existing=True)
    turn = db.session.scalars(oldest.with_for_update(skip_locked=True)).first()
    if turn is None:  # every candidate's turn is being taken right now: wait for the oldest
        turn = db.session.scalars(oldest.with_for_update()).one()
    turn.last_at = _turn_time(turn.last_at)
    return candidates[turn.user_id]


def _turn_time(previous: datetime | None) -> datetime:
    """Now, but after the turn's previous instant (a clock set back must not put the user first)."""
    now = utcnow()
    return now if previous is None or now > previous else previous + timedelta(microseconds=1)


def _ensure_turns(role: str, user_ids: list[int]) -> None:
    """A turn row for every candidate (a new user of the role: none yet); racing creators both succeed."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(RoundRobinTurn).values([{"role": role, "user_id": uid, "last_at": None}
                                                      for uid in user_ids])
                       .on_conflict_do_nothing(index_elements=["role", "user_id"]))


def dedicated_consultant(customer_id: int) -> User | None:
    """The customer's dedicated service consultant, if they are still an active consultant."""
    link = db.session.get(CustomerConsultant, customer_id)
    user = link.consultant if link is not None else None
    if user is None or not user.active or not user.has_role(Role.SERVICE_CONSULTANT.value):
        return None
    return user


def assign_dedicated(case: Case, actor: User | None, resolution_hours: float) -> str | None:
    """The VIP channel: the case's owner becomes the customer's dedicated consultant, due in
    ``resolution_hours``, without the round-robin queue and the agent's assignment step."""
    user = dedicated_consultant(case.customer_id)
    if user is None:
        return None
    old_owner = case.owner.username if case.owner else None
    old_due = case.due_at.isoformat() if case.due_at else None
    case.owner, case.owner_id = user, user.id
    case.due_at = utcnow() + timedelta(hours=float(resolution_hours))
    events.record(case, "case_updated", actor, changes={"owner": [old_owner, user.username],
                                                        "due_at": [old_due, case.due_at.isoformat()]},
                  by_task="dedicated_consultant", rule="dedicated consultant of a VIP customer")
    return user.username


def set_dedicated_consultant(customer_id: int, user: User | None) -> None:
    """Name (or, with None, remove) a customer's dedicated consultant (in the caller's unit of work)."""
    link = db.session.get(CustomerConsultant, customer_id)
    if user is None:
        if link is not None:
            db.session.delete(link)
        return
    if link is None:
        db.session.add(CustomerConsultant(customer_id=customer_id, user_id=user.id, consultant=user))
    else:
        link.user_id, link.consultant = user.id, user


@operation("next_user")
def _next_user_operation(ctx: ServiceContext, role: str) -> str | None:
    user = next_user(role)
    return user.username if user else None


@operation("dedicated_consultant")
def _dedicated_consultant_operation(ctx: ServiceContext, resolution_hours: float) -> str | None:
    """Give the case to its customer's dedicated consultant, if it has an active one; their user
    name, else None."""
    return assign_dedicated(ctx.case, ctx.actor, resolution_hours)

