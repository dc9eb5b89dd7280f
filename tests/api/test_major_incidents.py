"""Major incidents through the API: declared from a case, cases linked as they come in, a team that
works the linked cases, one public update reaching each affected customer once, one resolution
moving every linked case at its resolve step on (each through the real completion path, each
reported), its own SLA and ladder (its process's timers: tests/api/test_major_incident_process.py);
customers see only their cases and the public updates."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import CaseEvent
from cases.outbox.models import Notification
from cases.process import timers
from cases.service.models import MajorIncident
from tests.api.dbstate import db_snapshot
from tests.helpers import get_case, only_task, open_case, step

URL = "/api/v1/major-incidents"
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)  # a Monday morning


def at_resolve(api, customer_id: int, email: str, title: str) -> dict:
    case = open_case(api, customer_id=customer_id, title=title, contact_email=email)
    step(api, case["id"], "classify", {"category": "data_problem", "priority": "high"})
    step(api, case["id"], "assign")
    assert only_task(api, case["id"])["element_id"] == "resolve"
    return case


@pytest.fixture
def clock():
    """The controlled clock: every test starts on a Monday at 09:00 in Shanghai."""
    with freeze_time(T0) as frozen:
        yield frozen


@pytest.fixture
def outage(api, world, clock):
    """Three cases at their resolve step (two of ACME, one of OTHER), and one of OTHER just opened."""
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    return {
        "a1": at_resolve(api, acme, "li@acme.example", "Posting fails since the update"),
        "a2": at_resolve(api, acme, "li@acme.example", "Receipts cannot be posted"),
        "o1": at_resolve(api, other, "han@other.example", "Stock posting error"),
        "o2": open_case(api, customer_id=other, title="Warehouse posting hangs", contact_email="han@other.example"),
    }


def declare(api, case_id: int, **extra) -> dict:
    body = {"case_id": case_id, "title": "Posting service down after release 7.2",
            "description": "Every posting fails with a timeout since last night's release.", **extra}
    r = api.post(URL, "supervisor", json=body)
    assert r.status_code == 201, r.json
    return r.json


def notices(kind: str) -> list[tuple[int, str]]:
    return sorted(db.session.execute(select(Notification.case_id, Notification.recipient)
                                     .where(Notification.kind == kind)).all())


def test_an_incident_resolves_its_linked_cases_and_tells_each_customer_once(api, outage, clock):
    clock.move_to(T0 + timedelta(minutes=5))
    incident = declare(api, outage["a1"]["id"], team=["consultant2"], link_cases=[outage["a2"]["id"]])
    assert incident["number"] == f"MI-{incident['id']:04d}"
    assert incident["team"] == ["consultant2", "supervisor"]  # the declarer leads it
    assert [c["case_id"] for c in incident["cases"]] == [outage["a1"]["id"], outage["a2"]["id"]]
    clock.move_to(T0 + timedelta(minutes=10))  # cases linked as they come in
    r = api.post(f"{URL}/{incident['id']}/cases", "consultant2",
                 json={"case_ids": [outage["o1"]["id"], outage["o2"]["id"]]})
    assert r.status_code == 200, r.json
    assert len(r.json["cases"]) == 4

    clock.move_to(T0 + timedelta(minutes=20))
    r = api.post(f"{URL}/{incident['id']}/updates", "consultant2",
                 json={"text": "We found the cause and are rolling back the release."})
    assert r.status_code == 201, r.json
    assert sorted(x["customer"] for x in r.json["reached"]) == ["ACME", "OTHER"]
    # one mail per customer, although ACME has two cases linked
    assert notices("major_incident_update") == [(outage["a1"]["id"], "li@acme.example"),
                                                (outage["o1"]["id"], "han@other.example")]
    for key in outage:  # every linked case notes it on its timeline, for the customer too
        assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == outage[key]["id"], CaseEvent.kind == "major_incident_update",
            CaseEvent.public.is_(True))) == 1

    got = api.get(f"{URL}/{incident['id']}", "supervisor")
    assert got.status_code == 200, got.json
    version = got.json["version"]
    clock.move_to(T0 + timedelta(hours=2))
    r = api.post(f"{URL}/{incident['id']}/resolve", "consultant2",
                 json={"version": version, "cause": "A lock timeout in release 7.2.",
                       "solution": "Rolled back to 7.1.9; postings work again."})
    assert r.status_code == 200, r.json
    outcomes = {x["case_id"]: x["outcome"] for x in r.json["results"]}
    assert outcomes == {outage["a1"]["id"]: "resolved", outage["a2"]["id"]: "resolved",
                        outage["o1"]["id"]: "resolved", outage["o2"]["id"]: "not_resolvable"}
    assert r.json["incident"]["status"] == "resolved"
    resolution = {t["kind"]: t for t in r.json["incident"]["sla"]}["resolution"]
    assert resolution["met_at"] is not None and resolution["breached"] is False
    for key in ("a1", "a2", "o1"):
        case = get_case(api, outage[key]["id"])
        assert case["solution"] == "Rolled back to 7.1.9; postings work again."
        assert only_task(api, outage[key]["id"])["element_id"] == "confirm"  # the process moved on
    assert only_task(api, outage["o2"]["id"])["element_id"] == "classify"  # not forced
    # each resolved case told its customer once that it is resolved, on its channel
    assert notices("resolution") == sorted([(outage["a1"]["id"], "li@acme.example"),
                                            (outage["a2"]["id"], "li@acme.example"),
                                            (outage["o1"]["id"], "han@other.example")])
    assert len(notices("major_incident_update")) == 2  # and no second update


def test_the_team_works_the_linked_cases_others_do_not(api, outage, clock):
    resolve_task = only_task(api, outage["a1"]["id"])  # the owner's (consultant1) resolve step
    r = api.post(f"/api/v1/tasks/{resolve_task['id']}/claim", "agent2", json={"version": resolve_task["version"]})
    assert r.status_code == 403  # an agent is not of the service consultants' lane
    incident = declare(api, outage["o2"]["id"], team=["agent2"])
    classify = only_task(api, outage["o2"]["id"])
    inbox = api.get("/api/v1/tasks?scope=claimable", "techlead").json["items"]
    assert classify["id"] not in [t["id"] for t in inbox]
    r = api.request("PUT", f"{URL}/{incident['id']}/team", "supervisor", json={"team": ["techlead"]})
    assert r.status_code == 428  # the version seen is needed
    r = api.request("PUT", f"{URL}/{incident['id']}/team", "supervisor", json={"team": ["techlead"]},
                headers={"If-Match": f'"{incident["version"]}"'})
    assert r.status_code == 200, r.json
    assert r.json["team"] == ["techlead"]
    # the technical lead sees the linked case's agent step in the inbox, and may work it
    inbox = api.get("/api/v1/tasks?scope=claimable", "techlead").json["items"]
    assert classify["id"] in [t["id"] for t in inbox]
    r = api.post(f"/api/v1/tasks/{classify['id']}/claim", "techlead", json={"version": classify["version"]})
    assert r.status_code == 200, r.json
    # agent2 left the team: no more than their own lanes
    r = api.post(f"{URL}/{incident['id']}/updates", "agent2", json={"text": "hello"})
    assert r.status_code == 403
    # a stale version is refused
    r = api.request("PUT", f"{URL}/{incident['id']}/team", "supervisor", json={"team": ["agent1"], "version": incident["version"]})
    assert r.status_code == 409 and r.json["code"] == "stale_version"


def test_customers_see_their_cases_and_the_public_updates_only(api, outage, clock):
    incident = declare(api, outage["a1"]["id"], link_cases=[outage["o1"]["id"]])
    api.post(f"{URL}/{incident['id']}/updates", "supervisor", json={"text": "Rolling back now."})
    api.post(f"{URL}/{incident['id']}/updates", "supervisor", json={"text": "Internal: DBA paged.", "public": False})
    r = api.get(f"{URL}/{incident['id']}", "acme_user")
    assert r.status_code == 200, r.json
    assert [c["case_id"] for c in r.json["cases"]] == [outage["a1"]["id"]]
    assert [u["text"] for u in r.json["updates"]] == ["Rolling back now."]
    assert "team" not in r.json and "reached" not in str(r.json)
    assert [i["id"] for i in api.get(URL, "acme_user").json["items"]] == [incident["id"]]
    assert api.get(f"{URL}/{incident['id']}", "vip_user").status_code == 404  # no case of theirs
    assert api.get(URL, "vip_user").json["items"] == []
    assert api.post(URL, "acme_user", json={"case_id": outage["a1"]["id"], "title": "x",
                                            "description": "y"}).status_code == 403
    assert api.post(f"{URL}/{incident['id']}/updates", "acme_user", json={"text": "x"}).status_code == 403
    internal = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == outage["a1"]["id"],
                                                         CaseEvent.data["text"].as_string() == "Internal: DBA paged."))
    assert internal is not None and internal.public is False
    timeline = get_case(api, outage["a1"]["id"], "acme_user")["history"]
    assert "Internal: DBA paged." not in str(timeline)


def test_bad_input_names_the_field_and_saves_nothing(api, outage, clock):
    before = db_snapshot()
    r = api.post(URL, "supervisor", json={"case_id": outage["a1"]["id"], "title": "", "description": "d"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "title"
    r = api.post(URL, "supervisor", json={"case_id": outage["a1"]["id"], "title": "t", "description": "d",
                                          "team": ["consultant1", "nobody"]})
    assert r.status_code == 422 and r.json["errors"] == [{"field": "team.1", "message": "no active staff user 'nobody'"}]
    r = api.post(URL, "supervisor", json={"case_id": outage["a1"]["id"], "title": "t", "description": "d",
                                          "link_cases": [999999]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "link_cases.0"
    r = api.post(URL, "supervisor", json={"case_id": outage["a1"]["id"], "title": "t", "description": "d",
                                          "team": ["acme_user"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "team.0"  # a customer is no team member
    assert db_snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(MajorIncident)) == 0
    incident = declare(api, outage["a1"]["id"])
    before = db_snapshot()
    r = api.post(f"{URL}/{incident['id']}/resolve", "supervisor", json={"version": incident["version"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "solution"
    r = api.post(f"{URL}/{incident['id']}/resolve", "supervisor", json={"solution": "s"})
    assert r.status_code == 428
    r = api.post(f"{URL}/{incident['id']}/cases", "supervisor", json={"case_ids": [outage["a1"]["id"], "x"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"].startswith("case_ids")
    # a case of another open incident cannot be declared again or linked twice
    r = api.post(URL, "supervisor", json={"case_id": outage["a1"]["id"], "title": "t", "description": "d"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "case_id"
    assert db_snapshot() == before
    assert api.get(f"{URL}/999999", "supervisor").status_code == 404


def reached(incident: dict) -> int:
    """Fire the due timers (the scheduler's run); how many rungs of the incident's ladder that reached."""
    before = len(db.session.get(MajorIncident, incident["id"]).escalations)
    timers.fire_due()
    db.session.expire_all()
    return len(db.session.get(MajorIncident, incident["id"]).escalations) - before


def test_its_own_sla_escalates_on_the_policys_ladder(api, outage, clock):
    clock.move_to(T0)
    incident = declare(api, outage["a1"]["id"], team=["consultant2"])
    targets = {t["kind"]: t for t in incident["sla"]}
    # the built-in rule for major incidents, around the clock: first update 30 minutes, resolved in 8 hours
    assert targets["first_response"]["minutes"] == 30 and targets["resolution"]["minutes"] == 480
    assert datetime.fromisoformat(targets["resolution"]["due_at"]) == T0 + timedelta(hours=8)
    assert [r["name"] for r in targets["resolution"]["ladder"]] == ["warning", "breach", "manager"]
    clock.move_to(T0 + timedelta(minutes=10))
    assert reached(incident) == 0  # the ladder is the incident process's timers (processes/major_incident.bpmn)
    clock.move_to(T0 + timedelta(minutes=31))  # no update yet: the first response is breached
    assert reached(incident) == 2  # its warning (75 %) and its breach
    assert reached(incident) == 0  # once each
    r = api.post(f"{URL}/{incident['id']}/updates", "consultant2", json={"text": "On it."})
    assert r.status_code == 201
    clock.move_to(T0 + timedelta(hours=6, minutes=1))  # 75 % of the resolution target
    assert reached(incident) == 1
    got = api.get(f"{URL}/{incident['id']}", "supervisor").json
    assert [(e["target"], e["rung"]) for e in got["escalations"]] == [
        ("first_response", "warning"), ("first_response", "breach"), ("resolution", "warning")]
    first = {t["kind"]: t for t in got["sla"]}["first_response"]
    assert first["met_at"] is not None and first["breached"] is True
    events = db.session.scalars(select(CaseEvent.data).where(CaseEvent.case_id == outage["a1"]["id"],
                                                             CaseEvent.kind == "major_incident_escalated")
                                   .order_by(CaseEvent.id)).all()
    assert [e["rung"] for e in events] == ["warning", "breach", "warning"]


def test_a_lead_outside_the_team_who_resolves_joins_it(api, outage, clock):
    incident = declare(api, outage["a1"]["id"], link_cases=[outage["a2"]["id"], outage["a1"]["id"]])
    assert len(incident["cases"]) == 2  # the case it is declared from, listed again, is linked once
    r = api.post(f"{URL}/{incident['id']}/resolve", "agent2", json={"solution": "s", "version": incident["version"]})
    assert r.status_code == 403  # neither a lead nor in the team
    r = api.post(f"{URL}/{incident['id']}/resolve", "techlead",
                 json={"solution": "Restarted the posting service.", "version": incident["version"]})
    assert r.status_code == 200, r.json
    assert [x["outcome"] for x in r.json["results"]] == ["resolved", "resolved"]
    assert r.json["incident"]["team"] == ["supervisor", "techlead"]
    r = api.post(f"{URL}/{incident['id']}/resolve", "techlead",
                 json={"solution": "again", "version": r.json["incident"]["version"]})
    assert r.status_code == 200 and r.json["results"] == []  # nothing left to retry
    r = api.post(f"{URL}/{incident['id']}/updates", "techlead", json={"text": "late"})
    assert r.status_code == 409 and r.json["code"] == "major_incident_resolved"
