"""Hotline cases: logged calls open and continue cases in the same process; replies to the caller
are call-backs for the front line, never mail the caller did not ask for."""
from __future__ import annotations

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case
from cases.outbox.models import Notification
from tests.api.test_channels import to_waiting_for_reply
from tests.helpers import get_case, only_task

CALLBACKS = "/api/v1/calls/callbacks"


def phone_case(api, world) -> int:
    r = api.post("/api/v1/calls", "agent1", json={
        "customer_id": world.customers["ACME"].id, "caller_name": "李雷", "number": "+86 10 1234 5678",
        "duration_seconds": 240, "notes": "客户反映：月末报表打不开。", "title": "月末报表打不开"})
    assert r.status_code == 201, r.json
    return r.json["case"]["case_id"]


def test_replies_on_a_hotline_case_wait_as_call_backs_until_an_outbound_call(api, world):
    world.user("acme_user").email = "li.lei@acme.example"  # an address exists, and still no mail goes
    db.session.commit()
    case_id = phone_case(api, world)
    to_waiting_for_reply(api, case_id)  # the consultant asks "Which version?"
    r = api.post(f"/api/v1/cases/{case_id}/replies", "consultant1", json={"text": "We will call you at 3 pm."})
    assert r.status_code == 201 and r.json == {"via": "call", "to": None}

    r = api.get(CALLBACKS, "agent2")
    assert r.status_code == 200
    assert [(c["case_id"], c["notice"], c["contact_phone"], c["contact_name"]) for c in r.json] == [
        (case_id, "information_request", "+86 10 1234 5678", "李雷"),
        (case_id, "staff_reply", "+86 10 1234 5678", "李雷")]
    assert "Which version?" in r.json[0]["text"] and "We will call you at 3 pm." in r.json[1]["text"]
    assert db.session.scalar(select(Notification.id)) is None

    # the agent calls back and records the answer: the process goes on, the call-backs are done
    r = api.post("/api/v1/calls", "agent2", json={"case_id": case_id, "direction": "outbound", "duration_seconds": 90,
                                                  "notes": "Version 7.2.1", "customer_reply": True})
    assert r.status_code == 201 and r.json["case"]["outcome"] == "replied"
    assert only_task(api, case_id)["element_id"] == "resolve"
    assert api.get(CALLBACKS, "agent1").json == []
    assert [e["data"]["via"] for e in get_case(api, case_id)["history"] if e["kind"] == "customer_notified"] == \
        ["call", "call"]


def test_an_inbound_call_does_not_settle_a_call_back_and_a_closed_case_drops_it(api, world):
    case_id = phone_case(api, world)
    to_waiting_for_reply(api, case_id)
    api.post("/api/v1/calls", "agent1", json={"case_id": case_id, "duration_seconds": 30, "notes": "Called again"})
    assert [c["case_id"] for c in api.get(CALLBACKS, "supervisor").json] == [case_id]
    db.session.execute(db.update(Case).where(Case.id == case_id).values(status="closed"))
    db.session.commit()
    assert api.get(CALLBACKS, "supervisor").json == []


def test_only_the_front_line_sees_the_call_backs(api, world):
    for user in ("acme_user", "bizmanager", "owner", "techlead"):
        r = api.get(CALLBACKS, user)
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed", user
