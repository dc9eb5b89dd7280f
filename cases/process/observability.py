"""What an operator watches, read from the database at the moment of asking (for /metrics and
/ready): timers due and late, the scheduler lease, the outboxes' backlog, open cases by stage.
Plain numbers out; one short read transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case, CaseEvent, CaseStatus
from cases.outbox.models import ChatPost, HqReport, Notification
from cases.process.lease import LOCK_NAME, SchedulerLease, database_now
from cases.process.models import InstanceStatus, ProcessInstance, Timer

#: a timer this long past due and not fired is late (the scheduler wakes within milliseconds)
LATE_AFTER = timedelta(seconds=60)
#: the window of "timers fired recently"
FIRED_WINDOW = timedelta(minutes=5)
OUTBOXES = {"mail": Notification, "chat": ChatPost, "hq": HqReport}


@dataclass
class Figures:
    now: datetime
    timers_due: int = 0
    timers_late: int = 0
    oldest_due_seconds: float = 0.0
    timers_fired_recently: int = 0
    lease_holder: str | None = None
    lease_epoch: int | None = None
    lease_age_seconds: float | None = None  # since the last renewal
    lease_expires_in_seconds: float | None = None  # negative: expired
    outbox_pending: dict[str, int] = field(default_factory=dict)
    outbox_oldest_seconds: dict[str, float] = field(default_factory=dict)
    open_cases_by_stage: dict[str, int] = field(default_factory=dict)

    @property
    def lease_fresh(self) -> bool:
        return self.lease_holder is not None and (self.lease_expires_in_seconds or 0) > 0


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def lease(name: str = LOCK_NAME) -> SchedulerLease | None:
    return db.session.scalar(select(SchedulerLease).where(SchedulerLease.name == name))


def figures() -> Figures:
    """Everything, read now (the database's clock on PostgreSQL)."""
    try:
        now = database_now()
        f = Figures(now=now)
        running_due = (select(func.count(), func.min(Timer.due_at))
                       .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                       .where(ProcessInstance.status == InstanceStatus.RUNNING.value, Timer.due_at < now))
        f.timers_due, oldest = db.session.execute(running_due).one()
        f.oldest_due_seconds = _age(now, oldest)
        f.timers_late = db.session.scalar(
            select(func.count()).select_from(Timer).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.status == InstanceStatus.RUNNING.value, Timer.due_at < now - LATE_AFTER))
        f.timers_fired_recently = db.session.scalar(
            select(func.count()).select_from(CaseEvent)
            .where(CaseEvent.kind == "timer_fired", CaseEvent.at >= now - FIRED_WINDOW))
        row = lease()
        if row is not None:
            f.lease_epoch = row.epoch
        if row is not None and row.holder is not None:
            f.lease_holder = row.holder
            f.lease_age_seconds = _age(now, row.renewed_at)
            f.lease_expires_in_seconds = (row.expires_at - now).total_seconds() if row.expires_at else None
        for name, model in OUTBOXES.items():
            count, oldest = db.session.execute(select(func.count(), func.min(model.created_at))
                                               .where(model.status == "pending")).one()
            f.outbox_pending[name] = count
            f.outbox_oldest_seconds[name] = _age(now, oldest)
        f.open_cases_by_stage = dict(db.session.execute(
            select(Case.stage, func.count()).where(Case.status == CaseStatus.OPEN.value).group_by(Case.stage)).all())
        return f
    finally:
        db.session.rollback()
