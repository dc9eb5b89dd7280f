"""SLA policy versions through the API: publish (admins), list, read, explain (staff).

Version numbers come from the database (on PostgreSQL from a sequence that outlives deleted
rows): the tests compare them with each other, never with fixed numbers."""
from __future__ import annotations

from sqlalchemy import text

from cases.core.db import db
from tests.helpers import calendar_body

URL = "/api/v1/sla-policy"
ANY_RULE = {"priority": "*", "tier": "*", "first_response": 240, "next_update": 480, "resolution": 960}
POLICY = {
    "calendar": "default", "office_calendar": "default", "warning_percent": 80, "manager_after_minutes": 60,
    "comment": "2026 contracts",
    "rules": [
        {"priority": "urgent", "tier": "vip", "calendar": "24x7", "first_response": 10, "resolution": 240,
         "off_hours": {"first_response": 30, "resolution": 480}},
        {"priority": "*", "tier": "vip", "first_response": 20, "next_update": 120, "resolution": 480},
        {"priority": "low", "first_response": 480, "resolution": 2400},
        ANY_RULE,
    ],
}


def publish(api, body, as_user="admin"):
    return api.post(f"{URL}/versions", as_user, json=body)


def stored() -> dict:
    with db.engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("sla_policy_versions", "audit_events", "calendars")}


