"""Business calendars through the API: administration (admins), reading, preview and arithmetic (staff)."""
from __future__ import annotations

from datetime import date, timedelta

import holidays
from sqlalchemy import text

from cases.core.db import db
from tests.helpers import calendar_body as full

URL = "/api/v1/calendars"
LUNCH_WEEK = [[["13:00", "18:00"], ["09:00", "12:00"]]] * 5 + [[], []]  # given out of order on purpose


def put(api, name, body, version=None, as_user="admin"):
    headers = {} if version is None else {"If-Match": f'"{version}"'}
    return api.request("PUT", f"{URL}/{name}", as_user, json=body, headers=headers)


def delete(api, name, as_user="admin"):
    return api.request("DELETE", f"{URL}/{name}", as_user)


def stored() -> dict:
    """Calendar rows (name -> version) and audit events, read on a connection of their own."""
    with db.engine.connect() as conn:
        return {"calendars": dict(conn.execute(text("SELECT name, version FROM calendars")).all()),
                "audit": conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()}


def days(api, name, first, last, as_user="agent1"):
    r = api.get(f"{URL}/{name}/days", as_user, query_string={"from": first, "to": last})
    assert r.status_code == 200, r.json
    return {d["date"]: d for d in r.json["days"]}


def test_the_builtin_calendars_are_listed_and_readable(api):
    r = api.get(URL, "agent1")
    assert r.status_code == 200
    listed = {c["name"]: c for c in r.json}
    assert set(listed) == {"default", "24x7"}
    assert all(c["builtin"] and not c["overridden"] and c["version"] == 0 for c in listed.values())

    r = api.get(f"{URL}/default", "supervisor")
    assert r.status_code == 200 and r.headers["ETag"] == '"0"'
    assert r.json["timezone"] == "Asia/Shanghai" and r.json["holiday_country"] == "CN"
    assert r.json["hours"] == [[["09:00", "17:00"]]] * 5 + [[], []]
    assert api.get(f"{URL}/24x7", "agent1").json["hours"] == [[["00:00", "24:00"]]] * 7
    r = api.get(f"{URL}/nowhere", "agent1")
    assert r.status_code == 404 and r.json["resource"] == "calendar" and r.json["id"] == "nowhere"


def test_admin_creates_a_calendar_and_replaces_it_with_the_version_seen(api):
    body = full(description="Shanghai office with lunch break", hours=LUNCH_WEEK,
                extra_holidays=["2026-12-31", "2026-12-24", "2026-12-31"])
    r = put(api, "office", body)
    assert r.status_code == 201, r.json
    assert r.json["version"] == 1 and r.headers["ETag"] == '"1"'
    assert r.json["builtin"] is False and r.json["timezone"] == "Asia/Shanghai"  # the default zone
    assert r.json["hours"][0] == [["09:00", "12:00"], ["13:00", "18:00"]]  # sorted
    assert r.json["extra_holidays"] == ["2026-12-24", "2026-12-31"]  # sorted, once each
    assert r.json["holiday_country"] == "CN"

    before = stored()
    r = put(api, "office", {**body, "timezone": "Europe/Berlin"})
    assert r.status_code == 428 and r.json["code"] == "version_required"
    assert stored() == before

    r = put(api, "office", {**body, "timezone": "Europe/Berlin", "holiday_country": "DE"}, version=1)
    assert r.status_code == 200 and r.json["version"] == 2 and r.headers["ETag"] == '"2"'
    assert r.json["timezone"] == "Europe/Berlin" and r.json["holiday_country"] == "DE"

    before = stored()
    r = put(api, "office", body, version=1)
    assert r.status_code == 409 and r.json["code"] == "stale_version" and r.json["current_version"] == 2
    r = put(api, "nothere", body, version=3)  # the client thinks it exists
    assert r.status_code == 409 and r.json["code"] == "stale_version" and r.json["current_version"] == 0
    r = api.request("PUT", f"{URL}/office", "admin", json=body, headers={"If-Match": "yesterday"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "If-Match"
    assert stored() == before

    r = api.get(f"{URL}/office", "agent1")
    assert r.headers["ETag"] == '"2"' and r.json["description"] == "Shanghai office with lunch break"
    assert [c["name"] for c in api.get(URL, "agent1").json] == ["24x7", "default", "office"]
    audit = api.get("/api/v1/audit", "admin").json["items"]
    assert [(e["action"], e["subject"]) for e in audit[:2]] == [("calendar_replaced", "office"),
                                                                ("calendar_created", "office")]


def test_invalid_calendars_are_refused_naming_every_field(api):
    before = stored()
    r = put(api, "bad", full(timezone="Asia/Atlantis", hours=[[["09:00", "17:00"]]] * 6,
                             holiday_country="XX", extra_holidays=["2026-02-30", "next monday"]))
    assert r.status_code == 422 and r.json["code"] == "validation_failed"
    assert {e["field"] for e in r.json["errors"]} == {
        "timezone", "hours", "holiday_country", "extra_holidays.0", "extra_holidays.1"}

    week = [[["9:00", "17:00"]], [["09:00", "12:00"], ["11:00", "14:00"]], [["17:00", "09:00"]],
            [["22:00", "00:00"]], [["09:00"]], [], [["08:00", "24:30"]]]
    r = put(api, "bad", full(hours=week, extra_workdays=["2026-10-10", "2026-10-11"],
                             extra_holidays=["2026-10-11"], makeup_hours=[["10:00", "10:00"]]))
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json["errors"]}
    assert set(errors) == {"hours.0.0.0", "hours.1.1", "hours.2.0", "hours.3.0.1", "hours.4.0", "hours.6.0.1",
                           "extra_workdays", "makeup_hours.0"}
    assert "Tuesday" in errors["hours.1.1"] and "overlaps" in errors["hours.1.1"]
    assert "24:00" in errors["hours.3.0.1"] and "2026-10-11" in errors["extra_workdays"]

    r = put(api, "bad", full(hours=[[]] * 7))
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["hours"]
    r = put(api, "bad name!", {})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "name"
    r = put(api, "bad", full(hours="weekdays", colour="blue"))
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"hours", "colour"}
    assert stored() == before


