"""Assignment rules: the next active user of a role, fairly, under concurrency (round robin); a
VIP customer's dedicated consultant."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from cases.core import events
from cases.core.db import db
from cases.core.models import Case, Role, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.customers.models import CustomerConsultant
from cases.process.models import RoundRobinCursor


def next_user(role: str) -> User | None:
    """Advance the role's cursor (row-locked) and return the next active user holding it."""
    candidates = db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == role, User.active.is_(True))
        .order_by(User.id)
    ).all()
    if not candidates:
        return None
    lock = select(RoundRobinCursor).where(RoundRobinCursor.role == role).with_for_update() \
        .execution_options(populate_existing=True)
    cursor = db.session.scalars(lock).one_or_none()
    if cursor is None:  # first use of the role: create the row (racing creators both succeed)
        _ensure_cursor(role)
        cursor = db.session.scalars(lock).one()
    chosen = next((u for u in candidates if cursor.last_user_id is None or u.id > cursor.last_user_id),
                  candidates[0])
    cursor.last_user_id = chosen.id
    return chosen


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


def _ensure_cursor(role: str) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(RoundRobinCursor).values(role=role, last_user_id=None)
                       .on_conflict_do_nothing(index_elements=["role"]))
