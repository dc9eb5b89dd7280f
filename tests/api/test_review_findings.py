"""Inputs and paths found in review: each once gave a 500, leaked staff data or lost a timer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import CaseEvent
from cases.process import incidents, timers
from cases.process.models import ProcessInstance, Timer
from tests.helpers import get_case, only_task, open_case, step


@pytest.mark.parametrize("body", [
    '{"username": "a", "password": "b", "x": ' + "9" * 5000 + "}",
    '{"username": "a", "password": NaN}',
    '{"username": "a", "password": Infinity}',
])
def test_unparseable_numbers_are_invalid_json_even_before_login(api, body):
    r = api.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert r.status_code == 400 and r.json["code"] == "invalid_json"


def test_a_non_ascii_digit_in_if_match_is_a_validation_error(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    r = api.post(f"/api/v1/tasks/{task['id']}/claim", "agent1", json={}, headers={"If-Match": '"²"'})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "If-Match"


def test_a_due_date_beyond_what_can_be_stored_names_the_field(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify")
    task = only_task(api, case["id"])
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", task["assignee"], json={
        "version": task["version"], "data": {"owner": "consultant1", "due_at": "9999-12-31T23:59:59-01:00"}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "data.due_at"
    assert only_task(api, case["id"])["id"] == task["id"]  # nothing moved


def test_an_over_long_contact_email_is_refused(api, world):
    r = api.post("/api/v1/cases", "agent1", json={
        "customer_id": world.customers["ACME"].id, "channel": "web", "title": "t", "description": "d",
        "contact_email": "a" * 250 + "@example.com"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "contact_email"


def test_a_body_over_the_size_limit_is_refused(api, world):
    r = api.post("/api/v1/cases", "agent1", data="x" * (1024 * 1024 + 1), content_type="application/json")
    assert r.status_code == 413 and r.json["status"] == 413


def test_customers_do_not_learn_staff_names(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    history = api.get(f"/api/v1/cases/{case['id']}", "acme_user").json["history"]
    assert {e["actor"] for e in history} <= {"support", None}
    staff_history = get_case(api, case["id"])["history"]
    assert "consultant1" in {e["actor"] for e in staff_history}
    for url in ("/api/v1/tasks?assignee=consultant1", "/api/v1/tasks?assignee=nobody-at-all",
                "/api/v1/cases?owner=nobody-at-all"):
        r = api.get(url, "acme_user")
        assert r.status_code == 200 and r.json["total"] == 0
    inbox = api.get("/api/v1/tasks?scope=all", "acme_user").json["items"]
    assert inbox and all("due_at" not in t["case"] for t in inbox)


def _at_confirm(api, world) -> dict:
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    return case


def test_a_user_step_clears_an_error_and_timers_fire_again(api, world):
    case = _at_confirm(api, world)
    instance_id = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case["id"]))
    incidents.record_failure(instance_id, RuntimeError("a passing fault"))
    step(api, case["id"], "confirm", {"confirmed": False, "confirmation_comment": "no"})
    db.session.rollback()
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.status == "running" and instance.error_message is None
    step(api, case["id"], "resolve")
    due = db.session.scalar(select(Timer.due_at).where(Timer.case_id == case["id"]))
    with freeze_time(due + timedelta(minutes=1)):
        assert list(timers.fire_due().values()) == [["confirm_timeout"]]


def test_one_broken_instance_does_not_stop_the_others(api, world, monkeypatch):
    # fault injection: an unexpected (non-engine) error from one instance, e.g. a database fault
    first, second = _at_confirm(api, world), _at_confirm(api, world)
    ids = [db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == c["id"]))
           for c in (first, second)]
    real = timers.fire_step

    def breaks_on_the_first(instance, case, now):
        if instance.id == ids[0]:
            raise TypeError("not an engine error")
        return real(instance, case, now)

    monkeypatch.setattr(timers, "fire_step", breaks_on_the_first)
    latest = max(db.session.scalars(select(Timer.due_at)))
    with freeze_time(latest + timedelta(minutes=1)):
        fired = timers.fire_due()
    assert fired == {ids[1]: ["confirm_timeout"]}
    db.session.rollback()
    assert db.session.get(ProcessInstance, ids[0]).status == "error"
    failures = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == first["id"]))
    assert "process_failed" in list(failures)
