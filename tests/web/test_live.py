"""Live notices (cases/casework/notices.py through GET /live/notices): a task arriving, a customer's
message on a case one works on, a target coming at risk; only since the given moment; staff only."""
from __future__ import annotations

from datetime import timedelta

from cases.casework import notices
from cases.core.db import db
from cases.core.models import utcnow
from cases.sla.models import SlaTarget
from tests.helpers import DATA, step


def _since(client, moment) -> dict:
    r = client.get("/live/notices", query_string={"since": moment.isoformat()})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    return r.json


def test_tasks_messages_and_targets_at_risk_since_a_moment(api, pages, acme_case, world):
    before = utcnow() - timedelta(seconds=1)
    case = acme_case(title="Live case")
    agent = pages("agent1")
    items = _since(agent, before)["items"]
    assert [(i["kind"], i["case"]) for i in items] == [("task", case["number"])]  # classify: the agent lane
    assert items[0]["label"] == "New task" and items[0]["url"].startswith("/tasks/")
    assert _since(pages("consultant1"), before)["items"] == []  # not a consultant's lane
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")  # consultant1 owns the case
    moment = utcnow()
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    customer.post(f"/cases/{case['id']}/messages", {"text": "Still broken."})
    consultant = pages("consultant1")
    wrote = [i for i in _since(consultant, moment)["items"] if i["kind"] == "customer_message"]
    assert [(i["case"], i["text"], i["label"]) for i in wrote] == [(case["number"], "Still broken.",
                                                                    "The customer wrote")]
    assert [i for i in _since(pages("agent2"), moment)["items"] if i["kind"] == "customer_message"] == []
    assert any(i["kind"] == "customer_message" for i in _since(pages("supervisor"), moment)["items"])
    later = _since(consultant, utcnow())
    assert later["items"] == [] and later["count"] == 0
    target = db.session.scalars(db.select(SlaTarget).where(SlaTarget.case_id == case["id"],
                                                           SlaTarget.state == "running")).first()
    target.warning_at, target.due_at = utcnow() - timedelta(seconds=1), utcnow() + timedelta(hours=1)
    db.session.commit()
    risky = [i for i in _since(consultant, utcnow() - timedelta(seconds=30))["items"] if i["kind"] == "at_risk"]
    assert [i["label"] for i in risky] == ["Target about to break"]


def test_live_notices_are_for_staff_and_pages_carry_the_poll(pages, world):
    assert pages("acme_user").get("/live/notices").status_code == 403
    text = pages("agent1").text(pages("agent1").get("/inbox"))
    assert 'data-live-url="/live/notices"' in text and 'id="live-notices"' in text
    assert "data-live-url" not in pages("acme_user").text(pages("acme_user").get("/portal"))
    answer = pages("agent1").get("/live/notices", query_string={"since": "not a time"})
    assert answer.status_code == 200 and answer.json["items"] == []
    assert notices.MAX_LOOKBACK == timedelta(hours=1)
