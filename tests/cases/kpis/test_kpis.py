"""The KPI API against figures computed by hand on a fixed data set.

The cases are opened and driven through the HTTP API on the real process and the built-in SLA
policy, at known Shanghai wall-clock times (the clock frozen and moved, never slept on). Standard
tier: medium = first response 240, resolution 960 business minutes; urgent = 60 / 480; low =
480 / 1920, on the 09:00-17:00 "default" calendar. VIP, high = 15 / 960 and urgent = 15 (60 off
hours) / 480 on the 24x7 calendar. November 2026: the 16th is a Monday; no holiday. The categories
are ones the process handles as a service order (assign an owner, then analyse and resolve).

| case | customer, channel, priority, category | opened | what happens | owner |
| --- | --- | --- | --- | --- |
| I | ACME web medium - | Tue Oct 20 10:00 | nothing: waits to be classified | - |
| G | ACME chat medium data_problem | Thu Nov 12 10:00 | resolved the same day, confirmed Mon 16 09:30, rated 2 Mon 16 10:00 | consultant1 |
| F | ACME web medium performance_problem | Fri Nov 13 10:00 | classified, assigned; in progress | consultant2 |
| A | ACME web medium data_problem | Mon 16 10:00 | classified 11:00 (1 h), resolved 15:00, confirmed Tue 10:00, rated 5 Tue 11:00 | consultant1 |
| B | ACME phone medium data_problem | Mon 16 16:00 | classified Tue 14:00 (1 h + 5 h: late), resolved Tue 16:00, rejected Wed 10:00, resolved Wed 15:00 (13 h used), confirmed Thu 09:30, rated 3 Thu 10:00 | consultant2 |
| C | VIPCO vip high performance_problem | Tue 17 10:00 | classified 10:10 (10 min), resolved Wed 10:00 (24 h of 16: late), confirmation times out Wed 25 10:00, rated 4 Wed 25 11:00 | consultant1 |
| D | OTHER email low - | Wed 18 09:00 | nothing: waits to be classified (first response due Wed 17:00) | - |
| K | ACME web medium configuration_problem | Thu 19 09:00 | classified 09:30, four solutions rejected, the supervisor closes 11:30 (110 min used), callback: customer not reached | consultant2 |
| E | ACME web urgent configuration_problem | Fri 20 16:30 | classified 16:45 (15 min), asks the customer 16:50, reply Mon 23 10:00 (resolution due Tue 24 09:40) | consultant1 |
| J | VIPCO phone urgent performance_problem | Sun 22 20:00 | off hours: classified 20:30 (30 of 60 min); waits for a consultant (resolution due Mon 04:00) | agent1 (who classified it) |
| H | OTHER web medium - | Mon 23 09:00 | nothing | - |

The KPIs are read on Thu Nov 26 12:00. consultant1 is in team "north", consultant2 in "华东".
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case
from cases.kpis.figures import Period, nearest_rank
from cases.process import timers
from cases.process.models import ProcessInstance
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import DATA, only_task, open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = {"from": "2026-11-16", "to": "2026-11-22"}


def sh(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def kpis(api, as_user: str = "supervisor", **query) -> dict:
    r = api.get("/api/v1/kpis", as_user, query_string={**WEEK, **query})
    assert r.status_code == 200, r.json
    return r.json


def ratio(numerator: int, denominator: int, target: float | None = None) -> dict:
    value = round(numerator / denominator, 4) if denominator else None
    met = None if target is None or value is None else numerator / denominator >= target
    return {"value": value, "numerator": numerator, "denominator": denominator, "target": target, "met": met}


def stat(value, count: int) -> dict:
    return {"value": value, "count": count, "target": None, "met": None}


def backlog(lt_1d=0, d1_3=0, d3_7=0, d7_30=0, gte_30d=0) -> dict:
    buckets = {"lt_1d": lt_1d, "1d_3d": d1_3, "3d_7d": d3_7, "7d_30d": d7_30, "gte_30d": gte_30d}
    return {"value": sum(buckets.values()), "buckets": buckets, "target": None, "met": None}


class Story:
    """Drives the data set's cases; every call happens at the frozen instant ``at``."""

    def __init__(self, api, frozen, customers):
        self.api, self.frozen, self.customers, self.ids = api, frozen, customers, {}

    def at(self, when: datetime) -> Story:
        self.frozen.move_to(when)
        self.api.forget_tokens()  # tokens issued days ago would have expired
        return self

    def open(self, name: str, customer: str, channel: str, priority: str) -> None:
        case = open_case(self.api, customer_id=self.customers[customer].id, channel=channel,
                         priority_hint=priority, title=f"case {name}")
        self.ids[name] = case["id"]

    def classify(self, name: str, category: str, priority: str) -> None:
        step(self.api, self.ids[name], "classify", {"category": category, "priority": priority})

    def assign(self, name: str, owner: str) -> None:
        step(self.api, self.ids[name], "assign", {"owner": owner, "due_at": "2026-12-31T09:00:00+00:00"})

    def resolve(self, name: str, **data) -> None:
        step(self.api, self.ids[name], "resolve", {**DATA["resolve"], **data})

    def confirm(self, name: str, yes: bool = True) -> None:
        data = {"confirmed": True} if yes else {"confirmed": False, "confirmation_comment": "Still broken."}
        step(self.api, self.ids[name], "confirm", data, as_user="acme_user")

    def callback(self, name: str, satisfaction: int | None) -> None:
        data = {"reached": True, "callback_channel": "phone", "satisfaction": satisfaction} \
            if satisfaction is not None else {"reached": False, "callback_channel": "phone"}
        step(self.api, self.ids[name], "callback", data)


