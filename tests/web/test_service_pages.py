"""The training, risk and quality audit pages: forms that keep the typed input and show the error by
the field with nothing saved, the case page's "raise a risk" and "enrol in a training", attendance
and reviews from the pages, who sees which page, both languages."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.service.oversight_models import QualityAudit, Risk, TrainingParticipant, TrainingSession
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(days: int, hour: int = 10) -> str:
    return (datetime.now(SHANGHAI) + timedelta(days=days)).strftime(f"%Y-%m-%dT{hour:02d}:00")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_planning_a_session_keeps_the_input_on_a_refusal(pages):
    lead = pages("techlead")
    r = lead.post("/service/training", {"kind": "staff_technical", "title": "备份与恢复", "starts_at": _local(-2),
                                        "invitees": "agent1 nobody"})
    assert r.status_code == 422
    text = lead.text(r)
    assert 'value="备份与恢复"' in text and "agent1 nobody" in text and 'id="t-starts_at-error"' in text
    assert count(TrainingSession) == 0
    r = lead.post("/service/training", {"kind": "staff_technical", "title": "备份与恢复", "starts_at": _local(5),
                                        "invitees": "agent1 nobody"})
    assert r.status_code == 422 and 'id="t-invitees-error"' in lead.text(r)
    r = lead.post("/service/training", {"kind": "staff_technical", "title": "备份与恢复", "starts_at": _local(5),
                                        "invitees": "agent1 agent2", "reminder_hours": "24"})
    assert r.status_code == 303, lead.text(r)
    page = lead.get(r.headers["Location"])
    assert page.status_code == 200 and "备份与恢复" in lead.text(page)
    assert count(TrainingParticipant) == 2


def test_attendance_from_the_page_and_the_case_pages_enrolment(pages, api, world):
    supervisor = pages("supervisor")
    case = open_case(api, "acme_user")
    r = supervisor.post("/service/training", {"kind": "customer_user", "title": "Using reports",
                                              "customer_id": str(world.customers["ACME"].id), "starts_at": _local(3)})
    assert r.status_code == 303, supervisor.text(r)
    consultant = pages("consultant1")
    page = consultant.get(f"/cases/{case['id']}")
    assert 'id="enrol-from-case"' in consultant.text(page)
    session_id = db.session.scalar(select(TrainingSession.id))
    r = consultant.post(f"/service/training/from-case/{case['id']}", {"session_id": str(session_id)})
    assert r.status_code == 303
    assert db.session.scalar(select(TrainingParticipant.case_id)) == case["id"]
    assert "training_enrolled" in db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case["id"])).all()
    # the session took place: attendance and a score from its page
    row = db.session.get(TrainingSession, session_id)
    row.starts_at = datetime.now(SHANGHAI) - timedelta(hours=2)
    db.session.commit()
    person = db.session.scalar(select(TrainingParticipant))
    page = supervisor.get(f"/service/training/{session_id}")
    assert 'id="attendance-form"' in supervisor.text(page)
    r = supervisor.post(f"/service/training/{session_id}/attendance",
                        {"version": str(row.version), f"score-{person.id}": "77"})
    assert r.status_code == 422 and 'id="e-score-' in supervisor.text(r)  # a score for one who did not attend
    r = supervisor.post(f"/service/training/{session_id}/attendance",
                        {"version": str(row.version), f"attended-{person.id}": "on", f"score-{person.id}": "77"})
    assert r.status_code == 303, supervisor.text(r)
    db.session.expire_all()
    assert (person.attendance, person.score) == ("attended", 77)


def test_a_risk_raised_from_the_case_page_and_reviewed_on_its_page(pages, api, world):
    case = open_case(api, "agent1", world.customers["ACME"].id)
    agent = pages("agent1")
    page = agent.get(f"/cases/{case['id']}")
    assert 'id="raise-risk"' in agent.text(page)
    day = (datetime.now(SHANGHAI) + timedelta(days=7)).date().isoformat()
    r = agent.post(f"/service/risks/from-case/{case['id']}", {"title": "Slow reports", "kind": "technical",
                                                               "level": "high", "contingency_plan": "", "review_on": day})
    assert r.status_code == 303 and count(Risk) == 0  # refused: back to the case with the reason
    r = agent.post(f"/service/risks/from-case/{case['id']}", {"title": "Slow reports", "kind": "technical",
                                                               "level": "high", "contingency_plan": "Add an index.",
                                                               "review_on": day})
    assert r.status_code == 303
    risk = db.session.scalar(select(Risk))
    assert [link.case_id for link in risk.links] == [case["id"]]
    assert "Slow reports" in agent.text(agent.get(f"/cases/{case['id']}"))
    # the register's form keeps the input; the owner reviews on the risk's page
    r = agent.post("/service/risks", {"title": "Phishing", "kind": "security", "level": "high",
                                      "contingency_plan": "Train staff.", "review_on": "not a date"})
    assert r.status_code == 422 and 'value="Phishing"' in agent.text(r) and 'id="r-review_on-error"' in agent.text(r)
    page = agent.get(f"/service/risks/{risk.id}")
    assert 'id="review-form"' in agent.text(page)  # the owner
    assert 'id="review-form"' not in pages("agent2").text(pages("agent2").get(f"/service/risks/{risk.id}"))
    r = agent.post(f"/service/risks/{risk.id}/reviews", {"version": str(risk.version), "level": "medium",
                                                         "notes": "Index added.", "next_review_on": day})
    assert r.status_code == 303, agent.text(r)
    db.session.expire_all()
    assert (risk.level, len(risk.reviews)) == ("medium", 1)


def test_quality_pages_draw_and_audit(pages, api, world):
    case = open_case(api, "agent1", world.customers["ACME"].id)
    row = db.session.get(Case, case["id"])
    row.status, row.closed_at = "closed", datetime.now(SHANGHAI) - timedelta(days=1)
    db.session.commit()
    supervisor = pages("supervisor")
    today = datetime.now(SHANGHAI).date()
    r = supervisor.post("/service/quality/samples", {"from": (today - timedelta(days=30)).isoformat(),
                                                     "to": today.isoformat(), "share": "150"})
    assert r.status_code == 422 and 'value="150"' in supervisor.text(r) and count(QualityAudit) == 0
    r = supervisor.post("/service/quality/samples", {"from": (today - timedelta(days=30)).isoformat(),
                                                     "to": today.isoformat(), "share": "100"})
    assert r.status_code == 303
    audit = db.session.scalar(select(QualityAudit))
    page = supervisor.get(f"/service/quality/{audit.id}")
    assert 'id="audit-form"' in supervisor.text(page)
    r = supervisor.post(f"/service/quality/{audit.id}", {"version": str(audit.version), "classified": "on",
                                                          "solution_recorded": "on"})
    assert r.status_code == 303
    db.session.expire_all()
    assert (audit.status, audit.score) == ("done", 25)  # 2 of 8


def test_who_sees_which_page_and_the_chinese_pages(pages):
    for user, allowed in (("agent1", {"/service/training": 200, "/service/risks": 200, "/service/quality": 403}),
                          ("supervisor", {"/service/training": 200, "/service/risks": 200, "/service/quality": 200}),
                          ("acme_user", {"/service/training": 403, "/service/risks": 403, "/service/quality": 403})):
        client = pages(user)
        for url, status in allowed.items():
            assert client.get(url).status_code == status, (user, url)
    supervisor = pages("supervisor")
    supervisor.post("/language", {"lang": "zh_CN"})
    text = supervisor.text(supervisor.get("/service/risks"))
    assert "风险登记册" in text and "应急预案" in text
    assert "员工技术培训" in supervisor.text(supervisor.get("/service/training"))
    assert "抽取样本" in supervisor.text(supervisor.get("/service/quality"))


def test_the_risk_page_shows_its_review_process_and_the_task_form_asks_for_a_date(pages, api, world):
    with freeze_time(datetime(2026, 5, 4, 10, tzinfo=SHANGHAI)):
        r = api.post("/api/v1/risks", "agent1", json={
            "title": "Backups not verified", "kind": "security", "level": "high", "owner": "supervisor",
            "contingency_plan": "Restore last night's backup.", "review_on": "2026-05-04"})  # due as it starts
        assert r.status_code == 201, r.json
        risk = r.json
        supervisor = pages("supervisor")
        text = supervisor.text(supervisor.get(f"/service/risks/{risk['id']}"))
        assert 'id="risk-review-process"' in text and f"/tasks/{risk['review_task_id']}" in text
        task_page = supervisor.text(supervisor.get(f"/tasks/{risk['review_task_id']}"))
        assert 'name="next_review_on"' in task_page and 'type="date"' in task_page
        r = supervisor.post(f"/service/risks/{risk['id']}/reviews", {
            "version": str(risk["version"]), "level": "high", "notes": "Checked.", "next_review_on": "2026-06-01"})
        assert r.status_code == 303, supervisor.text(r)
        text = supervisor.text(supervisor.get(f"/service/risks/{risk['id']}"))
        assert "waiting for the review date (2026-06-01, 09:00)" in text
        case_page = supervisor.get(f"/cases/{risk['review_case_id']}")  # staff read the internal case
        assert case_page.status_code == 200 and "Backups not verified" in supervisor.text(case_page)
        customers_page = supervisor.text(supervisor.get("/customers"))
        assert "Acme Ltd" in customers_page and "Own service organisation" not in customers_page
        customer = pages("acme_user")
        assert customer.get(f"/cases/{risk['review_case_id']}").status_code == 404


def test_an_absentee_is_excused_from_the_session_page_and_the_task_page_points_there(pages, api, world):
    from tests.api.test_training import staff_with_mail
    staff_with_mail("ann")
    session = api.post("/api/v1/training/sessions", "supervisor", json={
        "kind": "staff_technical", "title": "备份与恢复", "trainer": "techlead", "invitees": ["ann"],
        "starts_at": (datetime.now(SHANGHAI) + timedelta(days=2)).isoformat()}).json
    row = db.session.get(TrainingSession, session["id"])
    row.starts_at, row.ends_at = datetime.now(SHANGHAI) - timedelta(hours=3), datetime.now(SHANGHAI) - timedelta(hours=1)
    db.session.commit()
    ann = session["participants"][0]["id"]
    r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "supervisor", json={
        "version": row.version, "attendance": [{"participant_id": ann, "attended": False}]})
    assert r.status_code == 200 and r.json["task_element"] == "follow_up_absentees", r.json
    lead = pages("techlead")
    task_page = lead.text(lead.get(f"/tasks/{r.json['task_id']}"))
    assert 'id="task-elsewhere"' in task_page and 'id="task-form"' not in task_page
    page = lead.text(lead.get(f"/service/training/{session['id']}"))
    assert 'id="session-task"' in page and f'id="reason-{ann}"' in page
    r = lead.post(f"/service/training/{session['id']}/participants/{ann}/excuse", {"reason": "  "})
    assert r.status_code == 422 and f'id="e-excuse-{ann}"' in lead.text(r)
    db.session.expire_all()
    assert db.session.get(TrainingParticipant, ann).excused_at is None
    r = lead.post(f"/service/training/{session['id']}/participants/{ann}/excuse", {"reason": "Parental leave"})
    assert r.status_code == 303, lead.text(r)
    db.session.expire_all()
    person = db.session.get(TrainingParticipant, ann)
    assert (person.excused_at is not None, person.follow_up_note) == (True, "Parental leave")
    assert db.session.get(Case, session["process_case_id"]).status == "closed"  # the follow-up completed it


def test_a_session_is_moved_and_cancelled_from_its_page_with_the_input_kept(pages, api, world):
    from tests.api.test_training import staff_with_mail
    from tests.api.test_training_process import timer_dues
    staff_with_mail("ann")
    starts = (datetime.now(SHANGHAI) + timedelta(days=5)).replace(hour=10, minute=0, second=0, microsecond=0)
    session = api.post("/api/v1/training/sessions", "supervisor", json={
        "kind": "staff_technical", "title": "备份与恢复", "trainer": "techlead", "invitees": ["ann"],
        "starts_at": starts.isoformat(), "reminder_hours": 24}).json
    case_id = session["process_case_id"]
    assert timer_dues(case_id) == [starts - timedelta(hours=24)]
    agent = pages("agent1")
    assert 'id="reschedule-form"' not in agent.text(agent.get(f"/service/training/{session['id']}"))
    assert agent.post(f"/service/training/{session['id']}/cancel", {"version": str(session["version"])}).status_code == 403
    supervisor = pages("supervisor")
    page = supervisor.text(supervisor.get(f"/service/training/{session['id']}"))
    assert f'value="{starts.strftime("%Y-%m-%dT%H:%M")}"' in page  # the form starts from the session's local time
    url = f"/service/training/{session['id']}/reschedule"
    # a start in the past and a lead out of range: refused by the field, typed input kept, nothing moved
    r = supervisor.post(url, {"version": str(session["version"]), "starts_at": _local(-1), "reminder_hours": "999"})
    assert r.status_code == 422 and 'id="e-reminder_hours"' in supervisor.text(r) and 'value="999"' in supervisor.text(r)
    r = supervisor.post(url, {"version": str(session["version"]), "starts_at": _local(-1)})
    assert r.status_code == 422 and 'id="e-starts_at"' in supervisor.text(r) and _local(-1) in supervisor.text(r)
    assert timer_dues(case_id) == [starts - timedelta(hours=24)]
    moved = starts + timedelta(days=2)
    r = supervisor.post(url, {"version": str(session["version"]), "starts_at": moved.strftime("%Y-%m-%dT%H:%M"),
                              "reminder_hours": "48"})
    assert r.status_code == 303, supervisor.text(r)
    db.session.expire_all()
    row = db.session.get(TrainingSession, session["id"])
    assert (row.starts_at.astimezone(SHANGHAI), row.ends_at - row.starts_at) == (moved, timedelta(hours=2))
    assert timer_dues(case_id) == [moved - timedelta(hours=48)]
    # a stale form (the version before the move) is a 409 that says so; nothing changes
    r = supervisor.post(f"/service/training/{session['id']}/cancel", {"version": str(session["version"]),
                                                                      "reason": "Trainer ill"})
    assert r.status_code == 409 and 'id="e-reschedule"' in supervisor.text(r)
    assert 'value="Trainer ill"' in supervisor.text(r)
    db.session.expire_all()
    assert db.session.get(TrainingSession, session["id"]).status == "planned"
    r = supervisor.post(f"/service/training/{session['id']}/cancel", {"version": str(row.version),
                                                                      "reason": "Trainer ill"})
    assert r.status_code == 303, supervisor.text(r)
    db.session.expire_all()
    assert db.session.get(TrainingSession, session["id"]).status == "cancelled"
    assert timer_dues(case_id) == [] and db.session.get(Case, case_id).status == "closed"
    page = supervisor.text(supervisor.get(f"/service/training/{session['id']}"))
    assert 'id="reschedule-form"' not in page and 'id="cancel-form"' not in page
