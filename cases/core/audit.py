"""The audit trail of the installation: deploys, re-activations, migrations, reverts, retries."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.core.access import require_role
from cases.core.db import db
from cases.core.models import AuditEvent, Role, User, utcnow
from cases.core.paging import Page, paginate

READERS = (Role.ADMIN.value, Role.PROCESS_OWNER.value, Role.SUPERVISOR.value)


def record(actor: User | None, action: str, subject: Any = None, **details: Any) -> None:
    """Add an audit event to the current unit of work."""
    db.session.add(AuditEvent(at=utcnow(), actor_id=actor.id if actor else None, action=action,
                              subject=None if subject is None else str(subject), details=details))


def events(user: User, action: str | None, page: int, per_page: int) -> Page:
    require_role(user, *READERS)
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    return paginate(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page, per_page)
