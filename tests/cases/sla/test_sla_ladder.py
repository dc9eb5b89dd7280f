"""A ladder of any number of rungs drawn in the SLA policy (percentages of the target and offsets
after the breach, each naming who is told), and managers working the escalation queue."""
from __future__ import annotations

from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.sla.models import Escalation
from tests.api.dbstate import db_snapshot
from tests.cases.sla.test_sla import at, fire, kinds, ladder_staff, sh, target  # noqa: F401  (a fixture)
from tests.helpers import open_case, step

FIVE = [
    {"name": "half", "at_percent": 50, "notify": "case_owner"},
    {"name": "breach", "at_percent": 100, "notify": "supervisor"},
    {"name": "three_quarters", "at_percent": 75, "notify": "supervisor"},
    {"name": "manager", "after_breach_minutes": 120, "notify": "manager"},
    {"name": "director", "after_breach_minutes": 480, "notify": "admin"},
]
RULE = {"priority": "*", "tier": "*", "first_response": 240, "resolution": 960}


def test_a_five_rung_ladder_fires_each_rung_once_to_whom_it_names(api, ladder_staff):  # noqa: F811
    r = api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [RULE], "ladder": FIVE})
    assert r.status_code == 201, r.json
    assert [rung["name"] for rung in r.json["ladder"]] == ["half", "three_quarters", "breach", "manager", "director"]
    with freeze_time(sh(23, 9)) as frozen:  # Monday 09:00
        case = open_case(api, customer_id=ladder_staff.customers["ACME"].id, priority_hint="medium")
        step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
        step(api, case["id"], "assign", {"owner": "consultant1", "due_at": "2026-11-30T09:00:00+00:00"},
             as_user="agent1")
        resolution = target(api, case["id"], "resolution")
        assert [(rung["name"], at(rung["at"])) for rung in resolution["ladder"]] == [
            ("half", sh(23, 17)), ("three_quarters", sh(24, 13)), ("breach", sh(24, 17)), ("manager", sh(25, 11)),
            ("director", sh(25, 17))]
        assert at(resolution["warning_at"]) == sh(23, 17)  # the queue's at-risk line: the first rung
        for moment in (sh(23, 17, 1), sh(24, 13, 1), sh(24, 17, 1), sh(25, 11, 1), sh(25, 17, 1), sh(26, 9)):
            fire(api, moment, frozen)
        manager_queue = api.get("/api/v1/escalations", "admin")  # admin holds the manager role here
        assert manager_queue.status_code == 200
        assert [e["target"]["status"] for e in manager_queue.json["items"]] == ["breached"]
    api.forget_tokens()
    fired = db.session.execute(select(Escalation.level, Escalation.notified).where(
        Escalation.case_id == case["id"], Escalation.target_id == _resolution_id(case["id"]))
        .order_by(Escalation.id)).all()
    assert [tuple(row) for row in fired] == [("half", ["consultant1"]), ("three_quarters", ["supervisor"]),
                                             ("breach", ["supervisor"]), ("manager", ["admin"]),
                                             ("director", ["admin"])]
    history = kinds(case["id"])
    assert history.count("sla_breach") == 1 and history.count("sla_manager") >= 2


def _resolution_id(case_id: int) -> int:
    from cases.sla.models import SlaTarget
    return db.session.scalar(select(SlaTarget.id).where(SlaTarget.case_id == case_id,
                                                        SlaTarget.kind == "resolution"))


def test_rungs_after_an_acknowledged_breach_are_skipped(api, ladder_staff):  # noqa: F811
    api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [RULE], "ladder": FIVE})
    with freeze_time(sh(23, 9)) as frozen:
        case = open_case(api, customer_id=ladder_staff.customers["ACME"].id, priority_hint="medium")
        fire(api, sh(23, 13, 1), frozen)  # first response: half, three quarters and the breach
        r = api.post(f"/api/v1/cases/{case['id']}/acknowledge", "admin", json={"note": "a manager on it"})
        assert r.status_code == 200, r.json  # managers work the queue too
        fire(api, sh(23, 16, 59), frozen)  # past the first response's manager rung (15:00)
    api.forget_tokens()
    levels = db.session.scalars(select(Escalation.level).where(Escalation.case_id == case["id"])
                                .order_by(Escalation.id)).all()
    assert levels == ["half", "three_quarters", "breach"]  # no manager, no director


def test_bad_ladders_are_named_and_change_nothing(api):
    before = db_snapshot()
    r = api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [RULE], "ladder": [
        {"name": "Half", "at_percent": 50, "notify": "case_owner"},
        {"name": "late", "at_percent": 120, "notify": "supervisor"},
        {"name": "both", "at_percent": 55, "after_breach_minutes": 5, "notify": "supervisor"},
        {"name": "late", "after_breach_minutes": 60, "notify": "the boss"},
        {"name": "x", "at_percent": 60, "notify": "manager", "colour": "red"}]})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {
        "ladder.0.name", "ladder.1.at_percent", "ladder.2", "ladder.3.name", "ladder.3.notify", "ladder.4.colour"}
    r = api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [RULE], "ladder": []})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "ladder"
    assert db_snapshot() == before
