"""SLA rules by category and channel beside priority x tier: the most specific rule wins, the explain
endpoint says which and why, and a case's targets follow its category (seed 004: hardware repair is
answered within an hour, round the clock; seed 001: technical problems within 4 working hours)."""
from __future__ import annotations

from freezegun import freeze_time

from tests.api.dbstate import db_snapshot
from tests.cases.process.test_calendar_edits import recomputed
from tests.cases.sla.test_sla import at, move, sh, target
from tests.helpers import open_case, step

GENERAL = {"priority": "*", "tier": "*", "first_response": 240, "resolution": 960}
HARDWARE = {"category": "hardware_repair", "calendar": "24x7", "first_response": 60, "resolution": 1440}
PHONE = {"channel": "phone", "first_response": 120, "resolution": 960}
VIP_HIGH = {"priority": "high", "tier": "vip", "first_response": 15, "resolution": 480}
POLICY = {"calendar": "default", "rules": [GENERAL, HARDWARE, PHONE, VIP_HIGH]}


def publish(api, policy=POLICY):
    r = api.post("/api/v1/sla-policy/versions", "admin", json=policy)
    assert r.status_code == 201, r.json
    return r.json


def explain(api, **query):
    r = api.get("/api/v1/sla-policy/targets", "agent1",
                query_string={"opened_at": "2026-11-20T18:00:00+08:00", **query})
    assert r.status_code == 200, r.json
    return r.json


def test_explain_names_the_category_rule_and_why(api):
    published = publish(api)
    assert published["rules"][1]["category"] == "hardware_repair" and "category" not in published["rules"][0]
    found = explain(api, priority="medium", tier="standard", category="hardware_repair")
    assert found["rule_index"] == 1 and found["matched"] == [1, 0]
    assert found["why"] == ("rule 1 applies: it is for category hardware_repair; the most specific of 2 matching "
                            "rules; targets on calendar '24x7'")
    # Friday 18:00: on the 24x7 calendar the hour runs at once
    assert [(t["kind"], t["minutes"], t["calendar"], t["due_at"]) for t in found["targets"]] == [
        ("first_response", 60, "24x7", "2026-11-20T11:00:00+00:00"),
        ("resolution", 1440, "24x7", "2026-11-21T10:00:00+00:00")]

    # a category rule beats a channel rule (both narrow one fact); two facts beat one
    assert explain(api, priority="medium", tier="standard", category="hardware_repair", channel="phone")["matched"] \
        == [1, 2, 0]
    vip = explain(api, priority="high", tier="vip", category="hardware_repair")
    assert vip["rule_index"] == 3 and vip["matched"] == [3, 1, 0]
    assert explain(api, priority="low", tier="standard", channel="phone")["rule_index"] == 2
    general = explain(api, priority="low", tier="standard", category="software_bug")
    assert general["rule_index"] == 0 and general["why"].startswith("rule 0 applies: it is for any case")


def test_a_case_takes_its_category_rule_from_the_hint_and_from_the_classification(api, world):
    acme = world.customers["ACME"].id
    publish(api)
    with freeze_time(sh(20, 18)) as frozen:  # Friday 18:00
        hinted = open_case(api, customer_id=acme, priority_hint="medium", category_hint="hardware_repair")
        first = target(api, hinted["id"], "first_response")
        assert (first["target_minutes"], first["calendar"], at(first["due_at"])) == (60, "24x7", sh(20, 19))

        case = open_case(api, customer_id=acme, priority_hint="medium")
        assert target(api, case["id"], "resolution")["calendar"] == "default"
        move(api, frozen, sh(20, 18, 30))
        step(api, case["id"], "classify", {"category": "hardware_repair", "priority": "medium"})
        resolution = target(api, case["id"], "resolution")
        # recomputed from the start on the hardware rule: 1440 minutes round the clock
        assert (resolution["target_minutes"], resolution["calendar"], at(resolution["due_at"])) == \
            (1440, "24x7", sh(21, 18))
        assert resolution["elapsed_seconds"] == 30 * 60
        [event] = recomputed(case["id"])
        assert event["reason"] == "category_changed"
        assert {c["kind"]: (c["old_calendar"], c["calendar"]) for c in event["changes"]}["resolution"] == \
            ("default", "24x7")

        other = open_case(api, customer_id=acme, priority_hint="medium")
        step(api, other["id"], "classify", {"category": "data_problem", "priority": "medium"})
        assert recomputed(other["id"]) == []  # the same rule applies: nothing to recompute
    api.forget_tokens()


def test_bad_category_rules_are_named_and_change_nothing(api):
    before = db_snapshot()
    r = api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [
        GENERAL, {**HARDWARE, "category": "printers"}, {**PHONE, "channel": "pigeon"}, HARDWARE, HARDWARE]})
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json["errors"]}
    assert set(errors) == {"rules.1.category", "rules.2.channel", "rules.4"}
    assert "category hardware_repair" in errors["rules.4"]
    # a category rule covers nobody else: the catch-all is still needed
    r = api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [HARDWARE]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "rules"
    r = api.get("/api/v1/sla-policy/targets", "agent1", query_string={"category": "printers"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "query.category"
    assert db_snapshot() == before
