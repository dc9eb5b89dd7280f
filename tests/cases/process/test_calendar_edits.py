"""A calendar edited while cases run on it, and a policy re-applied in bulk, through the API.

Standard tier, priority medium on the built-in policy: resolution 960 business minutes on the
"default" calendar (Asia/Shanghai, 09:00-17:00 on working days), warning at 75 % (720),
manager 120 minutes after the breach. November 2026: the 20th is a Friday, the 23rd a Monday.
Clocks are frozen and moved; timers fire through the scheduler's own function.
"""
from __future__ import annotations

from datetime import timezone

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import CaseEvent
from cases.process.models import Timer
from cases.sla.models import Escalation
from tests.api.dbstate import db_snapshot
from tests.cases.sla.test_sla import at, fire, kinds, move, sh, target
from tests.helpers import calendar_body, open_case, send_message, step

URL = "/api/v1/calendars"
WEEKDAYS = [[["09:00", "17:00"]]] * 5


@pytest.fixture
def acme(world):
    return world.customers["ACME"].id


def patch(api, name, body, version=None):
    headers = {} if version is None else {"If-Match": f'"{version}"'}
    r = api.request("PATCH", f"{URL}/{name}", "admin", json=body, headers=headers)
    assert r.status_code in (200, 201), r.json
    return r.json


def running_case(api, acme, frozen, when):
    """A medium case opened at ``when``, classified half an hour later (first response met)."""
    move(api, frozen, when)
    case = open_case(api, customer_id=acme, priority_hint="medium")
    move(api, frozen, when.replace(minute=30))
    step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
    return case


def rungs(api, case_id, kind="resolution"):
    found = target(api, case_id, kind)
    return tuple(None if found[k] is None else at(found[k]) for k in ("warning_at", "due_at", "manager_at"))


def alarms(case_id):
    return [t.due_at for t in db.session.scalars(select(Timer).where(Timer.case_id == case_id, Timer.alarm.is_(True)))]


def recomputed(case_id) -> list[dict]:
    return [e.data for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "sla_recomputed").order_by(CaseEvent.id))]


def queue(api):
    r = api.get("/api/v1/escalations", "supervisor")
    assert r.status_code == 200, r.json
    return [(e["number"], e["target"]["kind"], e["target"]["status"]) for e in r.json["items"]]


def utc(moment) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def test_a_holiday_declared_ahead_moves_the_rungs_and_none_fires_on_it(api, acme):
    with freeze_time(sh(23, 10)) as frozen:
        case = running_case(api, acme, frozen, sh(23, 10))
        # Monday 7 h + Tuesday 8 h + Wednesday 1 h
        assert rungs(api, case["id"]) == (sh(24, 14), sh(25, 10), sh(25, 12))
        move(api, frozen, sh(23, 11))
        edited = patch(api, "default", {"extra_holidays": ["2026-11-24"]})  # Tuesday off
        assert edited["moved"] == {"cases": 1, "targets": 1} and edited["overridden"] is True
        # 60 minutes used on Monday stay used; 900 left: Monday 6 h, Wednesday 8 h, Thursday 1 h
        assert rungs(api, case["id"]) == (sh(25, 14), sh(26, 10), sh(26, 12))
        assert target(api, case["id"], "resolution")["elapsed_seconds"] == 60 * 60
        assert alarms(case["id"]) == [sh(25, 14)]  # the process alarm moved with the earliest rung
        [event] = recomputed(case["id"])
        assert event["reason"] == "calendar_edited" and event["calendar"] == "default"
        assert event["changes"] == [{
            "kind": "resolution", "cycle": 1, "calendar": "default", "old_calendar": "default",
            "target_minutes": 960, "old_target_minutes": 960,
            "old_warning_at": utc(sh(24, 14)), "warning_at": utc(sh(25, 14)),
            "old_due_at": utc(sh(25, 10)), "due_at": utc(sh(26, 10)),
            "old_manager_at": utc(sh(25, 12)), "manager_at": utc(sh(26, 12))}]

        assert fire(api, sh(24, 16), frozen) == {}  # the holiday: the old warning moment passes quietly
        assert fire(api, sh(25, 10, 30), frozen) == {}  # the old due moment: no breach
        assert queue(api) == []
        assert target(api, case["id"], "resolution")["status"] == "running"
        assert fire(api, sh(25, 14, 1), frozen)  # the warning, on a working day
        assert queue(api) == [(case["number"], "resolution", "at_risk")]
        fire(api, sh(26, 10, 1), frozen)
        assert queue(api) == [(case["number"], "resolution", "breached")]
        breached = target(api, case["id"], "resolution")
    api.forget_tokens()
    assert at(breached["breached_at"]) == sh(26, 10)
    fired = db.session.execute(select(Escalation.level, Escalation.at).where(Escalation.case_id == case["id"])
                               .order_by(Escalation.id)).all()
    assert [tuple(row) for row in fired] == [
        ("warning", sh(25, 14, 1)), ("breach", sh(26, 10, 1))]


