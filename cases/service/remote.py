"""Remote-assistance sessions recorded on a case (seed 003: 使用远程工具解决问题): start, end, who,
what was done. Public on the case's timeline; their time counts in the case's service report."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.core import events
from cases.core.access import visible_case
from cases.core.db import db, use_case
from cases.core.errors import ValidationFailed
from cases.core.models import User, utcnow
from cases.service.common import require_field_staff
from cases.service.visit_models import RemoteSession

MAX_HOURS = 24


def sessions_of(user: User, case_id: int) -> list[RemoteSession]:
    visible_case(user, case_id)
    return list(db.session.scalars(select(RemoteSession).where(RemoteSession.case_id == case_id)
                                   .order_by(RemoteSession.started_at, RemoteSession.id)))


@use_case
def record(user: User, case_id: int, fields: dict[str, Any]) -> RemoteSession:
    require_field_staff(user)
    case = visible_case(user, case_id)
    start, end = fields["started_at"], fields["ended_at"]
    errors = []
    if end <= start:
        errors.append({"field": "ended_at", "message": "must be after started_at"})
    elif (end - start).total_seconds() > MAX_HOURS * 3600:
        errors.append({"field": "ended_at", "message": f"a session is at most {MAX_HOURS} hours long"})
    if end > utcnow():
        errors.append({"field": "ended_at", "message": "a session is recorded once it has ended"})
    if errors:
        raise ValidationFailed("the remote session cannot be recorded", errors)
    session = RemoteSession(case_id=case.id, staff_id=user.id, staff=user, started_at=start, ended_at=end,
                            summary=fields["summary"], created_at=utcnow())
    db.session.add(session)
    db.session.flush()
    events.record(case, "remote_session", user, public=True, session_id=session.id, started_at=start.isoformat(),
                  ended_at=end.isoformat(), minutes=session.minutes, summary=session.summary)
    return session
