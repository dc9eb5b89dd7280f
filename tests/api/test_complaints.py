"""The complaint process (processes/complaint_handling.bpmn) through HTTP: a case of its own, linked
to the case it is about, with its own SLA (acknowledge, resolve), a supervisor's sign-off that can
send the response back, the customer's satisfaction through a survey link, and escalation on breach."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.outbox.models import Notification
from cases.process import timers
from cases.sla.models import Escalation
from tests.helpers import get_case, only_task, open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """Shanghai wall-clock time in November 2026 (the 23rd is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def complaint_of(api, case_id: int) -> dict:
    [linked] = get_case(api, case_id)["linked_cases"]
    assert linked["kind"] == "complaint"
    return get_case(api, linked["id"])


def survey_token(case_id: int) -> str:
    """The token of the survey link mailed for ``case_id`` (only the mail has it: the table keeps a hash)."""
    body = db.session.scalars(select(Notification.body).where(
        Notification.case_id == case_id, Notification.kind == "survey_invitation")).all()[-1]
    return re.search(r"/survey/([A-Za-z0-9_-]+)", body).group(1)


def targets(case: dict) -> dict[str, dict]:
    return {t["kind"]: t for t in case["sla"]["targets"]}


def a_complaint(api, world) -> tuple[int, int]:
    original = open_case(api, customer_id=world.customers["ACME"].id, contact_email="li@acme.example",
                         title="The engineer did not come", description="Nobody came to the appointment twice.")
    step(api, original["id"], "classify", {"category": "complaint", "priority": "high"})
    return original["id"], complaint_of(api, original["id"])["id"]


def test_a_complaint_runs_from_intake_to_close_with_a_send_back(api, world):
    with freeze_time(sh(23, 9)) as frozen:
        original_id, complaint_id = a_complaint(api, world)
        original = get_case(api, original_id)
        assert original["stage"] == "waiting:complaint_closed" and original["tasks"] == []
        complaint = get_case(api, complaint_id)
        assert (complaint["kind"], complaint["parent_case_id"], complaint["category"]) == ("complaint", original_id,
                                                                                          "complaint")
        assert complaint["description"] == "Nobody came to the appointment twice."
        # its own promises: acknowledged within 4 working hours, resolved within 2 working days
        promised = targets(complaint)
        assert promised["first_response"]["target_minutes"] == 240
        assert promised["resolution"]["target_minutes"] == 960
        assert datetime.fromisoformat(promised["resolution"]["due_at"]) == sh(24, 17)  # Monday and Tuesday, 8 h each

        task = only_task(api, complaint_id)
        assert (task["element_id"], task["lane"]) == ("acknowledge_complaint", "complaint_officer")
        step(api, complaint_id, "acknowledge_complaint")
        assert targets(get_case(api, complaint_id))["first_response"]["status"] == "met"
        step(api, complaint_id, "investigate_complaint")
        step(api, complaint_id, "sign_off_complaint", {"decision": "send_back", "sign_off_note": "Say when."},
             as_user="supervisor")
        assert only_task(api, complaint_id)["element_id"] == "investigate_complaint"  # back to the officer
        step(api, complaint_id, "investigate_complaint")
        step(api, complaint_id, "sign_off_complaint", as_user="supervisor")

        complaint = get_case(api, complaint_id)
        assert complaint["stage"] == "waiting:survey_answered" and complaint["status"] == "open"
        assert complaint["solution"] == "We apologise; your consultant visits on Monday 09:00."
        kinds = [e["kind"] for e in complaint["history"]]
        assert "complaint_response" in kinds and "survey_sent" in kinds
        mails = db.session.scalars(select(Notification).where(Notification.case_id == complaint_id)).all()
        assert {(m.kind, m.recipient) for m in mails} == {("complaint_response", "li@acme.example"),
                                                          ("survey_invitation", "li@acme.example")}

        frozen.move_to(sh(23, 15))
        r = api.post(f"/api/v1/surveys/by-token/{survey_token(complaint_id)}", json={"score": 4, "comment": "OK"})
        assert r.status_code == 200, r.json
        complaint = get_case(api, complaint_id)
        assert complaint["status"] == "closed" and complaint["satisfaction"] == 4
        met = targets(complaint)["resolution"]
        assert met["status"] == "met" and met["elapsed_seconds"] < 960 * 60

        # the original case heard of it and goes on to the customer's confirmation
        original = get_case(api, original_id)
        assert original["stage"] == "awaiting_confirmation"
        assert original["solution"] == "We apologise; your consultant visits on Monday 09:00."
        assert [e["kind"] for e in original["history"]].count("complaint_closed") == 1
        step(api, original_id, "confirm", {"confirmed": True}, as_user="acme_user")
        step(api, original_id, "callback", as_user=only_task(api, original_id)["assignee"])
        assert get_case(api, original_id)["status"] == "closed"


def test_a_complaint_past_its_acknowledge_target_is_escalated(api, world):
    with freeze_time(sh(23, 9)) as frozen:
        _original_id, complaint_id = a_complaint(api, world)
        frozen.move_to(sh(23, 13, 1))  # past 4 working hours: the breach rung
        api.forget_tokens()
        timers.fire_due(sh(23, 13, 1))
        complaint = get_case(api, complaint_id)
    kinds = [e["kind"] for e in complaint["history"]]
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_breach") == 1
    assert targets(complaint)["first_response"]["status"] == "breached"
    levels = db.session.scalars(select(Escalation.level).where(Escalation.case_id == complaint_id)).all()
    assert sorted(levels) == ["breach", "warning"]


def test_a_dissatisfied_customer_goes_to_the_supervisor_not_to_another_complaint(api, world):
    _original_id, complaint_id = a_complaint(api, world)
    for element in ("acknowledge_complaint", "investigate_complaint", "sign_off_complaint"):
        step(api, complaint_id, element)
    r = api.post(f"/api/v1/surveys/by-token/{survey_token(complaint_id)}", json={"score": 1})
    assert r.status_code == 200
    task = only_task(api, complaint_id)
    assert (task["element_id"], task["lane"]) == ("review_dissatisfaction", "supervisor")
    step(api, complaint_id, "review_dissatisfaction")
    complaint = get_case(api, complaint_id)
    assert complaint["status"] == "closed" and complaint["linked_cases"] == []


def test_after_max_send_backs_the_supervisor_writes_the_response(api, world):
    _original_id, complaint_id = a_complaint(api, world)
    step(api, complaint_id, "acknowledge_complaint")
    for _ in range(4):
        step(api, complaint_id, "investigate_complaint")
        step(api, complaint_id, "sign_off_complaint", {"decision": "send_back", "sign_off_note": "No."})
    step(api, complaint_id, "supervisor_response", {"investigation": "Checked myself.", "response": "Sorry.",
                                                     "complaint_outcome": "partly_upheld"}, as_user="supervisor")
    assert get_case(api, complaint_id)["solution"] == "Sorry."


def test_a_customer_files_a_complaint_about_a_running_case(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    r = api.post(f"/api/v1/cases/{case['id']}/complaints", "acme_user", json={"description": "Too slow."})
    assert r.status_code == 201, r.json
    complaint = r.json
    assert (complaint["kind"], complaint["parent_case_id"]) == ("complaint", case["id"])
    original = get_case(api, case["id"])
    assert original["stage"] == "classifying"  # the original goes on as it was
    assert [c["id"] for c in original["linked_cases"]] == [complaint["id"]]
    for element in ("acknowledge_complaint", "investigate_complaint", "sign_off_complaint"):
        step(api, complaint["id"], element)
    [survey] = api.get(f"/api/v1/surveys?case_id={complaint['id']}", "acme_user").json
    assert api.post(f"/api/v1/surveys/{survey['id']}/answer", "acme_user", json={"score": 4}).status_code == 200
    assert get_case(api, complaint["id"])["status"] == "closed"
    original = get_case(api, case["id"])
    assert original["stage"] == "classifying" and original["solution"] is None  # it goes on as it was
    assert [e["data"]["outcome"] for e in original["history"] if e["kind"] == "complaint_closed"] == ["upheld"]
    listed = api.get(f"/api/v1/cases?kind=complaint&parent_case_id={case['id']}", "complaints").json
    assert [c["id"] for c in listed["items"]] == [complaint["id"]]
    assert api.get("/api/v1/cases?kind=grievance", "complaints").status_code == 422
    # another organisation's customer cannot, and the internal messages are not for the API
    assert api.post(f"/api/v1/cases/{case['id']}/complaints", "other_user",
                    json={"description": "x"}).status_code == 404
    assert api.post(f"/api/v1/cases/{case['id']}/complaints", "acme_user", json={}).status_code == 422
    r = api.post(f"/api/v1/cases/{case['id']}/messages/complaint_closed", "agent1", json={"payload": {}})
    assert r.status_code == 403