def test_a_holiday_taken_back_brings_the_rungs_forward(api, acme):
    with freeze_time(sh(20, 12)) as frozen:
        patch(api, "default", {"extra_holidays": ["2026-11-24"]})
        case = running_case(api, acme, frozen, sh(23, 10))
        assert rungs(api, case["id"]) == (sh(25, 14), sh(26, 10), sh(26, 12))
        move(api, frozen, sh(23, 11))
        edited = patch(api, "default", {"extra_holidays": []}, version=1)
        assert edited["moved"]["cases"] == 1 and edited["version"] == 2
        assert rungs(api, case["id"]) == (sh(24, 14), sh(25, 10), sh(25, 12))
        assert alarms(case["id"]) == [sh(24, 14)]
        assert fire(api, sh(24, 14, 1), frozen)  # the warning now falls on Tuesday
    api.forget_tokens()
    assert recomputed(case["id"])[-1]["changes"][0]["old_due_at"] == utc(sh(26, 10))
    assert "sla_warning" in kinds(case["id"])


def test_saturday_hours_added_count_from_the_edit_and_make_no_breach(api, acme):
    with freeze_time(sh(20, 16)) as frozen:
        case = running_case(api, acme, frozen, sh(20, 16))  # Friday 16:00: 60 minutes this week
        assert rungs(api, case["id"]) == (sh(24, 12), sh(24, 16), sh(25, 10))
        move(api, frozen, sh(21, 10))  # Saturday 10:00
        week = calendar_body(hours=WEEKDAYS + [[["09:00", "17:00"]], []])
        r = api.request("GET", f"{URL}/default", "admin")
        edited = api.request("PUT", f"{URL}/default", "admin", json=week, headers={"If-Match": r.headers["ETag"]})
        assert edited.status_code == 201, edited.json
        # Saturday 09:00-10:00 passed before the edit: not counted. 900 left from 10:00:
        # Saturday 7 h, Monday 8 h; warning at 720: Saturday 7 h + Monday 4 h
        resolution = target(api, case["id"], "resolution")
        assert resolution["elapsed_seconds"] == 60 * 60 and resolution["status"] == "running"
        assert rungs(api, case["id"]) == (sh(23, 13), sh(23, 17), sh(24, 11))
        assert queue(api) == []
        move(api, frozen, sh(21, 16))
        assert target(api, case["id"], "resolution")["elapsed_seconds"] == 420 * 60  # 60 + the new hours
    api.forget_tokens()


