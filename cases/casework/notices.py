"""What staff are told without reloading (the pages poll ``web/live.py``): since a moment, the tasks
that arrived for them (assigned to them, or claimable by their roles), what customers wrote on the
cases they work on, and the SLA targets of those cases that came at risk. Supervisors hear of every
case's customer messages and targets. Read only; labels are the domain's English msgids (N_)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select

from cases.core.db import db
from cases.core.errors import Forbidden
from cases.core.models import Case, CaseEvent, Role, Task, TaskState, User, utcnow
from cases.core.texts import N_
from cases.process.taskrules import CUSTOMER_LANE
from cases.sla.clock import RUNNING
from cases.sla.models import SlaTarget

TASK, CUSTOMER_WROTE, AT_RISK = "task", "customer_message", "at_risk"
#: what each kind of notice says (the page translates it and adds the case)
LABELS = {TASK: N_("New task"), CUSTOMER_WROTE: N_("The customer wrote"), AT_RISK: N_("Target about to break")}
#: the furthest back a poll looks (a tab left asleep for a day does not get a day of notices)
MAX_LOOKBACK = timedelta(hours=1)
MAX_ITEMS = 20
SEES_ALL = (Role.SUPERVISOR.value, Role.MANAGER.value)


@dataclass(frozen=True)
class Notice:
    kind: str
    at: datetime
    case: Case
    task_id: str | None = None
    text: str | None = None  # the customer's words, shortened


def _my_cases(user: User) -> ColumnElement[bool]:
    """The cases a member of staff works on: owned, or with an open task assigned to them."""
    return or_(Case.owner_id == user.id, Case.id.in_(select(Task.case_id).where(
        Task.assignee_id == user.id, Task.state == TaskState.OPEN.value)))


def since(user: User, moment: datetime, now: datetime | None = None) -> list[Notice]:
    """The notices for ``user`` after ``moment`` up to ``now``, newest first."""
    if not user.is_staff:
        raise Forbidden("live notices are for staff")
    now = now or utcnow()
    moment = max(moment, now - MAX_LOOKBACK)
    sees_all = user.has_role(*SEES_ALL)
    lanes = set(user.roles) - {CUSTOMER_LANE}
    mine = Task.assignee_id == user.id
    arrived = select(Task).where(Task.state == TaskState.OPEN.value, Task.created_at > moment, Task.created_at <= now,
                                 or_(mine, and_(Task.assignee_id.is_(None), Task.lane.in_(lanes))) if lanes else mine)
    notices = [Notice(TASK, t.created_at, t.case, task_id=t.id) for t in db.session.scalars(
        arrived.order_by(Task.created_at.desc()).limit(MAX_ITEMS))]
    wrote = (select(CaseEvent, Case).join(Case, Case.id == CaseEvent.case_id)
             .where(CaseEvent.kind.in_(("customer_message", "message_received")), CaseEvent.at > moment,
                    CaseEvent.at <= now, or_(CaseEvent.actor_id.is_(None), CaseEvent.actor_id != user.id)))
    if not sees_all:
        wrote = wrote.where(_my_cases(user))
    for event, case in db.session.execute(wrote.order_by(CaseEvent.at.desc()).limit(MAX_ITEMS)):
        notices.append(Notice(CUSTOMER_WROTE, event.at, case, text=_text_of(event)))
    risky = (select(SlaTarget, Case).join(Case, Case.id == SlaTarget.case_id)
             .where(SlaTarget.state == RUNNING, SlaTarget.warning_at > moment, SlaTarget.warning_at <= now,
                    or_(SlaTarget.due_at.is_(None), SlaTarget.due_at > now)))
    if not sees_all:
        risky = risky.where(_my_cases(user))
    for target, case in db.session.execute(risky.order_by(SlaTarget.warning_at.desc()).limit(MAX_ITEMS)):
        notices.append(Notice(AT_RISK, target.warning_at or now, case, text=target.kind))
    return sorted(notices, key=lambda n: n.at, reverse=True)[:MAX_ITEMS]


def _text_of(event: CaseEvent) -> str | None:
    data = event.data or {}
    payload = data.get("payload")
    text = payload.get("text") if isinstance(payload, dict) else payload if isinstance(payload, str) else None
    text = text if isinstance(text, str) else data.get("text")
    if not isinstance(text, str):
        return None
    return text if len(text) <= 140 else text[:139] + "…"
