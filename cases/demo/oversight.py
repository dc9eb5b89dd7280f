"""Demo data for training, the risk register and quality audits (cases/service/): a quarter of training
(staff technical training and a new-staff induction held, a customer user training held, a missed
participant moved to the next session, a customer's user enrolled from their operation-problem case),
a few risks (one raised from a case, one raised a month ago whose review date was yesterday: its
review process has fired and the task "Review the risk" waits in the supervisor's inbox) and a sample
of closed cases drawn and partly audited. Everything goes through the use cases, inside the caller's unit of work."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case, Customer, User, utcnow
from cases.kpis.figures import Period
from cases.process import timers
from cases.process.models import ProcessInstance
from cases.service import quality, risks, training
from cases.service.oversight_models import TrainingSession
from cases.sla import calendars

STAFF_TRAINEES = ("agent1", "agent2", "consultant1", "consultant2")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=calendars.get(calendars.DEFAULT).tz)


def _held(actor: User, fields: dict[str, Any], scores: dict[str, int | None], planned_on: datetime) -> TrainingSession:
    row = training.plan(actor, fields, now=planned_on)
    entries = [{"participant_id": p.id, "attended": scores.get(p.user.username if p.user else p.name) is not None,
                "score": scores.get(p.user.username if p.user else p.name)} for p in row.participants]
    return training.record_attendance(actor, row.id, row.version, entries, now=fields["starts_at"] + timedelta(hours=3))


def load(users: dict[str, User], customers: dict[str, Customer]) -> None:
    now = utcnow()
    today = now.astimezone(calendars.get(calendars.DEFAULT).tz).date()
    lead, supervisor = users["techlead"], users["supervisor"]
    # -- a quarter of training ------------------------------------------------------------------
    q_start = today - timedelta(days=75)
    technical = _held(lead, {"kind": training.STAFF_TECHNICAL, "title": "季度技术培训：仓储模块与常见故障",
                             "topic": "Warehouse module: posting receipts, the common errors and their fixes",
                             "starts_at": _at(q_start, 14), "trainer": "techlead", "mode": "on_site",
                             "location": "Training room 2", "invitees": list(STAFF_TRAINEES)},
                      {"agent1": 88, "consultant1": 92, "consultant2": 64, "agent2": None}, _at(q_start - timedelta(days=14), 10))
    _held(supervisor, {"kind": training.INDUCTION, "title": "新员工入职培训 / New-staff induction",
                       "topic": "Company, the products, the service process, communication",
                       "starts_at": _at(today - timedelta(days=40), 9), "trainer": "supervisor",
                       "invitees": ["agent2"]}, {"agent2": 81}, _at(today - timedelta(days=50), 10))
    _held(supervisor, {"kind": training.CUSTOMER_USER, "title": "华信：系统操作培训（上线）",
                       "topic": "Daily operation after go-live: orders, delivery notes, month-end reports",
                       "customer_id": customers["HUAXIN"].id, "starts_at": _at(today - timedelta(days=30), 10),
                       "mode": "remote", "trainer": "consultant1", "invitees": ["huaxin"],
                       "people": [{"name": "刘会计", "email": "liu@huaxin.example"}]},
          {"huaxin": 90, "刘会计": None}, _at(today - timedelta(days=45), 10))
    upcoming = training.plan(lead, {"kind": training.STAFF_TECHNICAL, "title": "季度技术培训：数据库维护与备份",
                                    "topic": "SQL Server maintenance plans and backup checks",
                                    "starts_at": _at(today + timedelta(days=10), 14), "trainer": "techlead",
                                    "invitees": ["agent1"]}, now=now)
    missed = next(p for p in technical.participants if p.attendance == training.MISSED)
    training.move(lead, technical.id, missed.id, upcoming.id, now=now)
    beta = training.plan(supervisor, {"kind": training.CUSTOMER_USER, "title": "Beta Retail: exporting and reports",
                                      "customer_id": customers["BETA"].id, "mode": "online",
                                      "starts_at": _at(today + timedelta(days=3), 15), "reminder_hours": 48}, now=now)
    export_case = db.session.scalar(select(Case).where(Case.title == "How do I export the customer list?"))
    if export_case is not None:
        training.enrol(users["agent2"], beta.id, {"user": "beta", "case_id": export_case.id}, now=now)
    # -- the risk register ----------------------------------------------------------------------
    crash = db.session.scalar(select(Case).where(Case.title == "Warehouse module crash after update"))
    risks.raise_risk(users["consultant2"], {
        "title": "Updates break the warehouse module at VIP customers", "kind": "technical", "level": "high",
        "owner": "techlead", "review_on": today + timedelta(days=14),
        "contingency_plan": "Roll back to the previous version from the installer archive; hotfix within 2 days.",
        **({"case_id": crash.id} if crash is not None else {})}, now=now)
    backups = risks.raise_risk(supervisor, {
        "title": "客户数据库无可用备份", "kind": "security", "level": "high", "owner": "supervisor",
        "description": "Two customers have no verified database backup in the last month.",
        "contingency_plan": "远程协助客户执行完整备份；每周检查备份作业。", "review_on": today - timedelta(days=1)},
        now=now - timedelta(days=30))
    review_instance = db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.case_id == backups.review_case_id))
    if review_instance is not None:  # its review date has come: the task is in the owner's inbox
        timers.fire_instance(review_instance, utcnow())
    risks.raise_risk(supervisor, {
        "title": "Hotline understaffed during the Spring Festival", "kind": "operational", "level": "medium",
        "contingency_plan": "Duty roster with two agents a day; VIP channel forwarded to consultants' phones.",
        "review_on": today + timedelta(days=30)}, now=now)
    risks.raise_risk(users["bizmanager"], {
        "title": "A competitor offers free on-site training", "kind": "market", "level": "low",
        "contingency_plan": "Offer a free remote training per quarter to standard customers.",
        "review_on": today + timedelta(days=60)}, now=now)
    # -- quality audits -------------------------------------------------------------------------
    drawn = quality.draw(supervisor, Period(today - timedelta(days=90), today), 0.3)
    gaps: tuple[tuple[str, ...], ...] = (("satisfaction_recorded",), (), ("report_complete", "customer_confirmed"))
    for audit, missing in zip(drawn[:3], gaps[:len(drawn[:3])], strict=True):
        checklist = {**quality.suggested(audit.case), **dict.fromkeys(missing, False)}
        quality.record(supervisor, audit.id, audit.version, checklist, None, now=now)