def test_hours_cut_push_the_rungs_out(api, acme):
    with freeze_time(sh(23, 10)) as frozen:
        case = running_case(api, acme, frozen, sh(23, 10))
        move(api, frozen, sh(23, 11))
        patch(api, "default", {"hours": [[["09:00", "12:00"]]] * 5 + [[], []]})  # mornings only
        # 60 used; 900 left from Monday 11:00: 1 h Monday, then 3 h a day: Tue, Wed, Thu, Fri (12 h),
        # Monday 30th 2 h -> 11:00; warning: 660 left -> 1 h + 3 h x 3 + 1 h -> Friday 10:00
        assert rungs(api, case["id"]) == (sh(27, 10), sh(30, 11), sh(1, 10, month=12))
        assert fire(api, sh(25, 10, 1), frozen) == {}  # the old due moment
    api.forget_tokens()


def test_today_declared_off_keeps_the_morning_worked(api, acme):
    with freeze_time(sh(23, 9)) as frozen:
        case = running_case(api, acme, frozen, sh(23, 9))
        assert rungs(api, case["id"]) == (sh(24, 13), sh(24, 17), sh(25, 11))
        move(api, frozen, sh(23, 15))  # Monday 15:00: 360 minutes used
        patch(api, "default", {"extra_holidays": ["2026-11-23"]})
        resolution = target(api, case["id"], "resolution")
        assert resolution["elapsed_seconds"] == 360 * 60  # not erased
        # 600 left from Monday 15:00, Monday now off: Tuesday 8 h, Wednesday 2 h
        assert rungs(api, case["id"]) == (sh(24, 15), sh(25, 11), sh(25, 13))
        move(api, frozen, sh(23, 16, 30))
        assert target(api, case["id"], "resolution")["elapsed_seconds"] == 360 * 60  # the holiday counts nothing
        assert fire(api, sh(24, 13, 1), frozen) == {}  # the old warning moment
        move(api, frozen, sh(24, 10))
        assert target(api, case["id"], "resolution")["elapsed_seconds"] == 420 * 60
    api.forget_tokens()


def test_a_paused_case_keeps_its_time_and_resumes_on_the_new_calendar(api, acme):
    with freeze_time(sh(19, 10)) as frozen:  # Thursday
        case = open_case(api, customer_id=acme, priority_hint="medium")
        move(api, frozen, sh(19, 11))
        step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
        step(api, case["id"], "assign", {"owner": "consultant1", "due_at": "2026-11-30T09:00:00+00:00"},
             as_user="agent1")
        move(api, frozen, sh(20, 15))  # 780 minutes used, then the case waits for the customer
        step(api, case["id"], "resolve", {"analysis": "?", "outcome": "need_info", "question": "Which version?"})
        move(api, frozen, sh(21, 10))  # Saturday: Monday declared off while the case waits
        edited = patch(api, "default", {"extra_holidays": ["2026-11-23"]})
        assert edited["moved"] == {"cases": 0, "targets": 0}  # a paused clock has no instants to move
        assert recomputed(case["id"]) == []
        paused = target(api, case["id"], "resolution")
        assert (paused["status"], paused["elapsed_seconds"], paused["due_at"]) == ("paused", 780 * 60, None)
        move(api, frozen, sh(23, 11))  # the customer answers on the holiday
        send_message(api, case["id"], "customer_reply", {"text": "7.2"}, as_user="acme_user")
        # 180 minutes left, from Tuesday 09:00; the new next update (480) runs from Tuesday too
        assert rungs(api, case["id"])[1] == sh(24, 12)
        assert rungs(api, case["id"], "next_update")[1] == sh(24, 17)
        assert target(api, case["id"], "resolution")["elapsed_seconds"] == 780 * 60
    api.forget_tokens()