def explain(api, **query):
    r = api.get(f"{URL}/targets", "agent1", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_without_published_versions_the_builtin_policy_is_active(api):
    r = api.get(URL, "agent1")
    assert r.status_code == 200
    assert r.json["version"] == 0 and r.json["builtin"] is True and r.json["active"] is True
    assert r.json["calendar"] == "default" and r.json["rules"][0]["priority"] == "urgent"
    assert r.json["rules"][2]["calendar"] is None and r.json["rules"][2]["off_hours"] is None
    listed = api.get(f"{URL}/versions", "supervisor").json
    assert [v["version"] for v in listed] == [0] and listed[0]["active"] is True
    assert api.get(f"{URL}/versions/0", "agent1").json["comment"] == "built-in"


def test_publishing_makes_a_new_active_version_and_keeps_the_old_ones(api):
    r = publish(api, POLICY)
    assert r.status_code == 201, r.json
    first = r.json
    assert first["version"] > 0 and first["active"] is True and first["builtin"] is False
    assert first["created_by"] == "admin" and first["warning_percent"] == 80 and first["comment"] == "2026 contracts"
    assert first["rules"][2] == {"priority": "low", "tier": "*", "calendar": None, "first_response": 480,
                                 "next_update": None, "resolution": 2400, "off_hours": None}
    assert api.get(URL, "agent1").json == first

    r = publish(api, {"calendar": "24x7", "rules": [ANY_RULE]})
    assert r.status_code == 201
    second = r.json
    assert second["version"] > first["version"]
    assert second["warning_percent"] == 75 and second["manager_after_minutes"] == 120  # the defaults
    assert second["office_calendar"] is None

    listed = api.get(f"{URL}/versions", "techlead").json
    assert [v["version"] for v in listed] == [second["version"], first["version"], 0]
    assert [v["active"] for v in listed] == [True, False, False]
    assert api.get(URL, "agent1").json["version"] == second["version"]
    old = api.get(f"{URL}/versions/{first['version']}", "agent1").json
    assert old["active"] is False and old["rules"] == first["rules"]
    r = api.get(f"{URL}/versions/{second['version'] + 1000}", "agent1")
    assert r.status_code == 404 and r.json["resource"] == "sla_policy_version"

    audit = api.get("/api/v1/audit?action=sla_policy_published", "admin").json["items"]
    assert [e["subject"] for e in audit] == [str(second["version"]), str(first["version"])]
    assert audit[1]["details"]["rules"] == 4


def test_explain_names_the_rule_and_the_targets_with_their_due_times(api):
    # the built-in policy: high/vip on the 24x7 calendar, a working Thursday morning
    r = explain(api, priority="high", tier="vip", opened_at="2026-10-08T10:00:00+08:00")
    assert r["version"] == 0 and r["rule_index"] == 1 and r["office_hours"] is True
    assert [(t["kind"], t["minutes"], t["calendar"], t["off_hours"]) for t in r["targets"]] == [
        ("first_response", 15, "24x7", False), ("next_update", 120, "24x7", False),
        ("resolution", 960, "24x7", False)]
    assert r["targets"][0]["due_at"] == "2026-10-08T02:15:00+00:00"
    assert r["targets"][0]["due_at_local"] == "2026-10-08T10:15:00+08:00"

    # National Day is outside office hours: the first response may take an hour
    r = explain(api, priority="high", tier="vip", opened_at="2026-10-01T10:00:00+08:00")
    assert r["office_hours"] is False
    assert [(t["kind"], t["minutes"], t["off_hours"]) for t in r["targets"]] == [
        ("first_response", 60, True), ("next_update", 120, False), ("resolution", 960, False)]

    # a standard customer's medium case on the office calendar, across the holidays
    r = explain(api, priority="medium", tier="standard", opened_at="2026-09-30T16:00:00+08:00")
    assert r["rule"]["priority"] == "medium" and r["rule"]["tier"] == "*"
    first = r["targets"][0]
    assert (first["minutes"], first["calendar"]) == (240, "default")
    assert first["due_at_local"] == "2026-10-08T12:00:00+08:00"  # 1 h on the 30th, 3 h on the 8th

    # a case not classified yet meets only rules for any priority
    r = explain(api, tier="vip", opened_at="2026-10-08T10:00:00+08:00")
    assert r["priority"] is None and r["rule_index"] == 2


def test_explain_follows_the_published_version_and_its_off_hours_rule(api):
    assert api.request("PUT", "/api/v1/calendars/office", "admin",
                       json=calendar_body(hours=[[["08:00", "20:00"]]] * 7, holiday_country=None)).status_code == 201
    version = publish(api, {**POLICY, "office_calendar": "office"}).json["version"]

    r = explain(api, priority="urgent", tier="vip", opened_at="2026-10-01T19:00:00+08:00")
    assert r["version"] == version and r["office_hours"] is True and r["rule_index"] == 0
    assert [(t["kind"], t["minutes"], t["off_hours"]) for t in r["targets"]] == [
        ("first_response", 10, False), ("resolution", 240, False)]  # no next_update in that rule

    r = explain(api, priority="urgent", tier="vip", opened_at="2026-10-01T21:00:00+08:00")
    assert r["office_hours"] is False
    assert [(t["kind"], t["minutes"], t["calendar"], t["off_hours"]) for t in r["targets"]] == [
        ("first_response", 30, "24x7", True), ("resolution", 480, "24x7", True)]
    assert r["targets"][0]["due_at_local"] == "2026-10-01T21:30:00+08:00"

    r = explain(api, priority="low", tier="vip", opened_at="2026-10-01T21:00:00+08:00")
    assert r["rule_index"] == 1  # the tier's rule (the contract) comes before the priority's
    r = explain(api, priority="high", tier="standard", opened_at="2026-10-01T21:00:00+08:00")
    assert r["rule_index"] == 3 and r["targets"][0]["minutes"] == 240

    r = explain(api, priority="urgent", tier="vip", opened_at="2026-10-01T21:00:00+08:00", version=0)
    assert r["version"] == 0 and r["office_hours"] is False  # the built-in one: National Day is off hours
    assert [(t["minutes"], t["off_hours"]) for t in r["targets"]] == [(60, True), (60, False), (480, False)]


def test_explain_arguments_are_checked(api):
    for query, field in (({"priority": "critical"}, "query.priority"), ({"tier": "gold"}, "query.tier"),
                         ({"opened_at": "2026-10-01T10:00:00"}, "query.opened_at"),
                         ({"opened_at": "1900-10-01T10:00:00Z"}, "query.opened_at")):
        r = api.get(f"{URL}/targets", "agent1", query_string=query)
        assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == [field], r.json
    r = api.get(f"{URL}/targets", "agent1", query_string={"version": 999999, "tier": "vip"})
    assert r.status_code == 404


def test_invalid_policies_are_refused_naming_every_field(api):
    before = stored()
    bad = {
        "calendar": "nowhere", "office_calendar": "elsewhere", "warning_percent": 100,
        "manager_after_minutes": 0,
        "rules": [
            {"priority": "critical", "tier": "gold", "calendar": "x", "first_response": 0, "resolution": 10},
            {"priority": "high", "tier": "vip", "first_response": 60, "next_update": 600000,
             "resolution": 100, "off_hours": {"lunch": 5, "resolution": -1}},
        ],
    }
    r = publish(api, bad)
    assert r.status_code == 422 and r.json["code"] == "validation_failed"
    assert {e["field"] for e in r.json["errors"]} == {
        "calendar", "office_calendar", "warning_percent", "manager_after_minutes", "rules.0.priority",
        "rules.0.tier", "rules.0.calendar", "rules.0.first_response", "rules.1.next_update",
        "rules.1.off_hours.lunch", "rules.1.off_hours.resolution"}

    r = publish(api, {"calendar": "default", "rules": [{"priority": "*", "tier": "*", "resolution": 60,
                                                        "first_response": "15", "colour": "red"}]})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"rules.0.first_response", "rules.0.colour"}
    r = publish(api, {"rules": []})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"calendar"}
    r = publish(api, {"calendar": "default", "rules": []})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["rules"]
    r = publish(api, {"calendar": "default", "rules": [{**ANY_RULE, "off_hours": {"first_response": 30}}]})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["rules.0.off_hours"]
    assert "office_calendar" in r.json["errors"][0]["message"]
    assert stored() == before and api.get(URL, "agent1").json["version"] == 0


