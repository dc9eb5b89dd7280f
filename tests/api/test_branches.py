"""Every branch of the support process driven through HTTP from intake to a closed case: routing
by category, the VIP channel, HQ bug reports and the fixed version, advice with the customer's
data, repair orders, paid services and the requirement evaluation (a called process). The complaint
branch runs the complaint process as a linked case: tests/api/test_complaints.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.process import assignment, timers
from cases.sla.models import SlaPause
from tests.helpers import DATA, get_case, only_task, open_case, send_message, step


def classified(api, world, category: str, customer: str = "ACME", **fields) -> int:
    case = open_case(api, customer_id=world.customers[customer].id, **fields)
    step(api, case["id"], "classify", {"category": category, "priority": "medium"})
    return case["id"]


def finish(api, case_id: int, customer_user: str = "acme_user") -> dict:
    step(api, case_id, "confirm", {"confirmed": True}, as_user=customer_user)
    step(api, case_id, "callback")
    closed = get_case(api, case_id)
    assert closed["status"] == "closed" and closed["stage"] == "closed"
    return closed


def steps_taken(case: dict) -> list[str]:
    return [e["data"]["element"] for e in case["history"] if e["kind"] == "task_completed"]


def values(api, task: dict, as_user: str) -> dict:
    r = api.get(f"/api/v1/tasks/{task['id']}", as_user)
    assert r.status_code == 200, r.json
    return r.json["values"]


# -- the short branches ----------------------------------------------------------------------------
@pytest.mark.parametrize(("category", "element", "stage", "lane"), [
    ("general_consultation", "answer_consultation", "answering", "agent"),
    ("operation_problem", "retrain_user", "training", "agent"),
    ("hardware_repair", "repair_order", "repairing", "service_consultant"),
])
def test_a_short_branch_runs_from_intake_to_closed(api, world, category, element, stage, lane):
    case_id = classified(api, world, category)
    task = only_task(api, case_id)
    # the branch's first step goes to a user of its lane, in turn, who owns the case from now on;
    # the policy's resolution target is its due date
    assert task["element_id"] == element and world.user(task["assignee"]).has_role(lane)
    case = get_case(api, case_id)
    assert case["stage"] == stage and case["owner"] == task["assignee"]
    resolution = [t for t in api.get(f"/api/v1/cases/{case_id}/sla", "supervisor").json["sla"]["targets"]
                  if t["kind"] == "resolution"][0]
    assert case["due_at"] == resolution["due_at"]
    rules = [e["data"]["rule"] for e in case["history"] if e["kind"] == "case_updated" and "rule" in e["data"]]
    assert rules == [f"the assignee of {element}", "the SLA policy's resolution target"]
    step(api, case_id, element)
    closed = finish(api, case_id)
    assert steps_taken(closed) == ["classify", element, "confirm", "callback"]
    assert closed["solution"]  # what was done is on the case
    assert closed["owner"] == task["assignee"]


def test_the_route_is_explained_by_the_classification(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id, title="How to export the ledger")
    assert values(api, only_task(api, case["id"]), "agent1")["category"] == "operation_problem"
    step(api, case["id"], "classify", DATA["classify"] | {"category": "operation_problem"})
    after = get_case(api, case["id"])
    assert after["classification_rule"]["rule"] == "R11" and after["category"] == "operation_problem"
    assert only_task(api, case["id"])["element_id"] == "retrain_user"


def test_a_rejected_answer_is_dispatched_as_a_service_order(api, world):
    case_id = classified(api, world, "general_consultation")
    step(api, case_id, "answer_consultation")
    step(api, case_id, "confirm", {"confirmed": False, "confirmation_comment": "That menu does not exist"},
         as_user="acme_user")
    assert only_task(api, case_id)["element_id"] == "assign"
    step(api, case_id, "assign")
    step(api, case_id, "resolve")
    closed = finish(api, case_id)
    assert closed["owner"] == "consultant1" and closed["reopen_count"] == 1


# -- the service order ---------------------------------------------------------------------------
@pytest.mark.parametrize("category", ["data_problem", "configuration_problem", "performance_problem"])
def test_technical_problems_are_service_orders_with_the_service_form(api, world, category):
    case_id = classified(api, world, category)
    assert only_task(api, case_id)["element_id"] == "assign"
    step(api, case_id, "assign")
    on_site = DATA["resolve"] | {"service_mode": "on_site", "appointment_start": "2030-01-02T09:00:00+08:00",
                                 "appointment_end": "2030-01-02T11:00:00+08:00", "time_spent_minutes": 150}
    step(api, case_id, "resolve", on_site)
    closed = finish(api, case_id)
    [form] = [e["data"]["data"] for e in closed["history"]
              if e["kind"] == "task_completed" and e["data"]["element"] == "resolve"]
    assert form["service_mode"] == "on_site" and form["time_spent_minutes"] == 150
    assert closed["solution"] == DATA["resolve"]["solution"]


def test_a_vip_customer_goes_straight_to_their_dedicated_consultant(api, world):
    vip = world.customers["VIPCO"].id
    assignment.set_dedicated_consultant(vip, world.user("consultant2"))
    db.session.commit()
    case_id = classified(api, world, "data_problem", customer="VIPCO")
    resolve = only_task(api, case_id)
    assert resolve["element_id"] == "resolve" and resolve["assignee"] == "consultant2"  # no queue, no assign
    case = get_case(api, case_id)
    assert case["owner"] == "consultant2" and case["due_at"]
    assert [e for e in case["history"] if e["kind"] == "case_updated" and e["data"].get("by_task")
            == "dedicated_consultant"][0]["data"]["changes"]["owner"] == [None, "consultant2"]
    step(api, case_id, "resolve", as_user="consultant2")
    assert finish(api, case_id, "vip_user")["owner"] == "consultant2"


def test_a_vip_customer_without_a_dedicated_consultant_and_others_join_the_queue(api, world):
    vip_case = classified(api, world, "data_problem", customer="VIPCO")
    assert only_task(api, vip_case)["element_id"] == "assign"
    assignment.set_dedicated_consultant(world.customers["ACME"].id, world.user("consultant2"))
    db.session.commit()
    standard = classified(api, world, "data_problem")  # not VIP: the dedicated consultant does not apply
    assert only_task(api, standard)["element_id"] == "assign"


# -- software bug: HQ, the fixed version ---------------------------------------------------------
def test_a_software_bug_is_reported_to_hq_and_closed_after_the_fixed_version(api, world, app_ctx):
    case_id = classified(api, world, "software_bug")
    waiting = get_case(api, case_id)
    assert waiting["stage"] == "waiting:fixed_version" and waiting["tasks"] == []
    assert "hq_reported" in [e["kind"] for e in waiting["history"]]
    # the clock waits for the third party
    db.session.rollback()
    [pause] = db.session.scalars(select(SlaPause).where(SlaPause.case_id == case_id)).all()
    assert pause.reason == "waiting:fixed_version" and pause.ended_at is None

    # only staff announce the release, with a version
    r = api.post(f"/api/v1/cases/{case_id}/messages/fixed_version", "acme_user", json={"payload": {"version": "1"}})
    assert r.status_code == 403, r.json
    r = api.post(f"/api/v1/cases/{case_id}/messages/fixed_version", "consultant1", json={"payload": {"notes": "x"}})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"payload.version"}
    assert get_case(api, case_id)["stage"] == "waiting:fixed_version"

    after = send_message(api, case_id, "fixed_version", {"version": "7.2.1", "notes": "Fixes the report query."},
                         as_user="consultant1")
    assert after["stage"] == "delivering_update"
    deliver = only_task(api, case_id)
    assert deliver["element_id"] == "deliver_update"
    assert values(api, deliver, "consultant1")["installed_version"] == "7.2.1"
    # the message was used up: a second one finds nothing waiting
    r = api.post(f"/api/v1/cases/{case_id}/messages/fixed_version", "consultant1", json={"payload": {"version": "8"}})
    assert r.status_code == 409 and r.json["code"] == "not_waiting"

    step(api, case_id, "deliver_update")
    closed = finish(api, case_id)
    assert closed["solution"] == "Installed version 7.2.1"
    assert steps_taken(closed) == ["classify", "deliver_update", "confirm", "callback"]
    kinds = [e["kind"] for e in closed["history"]]
    assert kinds.index("hq_reported") < kinds.index("fixed_version_received")


def test_a_message_for_an_unknown_case_is_a_clear_404(api, world):
    for name, payload in (("fixed_version", {"version": "7.2.1"}), ("requirement_acceptance", {"accepted": True})):
        r = api.post(f"/api/v1/cases/999999/messages/{name}", "consultant1", json={"payload": payload})
        assert r.status_code == 404 and r.json["code"] == "not_found", r.json
        assert r.json["title"] == "case 999999 not found" and (r.json["resource"], r.json["id"]) == ("case", 999999)


def test_a_message_nobody_waits_for_is_a_409(api, world):
    case_id = classified(api, world, "data_problem")
    r = api.post(f"/api/v1/cases/{case_id}/messages/fixed_version", "consultant1", json={"payload": {"version": "1"}})
    assert r.status_code == 409 and r.json["code"] == "not_waiting"


# -- environment: advice, the customer's data -----------------------------------------------------
def test_environment_advice_waits_for_the_customers_data(api, world):
    case_id = classified(api, world, "environment_problem")
    step(api, case_id, "advise", {"advice_outcome": "need_data", "data_request": "Send a copy of the database"})
    assert get_case(api, case_id)["stage"] == "waiting:customer_data"
    after = send_message(api, case_id, "customer_data", {"text": "db.bak uploaded"}, as_user="acme_user")
    assert after["stage"] == "advising"
    # the second round starts empty of the first round's answers (what was asked stays in the history)
    again = values(api, only_task(api, case_id), "consultant1")
    assert "data_request" not in again and "advice_outcome" not in again
    step(api, case_id, "advise")
    closed = finish(api, case_id)
    assert steps_taken(closed) == ["classify", "advise", "advise", "confirm", "callback"]
    assert closed["solution"] == DATA["advise"]["advice"]


# -- special service -----------------------------------------------------------------------------
def test_a_paid_special_service_accepted_becomes_a_service_order(api, world):
    case_id = classified(api, world, "special_service")
    assert get_case(api, case_id)["stage"] == "negotiating"
    r = api.post(f"/api/v1/tasks/{only_task(api, case_id)['id']}/complete", "agent1",
                 json={"version": 1, "data": DATA["negotiate_service"]})
    assert r.status_code == 403  # the business manager's lane
    step(api, case_id, "negotiate_service")
    step(api, case_id, "assign")
    step(api, case_id, "resolve")
    closed = finish(api, case_id)
    assert steps_taken(closed) == ["classify", "negotiate_service", "assign", "resolve", "confirm", "callback"]


def test_a_paid_special_service_declined_closes_with_the_reason(api, world):
    case_id = classified(api, world, "special_service")
    r = api.post(f"/api/v1/tasks/{only_task(api, case_id)['id']}/complete", "bizmanager",
                 json={"version": 1, "data": DATA["negotiate_service"] | {"accepted": False}})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"data.decline_reason"}
    step(api, case_id, "negotiate_service", DATA["negotiate_service"] | {"accepted": False,
                                                                           "decline_reason": "No budget this year"})
    assert only_task(api, case_id)["element_id"] == "callback"
    step(api, case_id, "callback")
    closed = get_case(api, case_id)
    assert closed["status"] == "closed"
    assert steps_taken(closed) == ["classify", "negotiate_service", "callback"]


# -- new requirement: the requirement evaluation ---------------------------------------------------
def evaluated(api, world, **assessment) -> int:
    case_id = classified(api, world, "new_requirement")
    contact = only_task(api, case_id)
    assert contact["element_id"] == "contact_requester" and get_case(api, case_id)["stage"] == "requirement_contact"
    step(api, case_id, "contact_requester")
    assess = only_task(api, case_id)
    assert assess["element_id"] == "assess_requirement"
    assert values(api, assess, "techlead") == {"other_module_price": 0}
    step(api, case_id, "assess_requirement", DATA["assess_requirement"] | assessment)
    return case_id


def test_a_requirement_accepted_is_scheduled_for_delivery(api, world):
    case_id = evaluated(api, world)
    waiting = get_case(api, case_id)
    assert waiting["stage"] == "waiting:requirement_acceptance" and waiting["tasks"] == []
    r = api.post(f"/api/v1/cases/{case_id}/messages/requirement_acceptance", "acme_user",
                 json={"payload": {"accepted": "yes"}})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"payload.accepted"}
    send_message(api, case_id, "requirement_acceptance", {"accepted": True}, as_user="acme_user")
    schedule = only_task(api, case_id)
    assert schedule["element_id"] == "schedule_delivery"
    step(api, case_id, "schedule_delivery")
    assert only_task(api, case_id)["element_id"] == "callback"
    step(api, case_id, "callback")
    closed = get_case(api, case_id)
    assert closed["status"] == "closed"
    assert steps_taken(closed) == ["classify", "contact_requester", "assess_requirement", "schedule_delivery",
                                   "callback"]


def test_a_requirement_declined_closes_with_the_reason(api, world):
    case_id = evaluated(api, world)
    r = api.post(f"/api/v1/cases/{case_id}/messages/requirement_acceptance", "acme_user",
                 json={"payload": {"accepted": False}})
    assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"payload.reason"}
    send_message(api, case_id, "requirement_acceptance", {"accepted": False, "reason": "Too expensive"},
                 as_user="acme_user")
    assert only_task(api, case_id)["element_id"] == "callback"
    step(api, case_id, "callback")
    closed = get_case(api, case_id)
    assert closed["status"] == "closed"
    [received] = [e for e in closed["history"] if e["kind"] == "message_received"]
    assert received["data"]["payload"] == {"accepted": False, "reason": "Too expensive"}


def test_a_requirement_unanswered_for_14_days_times_out(api, world, app_ctx):
    start = datetime.now(timezone.utc)
    with freeze_time(start) as clock:
        case_id = evaluated(api, world)
        clock.tick(timedelta(days=13, hours=23))
        timers.fire_due()
        api.forget_tokens()  # tokens live 12 hours
        assert get_case(api, case_id)["stage"] == "waiting:requirement_acceptance"
        clock.tick(timedelta(hours=1, seconds=1))
        timers.fire_due()
        api.forget_tokens()
        after = get_case(api, case_id)
    assert after["stage"] == "callback"
    assert only_task(api, case_id)["element_id"] == "callback"
    r = api.post(f"/api/v1/cases/{case_id}/messages/requirement_acceptance", "acme_user",
                 json={"payload": {"accepted": True}})
    assert r.status_code == 409 and r.json["code"] == "not_waiting"  # too late


def test_a_requirement_the_product_already_supports_needs_no_acceptance(api, world):
    case_id = evaluated(api, world, already_supported=True)
    assert only_task(api, case_id)["element_id"] == "callback"
    assert get_case(api, case_id)["stage"] == "callback"


def test_a_service_order_re_judged_as_a_requirement_goes_to_the_business_manager(api, world):
    case_id = classified(api, world, "data_problem")
    step(api, case_id, "assign")
    step(api, case_id, "resolve", {"analysis": "The figures are right; they want a new breakdown.",
                                   "outcome": "new_requirement"})
    case = get_case(api, case_id)
    assert case["category"] == "new_requirement" and case["stage"] == "requirement_contact"
    assert only_task(api, case_id)["element_id"] == "contact_requester"