def test_a_breach_before_the_edit_stays_and_no_rung_fires_twice(api, acme):
    with freeze_time(sh(23, 9)) as frozen:
        case = open_case(api, customer_id=acme, priority_hint="medium")  # first response due 13:00
        fire(api, sh(23, 13, 1), frozen)
        first = target(api, case["id"], "first_response")
        assert first["status"] == "breached"
        move(api, frozen, sh(23, 13, 30))
        patch(api, "default", {"extra_holidays": ["2026-11-23"]})  # today off, after the breach
        first = target(api, case["id"], "first_response")
        assert first["status"] == "breached" and at(first["breached_at"]) == sh(23, 13)
        assert first["elapsed_seconds"] == 270 * 60
        fire(api, sh(24, 9, 1), frozen)  # the breach moved to the next working moment: not fired again
    api.forget_tokens()
    levels = db.session.scalars(select(Escalation.level).where(Escalation.case_id == case["id"])
                                .order_by(Escalation.id)).all()
    assert levels.count("warning") == levels.count("breach") == 1


def test_the_scheduler_does_not_fire_a_rung_whose_moment_moved(api, acme):
    with freeze_time(sh(23, 10)) as frozen:
        case = running_case(api, acme, frozen, sh(23, 10))
        move(api, frozen, sh(23, 11))
        patch(api, "default", {"extra_holidays": ["2026-11-24"]})
        # a scheduler that read the timer row before the edit still holds the old moment
        row = db.session.scalar(select(Timer).where(Timer.case_id == case["id"], Timer.alarm.is_(True)))
        row.due_at = sh(24, 14)
        db.session.commit()
        fire(api, sh(24, 14, 1), frozen)
        assert db.session.scalars(select(Escalation).where(Escalation.case_id == case["id"])).all() == []
        assert alarms(case["id"]) == [sh(25, 14)]  # the alarm is back on the new moment
    api.forget_tokens()


def test_a_policy_reapplied_in_bulk_keeps_the_time_used(api, acme):
    with freeze_time(sh(23, 10)) as frozen:
        case = running_case(api, acme, frozen, sh(23, 10))
        move(api, frozen, sh(23, 15))  # 300 minutes used on "default"
        rule = {"priority": "*", "tier": "*", "first_response": 60, "resolution": 1920}
        assert api.post("/api/v1/sla-policy/versions", "admin",
                        json={"calendar": "default", "rules": [rule]}).status_code == 201
        r = api.post("/api/v1/sla-policy/reapply", "supervisor", json={"reason": "new contract terms"})
        assert r.status_code == 403
        r = api.post("/api/v1/sla-policy/reapply", "admin", json={"reason": "new contract terms"})
        assert r.status_code == 200 and r.json == {"cases": 1, "targets": 1}, r.json
        resolution = target(api, case["id"], "resolution")
        assert resolution["target_minutes"] == 1920 and resolution["elapsed_seconds"] == 300 * 60
        # 1620 left from Monday 15:00: Monday 2 h, Tuesday to Thursday 24 h, Friday 1 h
        assert at(resolution["due_at"]) == sh(27, 10)
        event = recomputed(case["id"])[-1]
        assert event["reason"] == "policy_reapplied" and event["note"] == "new contract terms"
        assert event["changes"][0]["old_due_at"] == utc(sh(25, 10))
        assert alarms(case["id"]) == [min(rungs(api, case["id"]))]

        # a tighter rule already spent: due now, on the next working moment, never in the past
        rule = {"priority": "*", "tier": "*", "first_response": 60, "resolution": 240}
        api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "default", "rules": [rule]})
        move(api, frozen, sh(23, 16))
        api.post("/api/v1/sla-policy/reapply", "admin", json={"reason": "tighter"})
        resolution = target(api, case["id"], "resolution")
        assert resolution["breached_at"] is None and at(resolution["due_at"]) == sh(23, 16)
    api.forget_tokens()