def test_every_priority_and_tier_must_meet_exactly_one_rule(api):
    before = stored()
    vip_only = {"tier": "vip", "first_response": 15, "resolution": 480}
    r = publish(api, {"calendar": "default", "rules": [
        {"priority": "high", **vip_only}, {"priority": "urgent", **vip_only}, {"priority": "medium", **vip_only},
        {"priority": "low", **vip_only}]})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["rules"]
    message = r.json["errors"][0]["message"]
    for combination in ("urgent/standard", "high/standard", "medium/standard", "low/standard",
                        "unclassified/vip", "unclassified/standard"):
        assert combination in message
    assert "/vip" not in message.replace("unclassified/vip", "")

    r = publish(api, {"calendar": "default", "rules": [ANY_RULE, {**ANY_RULE, "priority": "high"},
                                                      {**ANY_RULE, "first_response": 5}]})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["rules.2"]
    assert "rules.0" in r.json["errors"][0]["message"]
    assert stored() == before


def test_policies_may_use_stored_calendars(api):
    r = api.request("PUT", "/api/v1/calendars/weekend-desk", "admin", json=calendar_body(
        hours=[[]] * 5 + [[["10:00", "16:00"]]] * 2, holiday_country=None))
    assert r.status_code == 201
    rule = {**ANY_RULE, "calendar": "weekend-desk"}
    r = publish(api, {"calendar": "default", "rules": [rule]})
    assert r.status_code == 201
    r = explain(api, priority="low", tier="standard", opened_at="2026-10-08T10:00:00+08:00")  # a Thursday
    assert r["targets"][0]["calendar"] == "weekend-desk"
    assert r["targets"][0]["due_at_local"] == "2026-10-10T14:00:00+08:00"  # 4 h from Saturday 10:00


def test_only_admins_publish_and_customers_see_no_policy(api):
    before = stored()
    for user in ("agent1", "supervisor", "owner", "acme_user"):
        r = publish(api, POLICY, as_user=user)
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed" and r.json["required_roles"] == ["admin"]
    for url in (URL, f"{URL}/versions", f"{URL}/versions/0", f"{URL}/targets?tier=vip"):
        r = api.get(url, "vip_user")
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed", url
        assert api.get(url, "complaints").status_code == 200, url
    assert stored() == before


def test_a_complaint_rule_gives_complaints_their_own_targets(api, world):
    before = stored()
    complaint_rule = {**ANY_RULE, "case_kind": "complaint", "first_response": 60, "resolution": 480}
    for rules, field in (([ANY_RULE, {**complaint_rule, "case_kind": "grievance"}], "rules.1.case_kind"),
                         ([ANY_RULE, complaint_rule, complaint_rule], "rules.2")):  # two for the same priority/tier
        r = publish(api, {"calendar": "default", "rules": rules})
        assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == [field], r.json
    only_complaints = publish(api, {"calendar": "default", "rules": [complaint_rule]})
    assert only_complaints.status_code == 422 and only_complaints.json["errors"][0]["field"] == "rules"
    assert stored() == before
    r = publish(api, {"calendar": "default", "rules": [ANY_RULE, complaint_rule]})
    assert r.status_code == 201, r.json
    assert r.json["rules"][1]["case_kind"] == "complaint"
    case = api.post("/api/v1/cases", "agent1", json={"customer_id": world.customers["ACME"].id, "channel": "web",
                                                    "title": "Slow", "description": "Slow answers"}).json
    complaint = api.post(f"/api/v1/cases/{case['id']}/complaints", "agent1", json={"description": "x"}).json
    minutes = {t["kind"]: t["target_minutes"] for t in complaint["sla"]["targets"]}
    assert minutes == {"first_response": 60, "resolution": 480}
    assert {t["kind"]: t["target_minutes"] for t in case["sla"]["targets"]} == {"first_response": 240,
                                                                                 "resolution": 960}