def test_a_stored_calendar_overrides_a_builtin_one_until_it_is_deleted(api):
    r = put(api, "default", full(hours=[[["08:00", "20:00"]]] * 7, holiday_country=None))
    assert r.status_code == 201 and r.json["builtin"] is True and r.json["overridden"] is True
    assert days(api, "default", "2026-10-01", "2026-10-01")["2026-10-01"]["working_minutes"] == 12 * 60
    listed = {c["name"]: c for c in api.get(URL, "agent1").json}
    assert listed["default"]["overridden"] is True and listed["default"]["version"] == 1

    r = delete(api, "default", as_user="agent1")
    assert r.status_code == 403 and r.json["code"] == "role_not_allowed"
    assert delete(api, "default").status_code == 204
    r = api.get(f"{URL}/default", "agent1")
    assert r.json["version"] == 0 and r.json["overridden"] is False
    assert days(api, "default", "2026-10-01", "2026-10-01")["2026-10-01"]["kind"] == "holiday"

    before = stored()
    r = delete(api, "default")
    assert r.status_code == 409 and r.json["code"] == "builtin_calendar"
    assert delete(api, "24x7").status_code == 409
    assert delete(api, "nowhere").status_code == 404
    assert stored() == before
    assert [e["action"] for e in api.get("/api/v1/audit", "admin").json["items"][:2]] == [
        "calendar_deleted", "calendar_created"]


def test_a_calendar_the_active_policy_uses_cannot_be_deleted(api):
    assert put(api, "support", full()).status_code == 201
    assert put(api, "night", full(hours=[[["00:00", "08:00"]]] * 7)).status_code == 201
    rule = {"priority": "*", "tier": "*", "first_response": 60, "resolution": 960}
    for policy in ({"calendar": "support", "rules": [rule]},
                   {"calendar": "default", "office_calendar": "support", "rules": [rule]},
                   {"calendar": "default", "rules": [{**rule, "calendar": "support"}]}):
        assert api.post("/api/v1/sla-policy/versions", "admin", json=policy).status_code == 201
        before = stored()
        r = delete(api, "support")
        assert r.status_code == 409 and r.json["code"] == "calendar_in_use", r.json
        assert "active SLA policy" in r.json["title"]
        assert stored() == before

    # an older version may use it: only the active one counts
    assert api.post("/api/v1/sla-policy/versions", "admin",
                    json={"calendar": "default", "rules": [rule]}).status_code == 201
    r = api.request("DELETE", f"{URL}/support", "admin", headers={"If-Match": '"7"'})
    assert r.status_code == 409 and r.json["code"] == "stale_version"
    r = api.request("DELETE", f"{URL}/support", "admin", headers={"If-Match": '"1"'})
    assert r.status_code == 204
    assert api.get(f"{URL}/support", "agent1").status_code == 404
    assert delete(api, "night").status_code == 204
    assert stored()["calendars"] == {}