def test_bad_calendar_bodies_are_refused_and_change_nothing(api):
    before = db_snapshot()
    r = api.request("PUT", f"{URL}/office", "admin", data='{"hours": []}', content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.json["code"] == "unsupported_media_type"
    assert r.json["errors"][0]["field"] == "Content-Type"
    r = api.request("PATCH", f"{URL}/default", "admin", data="timezone=UTC", content_type="text/plain")
    assert r.status_code == 415
    r = api.request("PUT", f"{URL}/office", "admin", json={"timezone": "Europe/Berlin"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"hours", "holiday_country", "extra_holidays",
                                                      "removed_holidays", "extra_workdays", "makeup_hours"}
    for zone in ("localtime", "Factory", "posix/Asia/Shanghai"):
        r = api.request("PUT", f"{URL}/office", "admin", json=calendar_body(timezone=zone))
        assert r.status_code == 422 and r.json["errors"] == [
            {"field": "timezone", "message": f"{zone!r} depends on the server it runs on; name a zone such as "
                                             "Asia/Shanghai"}], zone
    sparse = calendar_body(hours=[[["09:00", "09:01"]]] + [[]] * 6, holiday_country=None)
    r = api.request("PUT", f"{URL}/sparse", "admin", json=sparse)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "hours"
    assert "52 working minutes" in r.json["errors"][0]["message"]
    r = api.request("PATCH", f"{URL}/nowhere", "admin", json={"timezone": "UTC"})
    assert r.status_code == 404
    # the default calendar carries the active policy's targets: hours too thin for 1920 minutes a year
    r = api.request("PATCH", f"{URL}/default", "admin", json={"hours": [[["09:00", "09:05"]]] + [[]] * 6})
    assert r.status_code == 422 and any("rule" in e["message"] for e in r.json["errors"]), r.json
    assert db_snapshot() == before


def test_patch_keeps_what_is_not_sent_from_the_calendar_being_edited(api):
    berlin = calendar_body(timezone="Europe/Berlin", holiday_country="DE", hours=[[["08:00", "16:00"]]] * 5 + [[], []])
    assert api.request("PUT", f"{URL}/berlin", "admin", json=berlin).status_code == 201
    r = api.request("PATCH", f"{URL}/berlin", "admin", json={"extra_holidays": ["2026-12-31"]})
    assert r.status_code == 428
    r = api.request("PATCH", f"{URL}/berlin", "admin", json={"extra_holidays": ["2026-12-31"]},
                    headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.json
    assert (r.json["timezone"], r.json["holiday_country"], r.json["hours"][0]) == ("Europe/Berlin", "DE",
                                                                                   [["08:00", "16:00"]])
    assert r.json["extra_holidays"] == ["2026-12-31"] and r.json["version"] == 2
    audit = api.get("/api/v1/audit", "admin").json["items"][0]
    assert audit["action"] == "calendar_changed" and audit["details"]["fields"] == ["extra_holidays"]


def test_a_sparse_calendar_is_refused_at_policy_publication_and_add_is_bounded(api):
    thin = calendar_body(hours=[[["09:00", "10:00"]]] + [[]] * 6, holiday_country=None)  # 52 hours a year
    assert api.request("PUT", f"{URL}/thin", "admin", json=thin).status_code == 201
    rule = {"priority": "*", "tier": "*", "first_response": 60, "resolution": 960 * 5}
    r = api.post("/api/v1/sla-policy/versions", "admin", json={"calendar": "thin", "rules": [rule]})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["rules.0.resolution"]
    r = api.get(f"{URL}/thin/add", "agent1", query_string={"start": "2026-10-01T00:00:00Z", "minutes": 365 * 24 * 60})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "minutes"


def test_the_day_preview_on_a_daylight_saving_gap_is_never_negative(api):
    berlin = calendar_body(timezone="Europe/Berlin", holiday_country=None,
                           hours=[[["09:00", "17:00"]]] * 6 + [[["02:30", "03:00"], ["09:00", "10:00"]]])
    assert api.request("PUT", f"{URL}/berlin", "admin", json=berlin).status_code == 201
    r = api.get(f"{URL}/berlin/days", "agent1", query_string={"from": "2027-03-28", "to": "2027-03-28"})
    [day] = r.json["days"]
    assert day["working_minutes"] == 60 and len(day["intervals"]) == 1  # 02:30-03:00 does not exist that night
