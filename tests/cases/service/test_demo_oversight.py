"""The demo data shows training, risks and quality audits with real figures in the quarterly review."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.casework import tasks
from cases.core.db import db
from cases.core.models import User, utcnow
from cases.demo import load as demo
from cases.kpis import report as kpis
from cases.kpis.figures import Period
from cases.process import timers
from cases.process.models import ProcessInstance
from cases.service import due, quality, risks, training
from tests.conftest import FAST_HASH, PASSWORD


def test_the_demo_has_a_quarter_of_training_risks_and_audits(app_ctx):
    demo.load(PASSWORD, FAST_HASH)
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
    today = risks.today(utcnow())  # the service's date (its calendar's zone), as the review reads it
    quarter = Period(today - timedelta(days=90), today)
    k = training.kpis(quarter)
    assert (k.sessions_held, k.attended, k.missed) == (3, 5, 2)
    assert (k.support_staff, k.staff_covered, k.assessments) == (4, 4, 5)
    assert k.participation == 5 / 7 and k.coverage == 1.0
    figures = {f.key: f.value for f in risks.review_section(quarter, None).figures}
    assert (figures["open_high"], figures["raised"]) == (2, 4)
    # the backup risk's review date was yesterday: its review process has fired, the task waits for its owner
    due_now = risks.register(supervisor, {"review_due": True})
    assert [r.title for r in due_now] == ["客户数据库无可用备份"]
    task = risks.review_task(due_now[0])
    assert task is not None and task.assignee is not None and task.assignee.username == "supervisor"
    assert due.run().reviews_started == []  # every open risk has its review process
    # the past sessions' processes are past their timers (attendance recorded): the first scheduler run
    # fires none of them; HUAXIN's go-live training waits for its trainer's follow-up of the one who missed it
    assert due.run().trainings_started == []
    fired = timers.fire_due()
    held = [s.process_case_id for s in training.sessions(supervisor, status=training.HELD)]
    assert len(held) == 3 and None not in held and not set(fired) & {
        db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == c)) for c in held}
    waiting = [(s.title, training.open_task(s)) for s in training.sessions(supervisor, status=training.HELD)]
    assert [(title, t.element_id, t.assignee.username) for title, t in waiting if t is not None] == [
        ("华信：系统操作培训（上线）", "follow_up_absentees", "consultant1")]
    # the review cases are no customer's: the KPIs are the same with the review done
    at = utcnow()
    before = kpis.report(supervisor, quarter.first, quarter.last, now=at)
    tasks.complete(supervisor, task.id, task.version, {"outcome": "keep", "note": "Backups verified.",
                                                       "next_review_on": (today + timedelta(days=30)).isoformat()})
    after = kpis.report(supervisor, quarter.first, quarter.last, now=at)
    assert after.totals == before.totals and after.groups == before.groups
    audited = {f.key: f.value for f in quality.review_section(quarter, None).figures}
    assert audited["audited"] >= 1 and audited["average_score"] is not None
