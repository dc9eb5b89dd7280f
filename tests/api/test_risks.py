"""The risk register through HTTP, the clock frozen and moved: a risk raised from a case is linked to
it and its timeline says so; its review comes due once at 09:00 on the review date (the owner is
mailed) as its review process's task and waits until reviewed; bad input is refused naming the field with nothing saved; who may
do what; the quarterly review lists the open high risks."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.kpis.figures import Period
from cases.outbox.models import Notification
from cases.process import timers
from cases.service import risks
from cases.service.oversight_models import Risk, RiskLink
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 4, 10, tzinfo=SHANGHAI)


def reviews_fired() -> int:
    """Fire the due timers; how many were risk review dates (the support cases have SLA timers too)."""
    return sum(elements.count("review_date") for elements in timers.fire_due().values())


def body(**fields):
    return {"title": "Database server disk nearly full", "kind": "technical", "level": "high",
            "contingency_plan": "Move the archive to the spare disk; restore from last night's backup.",
            "review_on": "2026-05-20", **fields}


def test_a_risk_raised_from_a_case_comes_due_for_review_once_on_its_date(api, world):
    accounts.create_user("lead", PASSWORD, ["technical_lead"], email="lead@example.com", hash_method=FAST_HASH)
    with freeze_time(NOW) as clock:
        case = open_case(api, "agent1", world.customers["ACME"].id)
        r = api.post("/api/v1/risks", "agent1", json=body(owner="lead", case_id=case["id"]))
        assert r.status_code == 201, r.json
        risk = r.json
        assert (risk["owner"], risk["status"], [link["case_number"] for link in risk["links"]]) == (
            "lead", "open", [case["number"]])
        assert risk["customer_id"] == world.customers["ACME"].id  # the case's customer
        kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case["id"])).all()
        assert "risk_linked" in kinds
        assert [r["id"] for r in api.get(f"/api/v1/risks?case_id={case['id']}", "agent2").json] == [risk["id"]]

        clock.move_to(datetime(2026, 5, 20, 8, 59, tzinfo=SHANGHAI))
        assert reviews_fired() == 0  # the day has come, 09:00 not yet
        clock.move_to(datetime(2026, 5, 20, 9, 1, tzinfo=SHANGHAI))
        assert reviews_fired() == 1  # the review process's timer
        assert reviews_fired() == 0  # once
        assert db.session.scalars(select(Notification.recipient).where(
            Notification.kind == "risk_review_due")).all() == ["lead@example.com"]
        api.forget_tokens()
        assert [r["id"] for r in api.get("/api/v1/risks?review_due=true", "lead").json] == [risk["id"]]

        # a review through the register completes the review task (one way to review)
        risk = api.get(f"/api/v1/risks/{risk['id']}", "lead").json
        assert risk["review_task_id"] is not None
        r = api.post(f"/api/v1/risks/{risk['id']}/reviews", "lead", json={
            "version": risk["version"], "level": "medium", "notes": "Archive moved; 40 % free.",
            "next_review_on": "2026-08-20"})
        assert r.status_code == 201, r.json
        risk = api.get(f"/api/v1/risks/{risk['id']}", "lead").json
        assert (risk["level"], risk["review_on"], risk["review_due_since"], risk["review_task_id"]) == (
            "medium", "2026-08-20", None, None)
        assert api.get("/api/v1/risks?review_due=true", "lead").json == []

        clock.move_to(datetime(2026, 8, 20, 9, 30, tzinfo=SHANGHAI))
        assert reviews_fired() == 1  # the next date comes back as a review too
        api.forget_tokens()
        risk = api.get(f"/api/v1/risks/{risk['id']}", "lead").json
        r = api.post(f"/api/v1/risks/{risk['id']}/reviews", "lead", json={
            "version": risk["version"], "notes": "Gone.", "next_review_on": "2026-12-01", "close": True})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "next_review_on"
        risk = api.get(f"/api/v1/risks/{risk['id']}", "lead").json
        r = api.post(f"/api/v1/risks/{risk['id']}/reviews", "lead", json={
            "version": risk["version"], "notes": "New disks installed.", "close": True})
        assert r.status_code == 201, r.json
        assert api.get(f"/api/v1/risks/{risk['id']}", "lead").json["status"] == "closed"
        assert db.session.get(Case, risk["review_case_id"]).status == "closed"  # its process ended
        assert reviews_fired() == 0


def test_bad_input_names_the_field_and_saves_nothing(api, world):
    with freeze_time(NOW):
        case = open_case(api, "agent1", world.customers["ACME"].id)
        for fields, field in (({"kind": "weather"}, "kind"), ({"level": "extreme"}, "level"),
                              ({"review_on": "2026-05-01"}, "review_on"), ({"owner": "nobody"}, "owner"),
                              ({"owner": "acme_user"}, "owner"), ({"contingency_plan": ""}, "contingency_plan"),
                              ({"case_id": 999999}, "case_id"), ({"case_id": case["id"], "escalation_id": 5}, "escalation_id"),
                              ({"escalation_id": 5}, "escalation_id"), ({"customer_id": 999999}, "customer_id")):
            r = api.post("/api/v1/risks", "agent1", json=body(**fields))
            assert r.status_code == 422, (fields, r.json)
            assert field in {e["field"] for e in r.json["errors"]}, (fields, r.json)
        assert db.session.scalar(select(func.count()).select_from(Risk)) == 0
        assert db.session.scalar(select(func.count()).select_from(RiskLink)) == 0
        risk = api.post("/api/v1/risks", "agent1", json=body()).json
        r = api.request("PATCH", f"/api/v1/risks/{risk['id']}", "agent1", json={"level": "low"})
        assert r.status_code == 428  # no If-Match
        r = api.request("PATCH", f"/api/v1/risks/{risk['id']}", "agent1", json={"level": "low"},
                        headers={"If-Match": f'"{risk["version"] + 1}"'})
        assert r.status_code == 409
        r = api.request("PATCH", f"/api/v1/risks/{risk['id']}", "agent1", json={"level": "low"},
                        headers={"If-Match": f'"{risk["version"]}"'})
        assert r.status_code == 200 and r.json["level"] == "low"


def test_who_may_do_what(api, world):
    with freeze_time(NOW):
        assert api.post("/api/v1/risks", "acme_user", json=body()).status_code == 403
        assert api.get("/api/v1/risks", "acme_user").status_code == 403
        risk = api.post("/api/v1/risks", "agent1", json=body(owner="consultant1")).json
        review = {"version": risk["version"], "notes": "checked", "next_review_on": "2026-06-01"}
        assert api.post(f"/api/v1/risks/{risk['id']}/reviews", "agent2", json=review).status_code == 403
        assert api.post(f"/api/v1/risks/{risk['id']}/reviews", "consultant1", json=review).status_code == 201


def test_the_quarterly_review_lists_the_open_high_risks(api, world):
    with freeze_time(NOW):
        acme = world.customers["ACME"].id
        high = api.post("/api/v1/risks", "agent1", json=body(title="Backup not verified", customer_id=acme)).json
        api.post("/api/v1/risks", "agent1", json=body(title="Competitor cuts prices", kind="market", level="medium"))
        closed = api.post("/api/v1/risks", "supervisor", json=body(title="Old one")).json
        api.post(f"/api/v1/risks/{closed['id']}/reviews", "supervisor",
                 json={"version": closed["version"], "notes": "done", "close": True})
        api.post("/api/v1/risks", "agent1", json=body(title="Phishing mails to staff", kind="security"))
    q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
    section = risks.review_section(q2, None)
    figures = {f.key: f.value for f in section.figures}
    assert figures == {"open_high": 2, "open_medium": 1, "open_low": 0, "raised": 4}
    assert [row["title"] for row in section.tables[0].rows] == ["Backup not verified", "Phishing mails to staff"]
    mine = risks.review_section(q2, acme)
    assert [row["title"] for row in mine.tables[0].rows] == [high["title"]]
    assert risks.review_section(Period(date(2026, 7, 1), date(2026, 9, 30)), None).figures[3].value == 0

