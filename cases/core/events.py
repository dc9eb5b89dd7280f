"""Recording the history of a case."""
from __future__ import annotations

from typing import Any

from cases.core.db import db
from cases.core.models import Case, CaseEvent, User, utcnow
from cases.core.services import ServiceContext, operation


def record(case: Case, kind: str, actor: User | None, public: bool = False, **data: Any) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, actor_id=actor.id if actor else None,
                      actor=actor, public=public, data=data, at=utcnow())
    db.session.add(event)
    return event


@operation("deadline_missed")
def deadline_missed(ctx: ServiceContext, step: str) -> dict[str, Any]:
    """A step drawn with a deadline is still open when it passed: a case event says so."""
    record(ctx.case, "deadline_missed", ctx.actor, step=step)
    return {"step": step, "at": utcnow().isoformat()}
