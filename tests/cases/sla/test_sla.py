"""The SLA clock through the API, on the real process and the built-in policy.

Standard tier, priority medium: first response 240, next update 480, resolution 960 business
minutes on the "default" calendar (Asia/Shanghai, 09:00-17:00 on working days). 2026-11-19 is a
Thursday. The clock is frozen and moved, never slept on; timers fire through the scheduler's
own function.
"""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import CaseEvent, UserRole
from cases.outbox import notifications
from cases.outbox.models import Notification
from cases.process import timers
from cases.process.models import ProcessInstance, Timer
from cases.sla.models import Escalation
from tests.api.dbstate import db_snapshot
from tests.cases.outbox.test_notifications import settings_for
from tests.helpers import complete, get_case, only_task, open_case, step
from tests.smtp_server import LocalSmtp

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """An instant given in Shanghai wall-clock time, in November 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def clock(api, case_id, as_user="supervisor") -> dict:
    r = api.get(f"/api/v1/cases/{case_id}/sla", as_user)
    assert r.status_code == 200, r.json
    return r.json["sla"]


def target(api, case_id, kind, cycle=1) -> dict:
    [found] = [t for t in clock(api, case_id)["targets"] if t["kind"] == kind and t["cycle"] == cycle]
    return found


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SHANGHAI)


def kinds(case_id) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.id)))


def move(api, frozen, when: datetime) -> None:
    """Move the frozen clock; tokens issued days ago would have expired, so log in afresh."""
    frozen.move_to(when)
    api.forget_tokens()


def fire(api, when: datetime, frozen) -> dict:
    move(api, frozen, when)
    return timers.fire_due(when)


@pytest.fixture
def acme(world):
    return world.customers["ACME"].id


def test_targets_are_business_time_from_the_start(api, acme):
    with freeze_time(sh(20, 16)):  # Friday 16:00: one working hour left this week
        case = open_case(api, customer_id=acme, priority_hint="medium")
        first, resolution = target(api, case["id"], "first_response"), target(api, case["id"], "resolution")
    api.forget_tokens()  # the tokens were issued at the frozen time
    assert (first["target_minutes"], resolution["target_minutes"]) == (240, 960)
    assert first["calendar"] == resolution["calendar"] == "default"
    # 60 minutes on Friday, the rest from Monday 09:00
    assert at(first["warning_at"]) == sh(23, 11)  # 75 % = 180 minutes
    assert at(first["due_at"]) == sh(23, 12)
    assert at(first["manager_at"]) == sh(23, 14)  # 120 business minutes after the breach
    assert at(resolution["due_at"]) == sh(24, 16)  # 1 h Friday + 8 h Monday + 7 h Tuesday
    assert first["status"] == resolution["status"] == "running"
    # the ladder's alarm is the earliest rung: a timer row the scheduler reads
    alarms = db.session.scalars(select(Timer).where(Timer.case_id == case["id"])).all()
    assert [(t.element_id, t.due_at, t.alarm) for t in alarms] == [("classify_sla", sh(23, 11), True)]


def test_the_first_response_is_met_by_the_classifier_and_the_wait_for_the_customer_pauses(api, acme):
    with freeze_time(sh(19, 10)) as frozen:  # Thursday 10:00
        case = open_case(api, customer_id=acme, priority_hint="medium")
        move(api, frozen, sh(19, 11))
        step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
        first = target(api, case["id"], "first_response")
        assert (first["status"], first["elapsed_seconds"], at(first["met_at"])) == ("met", 3600, sh(19, 11))
        step(api, case["id"], "assign", {"owner": "consultant1", "due_at": "2026-11-30T09:00:00+00:00"},
             as_user="agent1")
        move(api, frozen, sh(20, 15))  # Friday 15:00: 7 h Thursday + 6 h Friday = 780 minutes used
        step(api, case["id"], "resolve", {"analysis": "?", "outcome": "need_info", "question": "Which version?"})
        paused = clock(api, case["id"])
        resolution = target(api, case["id"], "resolution")
        assert paused["paused"] and paused["pauses"][0]["reason"] == "waiting:customer_reply"
        assert (resolution["status"], resolution["elapsed_seconds"], resolution["due_at"]) == ("paused", 780 * 60, None)
        assert resolution["remaining_seconds"] == 180 * 60

        move(api, frozen, sh(23, 11))  # Monday 11:00: the weekend cost nothing
        assert target(api, case["id"], "resolution")["elapsed_seconds"] == 780 * 60
        r = api.post(f"/api/v1/cases/{case['id']}/messages/customer_reply", "acme_user",
                     json={"payload": {"text": "7.2"}})
        assert r.status_code == 200, r.json
        resumed = clock(api, case["id"])
        resolution = target(api, case["id"], "resolution")
        update = target(api, case["id"], "next_update")
    api.forget_tokens()  # the tokens were issued at the frozen time
    assert not resumed["paused"]
    assert [(at(p["started_at"]), at(p["ended_at"])) for p in resumed["pauses"]] == [(sh(20, 15), sh(23, 11))]
    # 780 of 960 minutes used: past the 75 % warning line, with the 180 minutes left
    assert resolution["status"] == "at_risk" and at(resolution["due_at"]) == sh(23, 14)
    assert update["target_minutes"] == 480 and at(update["due_at"]) == sh(24, 11)  # 6 h Monday + 2 h Tuesday
    assert kinds(case["id"]).count("sla_paused") == kinds(case["id"]).count("sla_resumed") == 1


def test_confirmation_pauses_and_the_callback_meets_the_resolution(api, acme):
    with freeze_time(sh(19, 10)) as frozen:
        case = open_case(api, customer_id=acme, priority_hint="medium")
        for element in ("classify", "assign"):
            step(api, case["id"], element, {"category": "data_problem", "priority": "medium"}
                 if element == "classify" else None)
        move(api, frozen, sh(19, 16))
        step(api, case["id"], "resolve")  # 6 business hours used
        assert target(api, case["id"], "resolution")["status"] == "paused"
        move(api, frozen, sh(25, 10))  # the customer confirms days later
        step(api, case["id"], "confirm")
        resolution = target(api, case["id"], "resolution")
    api.forget_tokens()  # the tokens were issued at the frozen time
    assert (resolution["status"], resolution["elapsed_seconds"]) == ("met", 6 * 3600)
    assert at(resolution["met_at"]) == sh(25, 10) and resolution["breached_at"] is None
    assert get_case(api, case["id"])["stage"] == "callback"
    # no SLA alarm any more; only the callback's deadline (2 working days: Tuesday 10:00)
    rows = db.session.execute(select(Timer.element_id, Timer.alarm, Timer.due_at).where(Timer.case_id == case["id"])).all()
    assert rows == [("callback_overdue", False, sh(27, 10))]


def test_a_priority_change_recomputes_from_the_start(api, acme):
    with freeze_time(sh(19, 10)) as frozen:
        case = open_case(api, customer_id=acme, priority_hint="medium")
        move(api, frozen, sh(19, 11))
        step(api, case["id"], "classify", {"category": "data_problem", "priority": "urgent"})
        resolution = target(api, case["id"], "resolution")
    api.forget_tokens()  # the tokens were issued at the frozen time
    assert resolution["target_minutes"] == 480  # urgent: 8 business hours from the start
    assert at(resolution["due_at"]) == sh(20, 10)  # 7 h Thursday from 10:00 + 1 h Friday
    [event] = [e for e in get_case(api, case["id"])["history"] if e["kind"] == "sla_recomputed"]
    assert event["data"]["reason"] == "priority_changed" and event["data"]["priority"] == "urgent"
    assert {c["kind"]: c["old_target_minutes"] for c in event["data"]["changes"]} == {
        "first_response": 240, "resolution": 960}


@pytest.fixture
def ladder_staff(world):
    """Addresses for the people on the ladder, a manager, and teams."""
    manager = world.user("admin")
    db.session.add(UserRole(user_id=manager.id, role="manager"))
    for name, email in (("consultant1", "c1@example.test"), ("supervisor", "sup@example.test"),
                        ("admin", "boss@example.test")):
        world.user(name).email = email
    world.user("consultant1").team = "north"
    db.session.commit()
    return world


def test_warning_breach_and_manager_rungs_each_fire_once_and_mail_the_right_people(api, ladder_staff):
    smtp = LocalSmtp().start()
    try:
        with freeze_time(sh(23, 9)) as frozen:  # Monday 09:00
            case = open_case(api, customer_id=ladder_staff.customers["ACME"].id, priority_hint="medium")
            step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
            step(api, case["id"], "assign", {"owner": "consultant1", "due_at": "2026-11-30T09:00:00+00:00"},
                 as_user="agent1")
            # resolution: 960 minutes -> due Tuesday 17:00; warning at 720 -> Tuesday 13:00;
            # manager 120 business minutes after the breach -> Wednesday 11:00
            resolution = target(api, case["id"], "resolution")
            assert (at(resolution["warning_at"]), at(resolution["due_at"]), at(resolution["manager_at"])) == \
                (sh(24, 13), sh(24, 17), sh(25, 11))
            assert fire(api, sh(24, 12, 59), frozen) == {}

            assert fire(api, sh(24, 13, 1), frozen)  # the warning rung
            queue = api.get("/api/v1/escalations", "supervisor").json
            assert [(e["number"], e["target"]["kind"], e["target"]["status"]) for e in queue["items"]] == \
                [(case["number"], "resolution", "at_risk")]
            assert [e["level"] for e in queue["items"][0]["escalations"]] == ["warning"]
            assert fire(api, sh(24, 13, 2), frozen) == {}  # nothing twice

            fire(api, sh(24, 17, 1), frozen)  # the breach rung
            fire(api, sh(25, 11, 1), frozen)  # the manager rung: nobody acknowledged the breach
            fire(api, sh(25, 16), frozen)
            assert notifications.deliver_pending(settings=settings_for(smtp.port)) == 3
        api.forget_tokens()  # the tokens were issued at the frozen time
        levels = db.session.execute(select(Escalation.level, Escalation.notified)
                                    .where(Escalation.case_id == case["id"]).order_by(Escalation.id)).all()
        assert [tuple(row) for row in levels] == [("warning", ["consultant1"]), ("breach", ["supervisor"]),
                                                  ("manager", ["admin"])]
        mails = {m.rcpt_tos[0]: m.message for m in smtp.messages()}
        assert set(mails) == {"c1@example.test", "sup@example.test", "boss@example.test"}
        assert mails["sup@example.test"]["X-Caseflow-Kind"] == "sla_breach"
        assert "2026-11-24 17:00 (Asia/Shanghai)" in mails["boss@example.test"].get_content()
        history = kinds(case["id"])
        assert [k for k in history if k.startswith("sla_") and k in ("sla_warning", "sla_breach", "sla_manager")] == \
            ["sla_warning", "sla_breach", "sla_manager"]
        breached = target(api, case["id"], "resolution")
        assert breached["status"] == "breached" and at(breached["breached_at"]) == sh(24, 17)
        # the ladder is spent: the alarm is parked, no timer row remains
        assert db.session.scalars(select(Timer).where(Timer.case_id == case["id"])).all() == []
    finally:
        smtp.stop()


def test_an_acknowledged_breach_is_not_taken_to_the_manager(api, ladder_staff):
    with freeze_time(sh(23, 9)) as frozen:
        case = open_case(api, customer_id=ladder_staff.customers["ACME"].id, priority_hint="medium")
        fire(api, sh(23, 13, 1), frozen)  # first response (240 min) breached at 13:00, warning at 12:00
        r = api.post(f"/api/v1/cases/{case['id']}/acknowledge", "supervisor", json={"note": "on it"})
        assert r.status_code == 200, r.json
        fire(api, sh(23, 17), frozen)  # past the manager moment (15:00)
        levels = db.session.scalars(select(Escalation.level).where(Escalation.case_id == case["id"])
                                    .order_by(Escalation.id)).all()
    api.forget_tokens()  # the tokens were issued at the frozen time
    assert levels == ["warning", "breach"]
    assert "escalation_acknowledged" in kinds(case["id"])
    # with no owner yet, the owner's warning went to the supervisors
    warning = db.session.scalar(select(Escalation).where(Escalation.level == "warning"))
    assert warning.notified == ["supervisor"]
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_the_queue_filters_by_status_priority_tier_and_team(api, ladder_staff):
    customers = ladder_staff.customers
    with freeze_time(sh(23, 9)) as frozen:
        north = open_case(api, customer_id=customers["ACME"].id, priority_hint="medium")
        step(api, north["id"], "classify", {"category": "data_problem", "priority": "medium"})
        step(api, north["id"], "assign", {"owner": "consultant1", "due_at": "2026-11-30T09:00:00+00:00"},
             as_user="agent1")
        vip = open_case(api, customer_id=customers["VIPCO"].id, priority_hint="low")
        fire(api, sh(23, 9, 25), frozen)  # VIP, low: first response 30 minutes -> warning at 09:22:30

        def numbers(**query):
            r = api.get("/api/v1/escalations", "supervisor", query_string=query)
            assert r.status_code == 200, r.json
            return [e["number"] for e in r.json["items"]]

        assert numbers() == [vip["number"]]
        assert numbers(status="at_risk", tier="vip") == [vip["number"]]
        assert numbers(status="breached") == []
        move(api, frozen, sh(24, 14))
        assert numbers(team="north") == [north["number"]]
        assert numbers(priority="low", status="breached") == [vip["number"]]
        assert numbers(tier="standard") == [north["number"]]
        r = api.get("/api/v1/escalations", "supervisor", query_string={"tier": "gold"})
        assert r.status_code == 422 and "tier" in str(r.json)


    api.forget_tokens()  # the tokens were issued at the frozen time
def test_supervisor_actions_are_events_and_only_for_supervisors_and_managers(api, ladder_staff):
    with freeze_time(sh(23, 9)) as frozen:
        case = open_case(api, customer_id=ladder_staff.customers["ACME"].id, priority_hint="medium")
        cid = case["id"]
        step(api, cid, "classify", {"category": "data_problem", "priority": "medium"})
        step(api, cid, "assign", {"owner": "consultant1", "due_at": "2026-11-30T09:00:00+00:00"}, as_user="agent1")
        move(api, frozen, sh(23, 10))
        actions = {
            "reassign": {"username": "consultant2", "reason": "consultant1 is ill"},
            "take-over": {"reason": "VIP escalation"},
            "sla/extend": {"kind": "resolution", "minutes": 120, "reason": "waiting for HQ"},
            "sla/reapply": {"reason": "new policy"},
            "priority": {"priority": "high", "reason": "customer called"},
            "comments": {"text": "We are on it", "public": True},
            "acknowledge": {"note": "seen"},
        }
        before = db_snapshot()
        for path, body in actions.items():
            for user in ("agent1", "consultant1", "acme_user", "techlead"):  # admin is a manager here: allowed
                r = api.post(f"/api/v1/cases/{cid}/{path}", user, json=body)
                assert r.status_code == 403 and r.json["code"] == "role_not_allowed", (path, user)
        assert db_snapshot() == before

        due = at(target(api, cid, "resolution")["due_at"])
        r = api.post(f"/api/v1/cases/{cid}/reassign", "supervisor", json=actions["reassign"])
        assert r.status_code == 200 and r.json["owner"] == "consultant2"
        assert only_task(api, cid)["assignee"] == "consultant2"
        r = api.post(f"/api/v1/cases/{cid}/sla/extend", "supervisor", json=actions["sla/extend"])
        assert r.status_code == 200, r.json
        extended = [t for t in r.json["sla"]["targets"] if t["kind"] == "resolution"][0]
        assert extended["extended_minutes"] == 120 and at(extended["due_at"]) == sh(25, 11)  # two more working hours
        assert due == sh(24, 17)
        r = api.post(f"/api/v1/cases/{cid}/take-over", "supervisor", json=actions["take-over"])
        assert r.status_code == 200 and r.json["owner"] == "supervisor"
        r = api.post(f"/api/v1/cases/{cid}/comments", "supervisor", json=actions["comments"])
        assert r.status_code == 200
        r = api.post(f"/api/v1/cases/{cid}/priority", "supervisor", json=actions["priority"])
        assert r.status_code == 200 and r.json["priority"] == "high"
        # the supervisor who took over completes the resolution
        complete(api, only_task(api, cid), "supervisor")
    api.forget_tokens()  # the tokens were issued at the frozen time
    history = get_case(api, cid)["history"]
    by_kind = {e["kind"]: e for e in history}
    assert by_kind["case_reassigned"]["data"]["reason"] == "consultant1 is ill"
    assert by_kind["case_reassigned"]["actor"] == "supervisor"
    assert by_kind["sla_extended"]["data"]["reason"] == "waiting for HQ"
    assert by_kind["case_taken_over"]["data"]["owner"] == "supervisor"
    assert by_kind["comment"]["data"]["text"] == "We are on it"
    customer_view = get_case(api, cid, "acme_user")["history"]
    assert "We are on it" in str(customer_view) and "consultant1 is ill" not in str(customer_view)


def test_bad_supervisor_input_is_named_and_changes_nothing(api, acme):
    case = open_case(api, customer_id=acme, priority_hint="medium")
    cid = case["id"]
    before = db_snapshot()
    cases = [
        ("reassign", {"username": "nobody"}, 422, "username"),
        ("reassign", {"username": "acme_user"}, 422, "username"),
        ("reassign", {"username": "bizmanager"}, 422, "username"),  # may not classify
        ("sla/extend", {"kind": "lunch", "minutes": 5, "reason": "x"}, 422, "kind"),
        ("sla/extend", {"kind": "resolution", "minutes": "5", "reason": "x"}, 422, "minutes"),
        ("sla/extend", {"kind": "resolution", "minutes": 0, "reason": "x"}, 422, "minutes"),
        ("sla/extend", {"kind": "next_update", "minutes": 5, "reason": "x"}, 409, "next_update"),
        ("priority", {"priority": "asap", "reason": "x"}, 422, "priority"),
        ("comments", {"public": True}, 422, "text"),
    ]
    for path, body, status, named in cases:
        r = api.post(f"/api/v1/cases/{cid}/{path}", "supervisor", json=body)
        assert r.status_code == status and named in str(r.json), (path, body, r.json)
    assert api.post("/api/v1/cases/999999/take-over", "supervisor", json={}).status_code == 404
    assert db_snapshot() == before


def test_customers_read_only_their_own_clock(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    assert api.get(f"/api/v1/cases/{case['id']}/sla", "acme_user").status_code == 200
    # the case's detail carries the same clock, for staff and for the customer
    for user in ("agent1", "acme_user"):
        detail = get_case(api, case["id"], user)["sla"]
        assert [t["kind"] for t in detail["targets"]] == ["first_response", "resolution"]
        same = clock(api, case["id"], user)
        assert [(t["kind"], t["due_at"], t["status"]) for t in detail["targets"]] == \
            [(t["kind"], t["due_at"], t["status"]) for t in same["targets"]]
    assert api.get(f"/api/v1/cases/{case['id']}/sla", "other_user").status_code == 404
    assert api.get("/api/v1/escalations", "acme_user").status_code == 403


def test_an_alarm_overdue_for_weeks_fires_once_not_once_per_missed_period(api, acme):
    """After downtime the ladder's cycle timer is refreshed once: its rungs escalate once, and
    the engine does not replay a firing for every period it missed."""
    with freeze_time(sh(2, 9)) as frozen:  # Monday 2 November
        case = open_case(api, customer_id=acme, priority_hint="medium")
        fire(api, sh(30, 10), frozen)  # four weeks later
        api.forget_tokens()
    levels = db.session.scalars(select(Escalation.level).where(Escalation.case_id == case["id"])
                                .order_by(Escalation.id)).all()
    assert levels == ["warning", "breach", "manager"] * 2  # first response, then resolution
    state = json.loads(db.session.scalar(select(ProcessInstance.state).where(ProcessInstance.case_id == case["id"])))
    escalations_run = [t for t in state["tasks"].values() if t["task_spec"] == "classify_escalate"]
    assert len(escalations_run) == 1