@pytest.fixture
def teams(world):
    world.user("consultant1").team = "north"
    world.user("consultant2").team = "华东"
    db.session.commit()
    return world


@pytest.fixture
def dataset(api, teams):
    """The cases of the table above; the clock stays frozen at Thu Nov 26 12:00 for the test."""
    with freeze_time(sh(20, 10, month=10)) as frozen:
        s = Story(api, frozen, teams.customers)
        s.at(sh(20, 10, month=10)).open("I", "ACME", "web", "medium")
        s.at(sh(12, 10)).open("G", "ACME", "chat", "medium")
        s.at(sh(12, 10, 30)).classify("G", "data_problem", "medium")
        s.assign("G", "consultant1")
        s.at(sh(12, 11)).resolve("G")
        s.at(sh(13, 10)).open("F", "ACME", "web", "medium")
        s.at(sh(13, 10, 30)).classify("F", "performance_problem", "medium")
        s.assign("F", "consultant2")
        s.at(sh(16, 9, 30)).confirm("G")
        s.at(sh(16, 10)).callback("G", 2)
        s.open("A", "ACME", "web", "medium")
        s.at(sh(16, 11)).classify("A", "data_problem", "medium")
        s.assign("A", "consultant1")
        s.at(sh(16, 15)).resolve("A")
        s.at(sh(16, 16)).open("B", "ACME", "phone", "medium")
        s.at(sh(17, 10)).confirm("A")
        s.open("C", "VIPCO", "vip", "high")
        s.at(sh(17, 10, 10)).classify("C", "performance_problem", "high")
        s.assign("C", "consultant1")
        s.at(sh(17, 11)).callback("A", 5)
        s.at(sh(17, 14)).classify("B", "data_problem", "medium")
        s.assign("B", "consultant2")
        s.at(sh(17, 16)).resolve("B")
        s.at(sh(18, 9)).open("D", "OTHER", "email", "low")
        s.at(sh(18, 10)).confirm("B", yes=False)
        s.resolve("C")
        s.at(sh(18, 15)).resolve("B")
        s.at(sh(19, 9)).open("K", "ACME", "web", "medium")
        s.at(sh(19, 9, 30)).confirm("B")
        s.classify("K", "configuration_problem", "medium")
        s.assign("K", "consultant2")
        s.at(sh(19, 10)).callback("B", 3)
        for minute in (0, 20, 40, 60):  # four solutions, each rejected ten minutes later
            s.at(sh(19, 10 + minute // 60, minute % 60)).resolve("K")
            s.at(sh(19, 10 + (minute + 10) // 60, (minute + 10) % 60)).confirm("K", yes=False)
        s.at(sh(19, 11, 30))
        step(api, s.ids["K"], "supervisor_review", {"decision": "close", "review_note": "Four rejections."})
        s.at(sh(19, 11, 40)).callback("K", None)
        s.at(sh(20, 16, 30)).open("E", "ACME", "web", "urgent")
        s.at(sh(20, 16, 45)).classify("E", "configuration_problem", "urgent")
        s.assign("E", "consultant1")
        s.at(sh(20, 16, 50)).resolve("E", outcome="need_info", question="Which version?")
        s.at(sh(22, 20)).open("J", "VIPCO", "phone", "urgent")
        s.at(sh(22, 20, 30)).classify("J", "performance_problem", "urgent")
        s.at(sh(23, 9)).open("H", "OTHER", "web", "medium")
        r = s.at(sh(23, 10)).api.post(f"/api/v1/cases/{s.ids['E']}/messages/customer_reply", "acme_user",
                                      json={"payload": {"text": "7.2"}})
        assert r.status_code == 200, r.json
        s.at(sh(25, 10, 1))
        instance = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == s.ids["C"]))
        assert timers.fire_instance(instance, sh(25, 10, 1)) == ["confirm_timeout"]  # C's confirmation
        s.at(sh(25, 11)).callback("C", 4)
        s.at(sh(26, 12))
        yield s.ids
    api.forget_tokens()


def test_the_week_in_total(api, dataset):
    report = kpis(api)
    assert (report["from"], report["to"], report["timezone"], report["group_by"]) == \
        ("2026-11-16", "2026-11-22", "Asia/Shanghai", "none")
    assert datetime.fromisoformat(report["backlog_at"]) == sh(23, 0)  # the end of Sunday the 22nd
    assert datetime.fromisoformat(report["computed_at"]) == sh(26, 12)
    assert report["groups"] == []
    totals = report["totals"]
    assert totals["cases"] == {"value": 7, "target": None, "met": None}  # A B C D E J K
    # met first responses, business seconds: C 600, E 900, J 1800, K 1800, A 3600, B 21600
    assert totals["first_response_average_seconds"] == stat(5050.0, 6)
    assert totals["first_response_p90_seconds"] == stat(21600, 6)  # rank ceil(0.9 * 6) = 6
    # in time: A C E J K; late: B, and D (never answered, due Wed 17:00)
    assert totals["first_response_within_sla"] == ratio(5, 7, 0.95)
    # in time: A (5 h) B (13 h) K (110 min); late: C (met), D E J (running past due)
    assert totals["resolution_within_sla"] == ratio(3, 7, 0.8)
    # resolved: A B (confirmed) C (timed out); K closed unconfirmed; D E J open past due
    assert totals["resolution_rate"] == ratio(3, 7, 0.9)
    assert totals["reopen_rate"] == ratio(2, 4)  # B and K rejected; A B C K were judged
    # scores given in the week: G 2 (opened earlier), A 5, B 3; C's 4 came on the 25th
    assert totals["csat"] == ratio(1, 3, 0.85)
    assert totals["satisfaction_average"] == stat(3.3333, 3)
    assert totals["feedback_volume"] == {"value": 3, "target": 23.3, "met": False}  # 7 days of 100 / 30
    # open on Monday 00:00: J 4 h, E 2.3 d, C 5.6 d (timed out on the 25th), D 4.6 d, F 9.6 d, I 33.6 d
    assert totals["backlog"] == backlog(lt_1d=1, d1_3=1, d3_7=2, d7_30=1, gte_30d=1)
    # G's score of 2 (Mon 16 10:00) opened complaint X: not a support case, its own promises: nobody
    # acknowledged it by Mon 14:00, nor resolved it by Wed 10:00 (960 business minutes)
    assert totals["complaints"] == {"value": 1, "target": None, "met": None}
    assert totals["complaint_acknowledged_within_sla"] == ratio(0, 1)
    assert totals["complaint_resolved_within_sla"] == ratio(0, 1)

    # the counters beside the facts are not read: corrupting them changes nothing
    db.session.execute(update(Case).values(reopen_count=0, satisfaction=5))
    db.session.commit()
    assert kpis(api)["totals"] == totals


def test_by_agent_by_team_and_filtered(api, dataset, manager, world):
    groups = {g["key"]: g["kpis"] for g in kpis(api, "manager_user", group_by="agent")["groups"]}
    assert list(groups) == ["agent1", "complaints", "consultant1", "consultant2", None]
    a1, c1, c2, nobody = groups["agent1"], groups["consultant1"], groups["consultant2"], groups[None]
    # complaint X belongs to the complaint officer its acknowledgement went to (no support case)
    officer = groups["complaints"]
    assert (officer["cases"]["value"], officer["complaints"]["value"]) == (0, 1)
    assert officer["complaint_acknowledged_within_sla"] == ratio(0, 1) and nobody["complaints"]["value"] == 0
    # J waits for its service order's owner: the agent who classified it owns it until then
    assert [g["cases"]["value"] for g in (a1, c1, c2, nobody)] == [1, 3, 2, 1]  # J | A C E | B K | D
    assert a1["first_response_within_sla"] == ratio(1, 1, 0.95) and a1["backlog"] == backlog(lt_1d=1)
    assert (c1["first_response_average_seconds"], c1["first_response_p90_seconds"]) == (stat(1700.0, 3),
                                                                                         stat(3600, 3))
    assert c1["first_response_within_sla"] == ratio(3, 3, 0.95) and c1["first_response_within_sla"]["met"]
    assert c1["resolution_within_sla"] == ratio(1, 3, 0.8)
    assert c1["resolution_rate"] == ratio(2, 3, 0.9)
    assert c1["reopen_rate"] == ratio(0, 2)
    assert (c1["csat"], c1["satisfaction_average"]) == (ratio(1, 2, 0.85), stat(3.5, 2))  # G 2, A 5
    assert c1["feedback_volume"] == {"value": 2, "target": None, "met": None}  # the target is for all
    assert c1["backlog"] == backlog(d1_3=1, d3_7=1)
    assert (c2["first_response_average_seconds"], c2["first_response_p90_seconds"]) == (stat(11700.0, 2),
                                                                                         stat(21600, 2))
    assert c2["resolution_within_sla"] == ratio(2, 2, 0.8) and c2["resolution_within_sla"]["met"]
    assert (c2["resolution_rate"], c2["reopen_rate"]) == (ratio(1, 2, 0.9), ratio(2, 2))
    assert (c2["csat"], c2["backlog"]) == (ratio(0, 1, 0.85), backlog(d7_30=1))
    assert nobody["first_response_within_sla"] == ratio(0, 1, 0.95)  # D never answered (not classified)
    assert (nobody["reopen_rate"], nobody["csat"]) == (ratio(0, 0), ratio(0, 0, 0.85))
    assert nobody["satisfaction_average"] == stat(None, 0)
    assert nobody["backlog"] == backlog(d3_7=1, gte_30d=1)  # D, I: neither classified yet

    by_team = kpis(api, group_by="team")["groups"]
    assert [(g["key"], g["kpis"]["cases"]["value"]) for g in by_team] == [("north", 3), ("华东", 2), (None, 2)]

    vip = kpis(api, tier="vip")["totals"]  # C and J
    assert vip["cases"]["value"] == 2
    assert vip["first_response_average_seconds"] == stat(1200.0, 2)
    assert vip["first_response_within_sla"] == ratio(2, 2, 0.95) and vip["first_response_within_sla"]["met"]
    assert (vip["resolution_within_sla"], vip["resolution_rate"]) == (ratio(0, 2, 0.8), ratio(1, 2, 0.9))
    assert vip["csat"] == ratio(0, 0, 0.85)  # C was rated after the week
    assert vip["backlog"] == backlog(lt_1d=1, d3_7=1)

    # one team's cases by category, in the domain's order; F counts only in the backlog
    east = kpis(api, team="华东", group_by="category")
    assert east["filters"] == {"team": "华东"}
    assert [(g["key"], g["kpis"]["cases"]["value"], g["kpis"]["backlog"]["value"]) for g in east["groups"]] == \
        [("data_problem", 1, 0), ("configuration_problem", 1, 0), ("performance_problem", 0, 1)]
    assert kpis(api, agent="consultant2", channel="phone")["totals"]["cases"]["value"] == 1  # B
    # one customer's cases: VIPCO's C and J, ACME's A B E K (D is OTHER's)
    vipco = kpis(api, customer_id=world.customers["VIPCO"].id)
    assert vipco["filters"] == {"customer_id": world.customers["VIPCO"].id}
    assert vipco["totals"]["cases"]["value"] == 2
    assert kpis(api, customer_id=world.customers["ACME"].id)["totals"]["cases"]["value"] == 4


def test_the_next_week_and_an_empty_month(api, dataset):
    week = kpis(api, **{"from": "2026-11-23", "to": "2026-11-29"})
    assert datetime.fromisoformat(week["backlog_at"]) == sh(26, 12)  # the week has not ended
    totals = week["totals"]
    assert totals["cases"]["value"] == 1  # H, never answered
    assert totals["first_response_average_seconds"] == stat(None, 0)
    assert totals["first_response_within_sla"] == ratio(0, 1, 0.95)
    assert (totals["csat"], totals["satisfaction_average"]) == (ratio(1, 1, 0.85), stat(4.0, 1))  # C's 4
    assert totals["csat"]["met"] is True
    # open now: H 3.1 d, J 3.7 d, E 5.8 d, D 8.1 d, F 13 d, I 37 d
    assert totals["backlog"] == backlog(d3_7=3, d7_30=2, gte_30d=1)

    month = kpis(api, **{"from": "2026-01-01", "to": "2026-01-31"}, group_by="priority")
    assert month["groups"] == []
    empty = month["totals"]
    assert empty["cases"]["value"] == 0
    assert empty["first_response_p90_seconds"] == stat(None, 0)
    assert all(empty[name] == ratio(0, 0, target) for name, target in (
        ("first_response_within_sla", 0.95), ("resolution_within_sla", 0.8), ("resolution_rate", 0.9),
        ("reopen_rate", None), ("self_service", None), ("csat", 0.85)))
    assert empty["feedback_volume"] == {"value": 0, "target": 100.0, "met": False}
    assert empty["backlog"] == backlog()
    quarter = kpis(api, **{"from": "2026-01-01", "to": "2026-03-31"})["totals"]["feedback_volume"]
    assert quarter["target"] == 300.0


def test_the_csv_export(api, dataset):
    r = api.get("/api/v1/kpis.csv", "supervisor", query_string={**WEEK, "group_by": "team"})
    assert r.status_code == 200
    assert r.mimetype == "text/csv" and r.mimetype_params["charset"] == "utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="kpis_2026-11-16_2026-11-22_team.csv"'
    assert r.data.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [(row["scope"], row["group"], row["cases"]) for row in rows] == \
        [("group", "north", "3"), ("group", "华东", "2"), ("group", "", "2"), ("total", "", "7")]
    east, total = rows[1], rows[3]
    assert (east["group_by"], east["from"], east["to"]) == ("team", "2026-11-16", "2026-11-22")
    assert (east["first_response_average_seconds"], east["first_response_p90_seconds"]) == ("11700.0", "21600")
    assert (east["reopen_rate"], east["reopen_rate_numerator"], east["reopen_rate_denominator"]) == ("1.0", "2", "2")
    assert (east["resolution_within_sla_target"], east["resolution_within_sla_met"]) == ("0.8", "true")
    assert (east["feedback_volume_target"], east["backlog_7d_30d"]) == ("", "1")
    assert (total["first_response_within_sla"], total["first_response_within_sla_met"]) == ("0.7143", "false")
    assert (total["csat"], total["satisfaction_average"], total["feedback_volume"]) == ("0.3333", "3.3333", "3")
    assert (total["feedback_volume_target"], total["backlog"], total["backlog_gte_30d"]) == ("23.3", "6", "1")
    assert rows[2]["reopen_rate"] == "" and rows[2]["reopen_rate_met"] == ""  # nothing to count


@pytest.fixture
def manager(world):
    accounts.create_user("manager_user", PASSWORD, ["manager"], hash_method=FAST_HASH)


def test_who_may_read_kpis(api, manager):
    for user in ("supervisor", "manager_user", "owner", "admin"):
        for path in ("/api/v1/kpis", "/api/v1/kpis.csv"):
            assert api.get(path, user, query_string=WEEK).status_code == 200, (path, user)
    for user in ("agent1", "consultant1", "acme_user"):
        for path in ("/api/v1/kpis", "/api/v1/kpis.csv"):
            r = api.get(path, user, query_string=WEEK)
            assert r.status_code == 403 and r.json["code"] == "role_not_allowed", (path, user)


@pytest.mark.parametrize("query,field", [
    ({"to": "2026-11-22"}, "query.from"),
    ({"from": "2026-11-16"}, "query.to"),
    ({"from": "2026-13-01", "to": "2026-11-22"}, "query.from"),
    ({"from": "2026-11-23", "to": "2026-11-22"}, "query.to"),
    ({"from": "2023-11-23", "to": "2026-11-23"}, "query.to"),  # more than three years
    ({"from": "2026-11-16", "to": "9999-12-31"}, "query.to"),
    ({"from": "0001-01-01", "to": "2026-11-22"}, "query.from"),
    ({**WEEK, "group_by": "owner"}, "query.group_by"),
    ({**WEEK, "tier": "gold"}, "query.tier"),
    ({**WEEK, "priority": "asap"}, "query.priority"),
    ({**WEEK, "agent": "nobody"}, "query.agent"),
    ({**WEEK, "customer_id": "999999"}, "query.customer_id"),
    ({**WEEK, "customer_id": "HUAXIN"}, "query.customer_id"),
    ({**WEEK, "customer": "1"}, "query.customer"),  # not a filter: refused, never ignored
])
def test_bad_input_is_named(api, query, field):
    for path in ("/api/v1/kpis", "/api/v1/kpis.csv"):
        r = api.get(path, "supervisor", query_string=query)
        assert r.status_code == 422 and r.json["code"] == "validation_failed", (path, r.json)
        assert [e["field"] for e in r.json["errors"]] == [field], r.json


def test_three_years_is_the_longest_period(api):
    r = api.get("/api/v1/kpis", "supervisor", query_string={"from": "2023-11-23", "to": "2026-11-22"})
    assert r.status_code == 200 and r.json["totals"]["cases"]["value"] == 0


def test_nearest_rank_and_the_monthly_feedback_target():
    assert [nearest_rank(list(range(1, n + 1)), 90) for n in (1, 5, 6, 10, 11)] == [1, 5, 6, 9, 10]
    assert nearest_rank([], 90) is None
    assert Period(date(2026, 1, 1), date(2026, 3, 31)).feedback_target() == 300
    assert Period(date(2028, 2, 15), date(2028, 3, 15)).feedback_target() == Fraction(100 * 15, 29) + Fraction(
        100 * 15, 31)  # half of a leap February, half of March


def test_surveys_and_follow_up_calls_count_in_csat_and_feedback_volume(api, world):
    """Another week, computed by hand. Mon Dec 7: P and Q (ACME, general consultations) are answered,
    confirmed and called back online (a survey link each); P's survey is answered through the link
    with 5 (Mon 14:00), Q's through the API with 1 (Tue 09:30), which opens a complaint X. OTHER's
    deployment on Nov 1 is recorded on Mon: its 1-month follow-up was due on Dec 1, so the call opens
    at once and is rated 4 on Tue 10:00. Read on Wed Dec 9 12:00: two support cases (X and the
    follow-up programme are not support cases); three scores, two of them 4 or 5."""
    from tests.api.test_complaints import survey_token

    week = {"from": "2026-12-07", "to": "2026-12-13"}
    with freeze_time(datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)) as frozen:
        ids = {}
        for name, minute in (("P", 0), ("Q", 30)):
            frozen.move_to(datetime(2026, 12, 7, 10, minute, tzinfo=SHANGHAI))
            case = open_case(api, customer_id=world.customers["ACME"].id, contact_email="li@acme.example",
                             title=f"case {name}")
            ids[name] = case["id"]
            step(api, case["id"], "classify", {"category": "general_consultation", "priority": "medium"})
            step(api, case["id"], "answer_consultation")
            step(api, case["id"], "confirm", {"confirmed": True}, as_user="acme_user")
            callback = only_task(api, case["id"])
            step(api, case["id"], "callback", {"reached": True, "callback_channel": "online"},
                 as_user=callback["assignee"])
        r = api.request("PUT", f"/api/v1/customers/{world.customers['OTHER'].id}/deployment", "admin",
                        json={"deployed_on": "2026-11-01"})
        programme = r.json["follow_up_case"]["id"]
        frozen.move_to(datetime(2026, 12, 7, 14, tzinfo=SHANGHAI))
        assert api.post(f"/survey/{survey_token(ids['P'])}", data={"score": "5"}).status_code == 200
        frozen.move_to(datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI))
        api.forget_tokens()
        [q_survey] = api.get(f"/api/v1/surveys?case_id={ids['Q']}", "acme_user").json
        assert api.post(f"/api/v1/surveys/{q_survey['id']}/answer", "acme_user", json={"score": 1}).status_code == 200
        frozen.move_to(datetime(2026, 12, 8, 10, tzinfo=SHANGHAI))
        call = only_task(api, programme)
        step(api, programme, "follow_up_call_1", {"reached": True, "callback_channel": "phone", "satisfaction": 4},
             as_user=call["assignee"])
        frozen.move_to(datetime(2026, 12, 9, 12, tzinfo=SHANGHAI))
        api.forget_tokens()
        report = kpis(api, **week)
        by_category = {g["key"]: g["kpis"] for g in kpis(api, **week, group_by="category")["groups"]}
    totals = report["totals"]
    assert totals["cases"]["value"] == 2  # P Q: not the complaint X, not the follow-up programme
    assert totals["resolution_rate"] == ratio(2, 2, 0.9)
    assert totals["csat"] == ratio(2, 3, 0.85)  # P 5 (link), follow-up 4 (call); Q 1 (API)
    assert totals["satisfaction_average"] == stat(3.3333, 3)
    assert totals["feedback_volume"] == {"value": 3, "target": 22.6, "met": False}  # 7 days of 100 / 31
    assert totals["backlog"] == backlog()  # X and the programme are open, but are not support cases
    assert list(by_category) == ["general_consultation", "complaint", None]
    assert by_category["general_consultation"]["csat"] == ratio(1, 2, 0.85)
    # Q's complaint X, opened Tue 09:30: not acknowledged by Tue 13:30 (late); resolution due Thu 09:30
    complaints = by_category["complaint"]
    assert (complaints["cases"]["value"], complaints["complaints"]["value"]) == (0, 1)
    assert complaints["complaint_acknowledged_within_sla"] == ratio(0, 1)
    assert complaints["complaint_resolved_within_sla"] == ratio(0, 0)
    assert (by_category[None]["cases"]["value"], by_category[None]["csat"]) == (0, ratio(1, 1, 0.85))