def test_only_admins_change_calendars_and_customers_read_none(api):
    before = stored()
    for user in ("agent1", "supervisor", "owner", "acme_user"):
        r = put(api, "mine", {}, as_user=user)
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed" and r.json["required_roles"] == ["admin"]
    for url in (URL, f"{URL}/default", f"{URL}/default/days?from=2026-10-01&to=2026-10-02",
                f"{URL}/default/add?start=2026-10-01T00:00:00Z&minutes=1",
                f"{URL}/default/between?start=2026-10-01T00:00:00Z&end=2026-10-02T00:00:00Z"):
        r = api.get(url, "acme_user")
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed", url
        assert "customer" not in r.json["required_roles"] and "agent" in r.json["required_roles"]
        assert api.get(url, "techlead").status_code == 200, url
    assert stored() == before


def test_preview_of_the_national_day_week_2026_with_its_make_up_working_days(api):
    official = holidays.country_holidays("CN", years=2026)
    makeup = {d.isoformat() for d in official.weekend_workdays if date(2026, 9, 14) <= d <= date(2026, 10, 18)}
    assert makeup == {"2026-09-20", "2026-10-10"}  # a Sunday before, a Saturday after
    shown = days(api, "default", "2026-09-14", "2026-10-18")
    assert len(shown) == 35
    kinds = {d: day["kind"] for d, day in shown.items()}
    assert {d for d, k in kinds.items() if k == "makeup_workday"} == makeup
    assert {d for d, k in kinds.items() if k == "holiday"} == {
        d.isoformat() for d in official if date(2026, 9, 14) <= d <= date(2026, 10, 18)}
    assert [kinds[f"2026-10-0{n}"] for n in range(1, 9)] == [
        "holiday", "holiday", "holiday", "weekend", "holiday", "holiday", "holiday", "workday"]
    assert kinds["2026-09-19"] == "weekend" and kinds["2026-10-11"] == "weekend"
    assert shown["2026-10-01"]["holiday_name"] == "National Day" and shown["2026-10-01"]["intervals"] == []

    sunday = shown["2026-09-20"]
    assert sunday["weekday"] == "Sunday" and sunday["working_minutes"] == 480
    assert sunday["intervals"] == [{"start": "2026-09-20T09:00:00+08:00", "end": "2026-09-20T17:00:00+08:00",
                                    "start_utc": "2026-09-20T01:00:00+00:00", "end_utc": "2026-09-20T09:00:00+00:00"}]
    assert shown["2026-10-10"]["weekday"] == "Saturday" and shown["2026-10-10"]["working_minutes"] == 480
    assert shown["2026-10-08"]["intervals"][0]["start"] == "2026-10-08T09:00:00+08:00"

    assert all(day["working_minutes"] == 1440 for day in days(api, "24x7", "2026-10-01", "2026-10-07").values())


def test_preview_of_a_custom_calendar_with_lunch_breaks_changes_and_summer_time(api):
    r = put(api, "shanghai", full(hours=LUNCH_WEEK, removed_holidays=["2026-10-07"],
                                  extra_holidays=["2026-10-09"], extra_workdays=["2026-10-11"],
                                  makeup_hours=[["10:00", "14:00"]]))
    assert r.status_code == 201
    shown = days(api, "shanghai", "2026-10-06", "2026-10-11")
    assert [shown[d]["kind"] for d in sorted(shown)] == [
        "holiday", "workday", "workday", "holiday", "makeup_workday", "makeup_workday"]
    assert shown["2026-10-09"]["holiday_name"] == "extra holiday"
    assert [(i["start"][11:16], i["end"][11:16]) for i in shown["2026-10-07"]["intervals"]] == [
        ("09:00", "12:00"), ("13:00", "18:00")]
    assert shown["2026-10-07"]["working_minutes"] == 8 * 60
    assert [(i["start"][11:16], i["end"][11:16]) for i in shown["2026-10-11"]["intervals"]] == [("10:00", "14:00")]

    assert put(api, "berlin", full(timezone="Europe/Berlin", holiday_country="DE")).status_code == 201
    shown = days(api, "berlin", "2026-10-02", "2026-10-26")
    assert shown["2026-10-03"]["kind"] == "holiday"  # German Unity Day, a Saturday
    assert shown["2026-10-23"]["intervals"][0]["start_utc"] == "2026-10-23T07:00:00+00:00"  # CEST
    assert shown["2026-10-26"]["intervals"][0]["start_utc"] == "2026-10-26T08:00:00+00:00"  # CET
    assert shown["2026-10-26"]["intervals"][0]["start"] == "2026-10-26T09:00:00+01:00"


def test_preview_ranges_are_checked(api):
    url = f"{URL}/default/days"
    r = api.get(url, "agent1", query_string={"from": "2026-10-08", "to": "2026-10-01"})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["query.to"]
    last = (date(2026, 1, 1) + timedelta(days=400)).isoformat()
    r = api.get(url, "agent1", query_string={"from": "2026-01-01", "to": last})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["query.to"]
    assert len(days(api, "default", "2026-01-01", (date(2026, 1, 1) + timedelta(days=399)).isoformat())) == 400
    r = api.get(url, "agent1", query_string={"to": "2026-10-01"})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["query.from"]
    assert api.get(f"{URL}/nowhere/days", "agent1",
                   query_string={"from": "2026-10-01", "to": "2026-10-01"}).status_code == 404


def test_business_time_added_and_between_across_the_holidays(api):
    def add(name, start, minutes):
        r = api.get(f"{URL}/{name}/add", "agent1", query_string={"start": start, "minutes": minutes})
        assert r.status_code == 200, r.json
        return r.json

    def between(name, start, end):
        r = api.get(f"{URL}/{name}/between", "agent1", query_string={"start": start, "end": end})
        assert r.status_code == 200, r.json
        return r.json

    # Wednesday 16:00: one hour that day, then October 1-7 are off (the 4th a Sunday): Thursday the 8th
    due = add("default", "2026-09-30T16:00:00+08:00", 120)
    assert due["due"] == "2026-10-08T02:00:00+00:00" and due["due_local"] == "2026-10-08T10:00:00+08:00"
    assert due["start"] == "2026-09-30T08:00:00+00:00" and due["timezone"] == "Asia/Shanghai"
    # Friday 16:30: half an hour, Saturday off, Sunday the 20th is a make-up working day
    assert add("default", "2026-09-18T08:30:00Z", 60)["due_local"] == "2026-09-20T09:30:00+08:00"
    assert add("24x7", "2026-10-01T10:00:00+08:00", 90)["due_local"] == "2026-10-01T11:30:00+08:00"
    # the end of a working interval, not the next morning
    assert add("default", "2026-10-08T09:00:00+08:00", 480)["due_local"] == "2026-10-08T17:00:00+08:00"

    span = between("default", "2026-09-30T16:00:00+08:00", "2026-10-08T10:00:00+08:00")
    assert span["seconds"] == 7200 and span["minutes"] == 120
    assert between("default", "2026-10-08T10:00:00+08:00", "2026-09-30T16:00:00+08:00")["seconds"] == 0

    assert put(api, "lunch", full(hours=LUNCH_WEEK)).status_code == 201
    assert add("lunch", "2026-10-08T11:30:00+08:00", 60)["due_local"] == "2026-10-08T13:30:00+08:00"
    assert put(api, "lunch", full(hours=[[["09:00", "17:00"]]] * 7), version=1).status_code == 200
    assert add("lunch", "2026-10-08T11:30:00+08:00", 60)["due_local"] == "2026-10-08T12:30:00+08:00"


def test_compute_arguments_are_checked(api):
    def fields(url, **query):
        r = api.get(url, "agent1", query_string=query)
        assert r.status_code == 422, r.json
        return sorted(e["field"] for e in r.json["errors"])

    add, between = f"{URL}/default/add", f"{URL}/default/between"
    assert fields(add, start="2026-10-08T10:00:00", minutes=1) == ["query.start"]  # no offset
    assert fields(add, start="2026-10-08T10:00:00Z", minutes=-1) == ["query.minutes"]
    assert fields(add, start="2026-10-08T10:00:00Z", minutes=365 * 24 * 60 + 1) == ["query.minutes"]
    assert fields(add, start="1900-01-01T00:00:00Z", minutes=1) == ["query.start"]
    assert fields(add) == ["query.minutes", "query.start"]
    assert fields(between, start="2026-10-08T10:00:00Z") == ["query.end"]
    assert fields(between, start="2000-01-01T00:00:00Z", end="2026-01-01T00:00:00Z") == ["query.end"]
    r = api.get(f"{URL}/nowhere/add", "agent1", query_string={"start": "2026-10-08T10:00:00Z", "minutes": 1})
    assert r.status_code == 404 and r.json["resource"] == "calendar"
