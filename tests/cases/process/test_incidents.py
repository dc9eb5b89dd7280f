"""Cases in trouble: a scheduled step that fails marks the instance, an operator retries it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from cases.core.db import db
from cases.core.models import Task, User, UserRole
from cases.process import timers
from cases.process.models import ProcessInstance, Timer
from tests.helpers import deploy_variant, get_case, only_task, open_case, step

AUTO_CONFIRM_SCRIPT = '''<bpmn:scriptTask id="auto_confirm" name="Close as confirmed (no answer)">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="nameZh" value="按已确认关闭（未答复）" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f_confirm_timeout</bpmn:incoming>
      <bpmn:outgoing>f_auto_confirmed</bpmn:outgoing>
      <bpmn:script>confirmed = True
auto_confirmed = True</bpmn:script>
    </bpmn:scriptTask>'''
# the same step, but it needs an active service consultant (a handler that can fail)
AUTO_CONFIRM_SERVICE = '''<bpmn:serviceTask id="auto_confirm" name="Close as confirmed (no answer)">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="round_robin_user" resultVariable="auto_confirm_reviewer">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="role" type="str" value="&quot;service_consultant&quot;" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
        <spiffworkflow:properties>
          <spiffworkflow:property name="nameZh" value="按已确认关闭（未答复）" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f_confirm_timeout</bpmn:incoming>
      <bpmn:outgoing>f_auto_confirmed</bpmn:outgoing>
    </bpmn:serviceTask>'''


def _fragile(text: str) -> str:
    assert AUTO_CONFIRM_SCRIPT in text
    return text.replace(AUTO_CONFIRM_SCRIPT, AUTO_CONFIRM_SERVICE)


@pytest.fixture
def fragile_version(tmp_path, restore_active_version):
    return deploy_variant(tmp_path, _fragile)


def _consultants_active(active: bool) -> None:
    consultants = select(UserRole.user_id).where(UserRole.role == "service_consultant")
    db.session.execute(update(User).where(User.id.in_(consultants)).values(active=active))
    db.session.commit()


def _trouble(api, as_user="owner") -> list[dict]:
    r = api.get("/api/v1/instances/trouble", as_user)
    assert r.status_code == 200, r.json
    return r.json


def test_a_failing_timer_step_marks_the_instance_and_a_retry_recovers_it(api, world, fragile_version):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    assert only_task(api, case["id"])["element_id"] == "confirm"
    _consultants_active(False)
    due = db.session.scalar(select(Timer.due_at).where(Timer.case_id == case["id"]))
    with freeze_time(due + timedelta(minutes=1)):
        assert timers.fire_due() == {}
        assert timers.fire_due() == {}  # a failed instance is not retried by the scheduler
    [trouble] = _trouble(api)
    assert trouble["kind"] == "error" and trouble["case_id"] == case["id"]
    assert trouble["error_element"] == "auto_confirm" and "service_consultant" in trouble["error_message"]
    history = [e["kind"] for e in get_case(api, case["id"])["history"]]
    assert history.count("process_failed") == 1
    assert only_task(api, case["id"])["element_id"] == "confirm"  # nothing half-done

    with freeze_time(due + timedelta(minutes=2)):
        api.forget_tokens()  # tokens issued before the clock jumped a week have expired
        r = api.post(f"/api/v1/instances/{trouble['instance_id']}/retry", "owner")
        assert r.status_code == 422 and r.json["code"] == "process_error"  # the cause is still there
        _consultants_active(True)
        r = api.post(f"/api/v1/instances/{trouble['instance_id']}/retry", "owner")
    assert r.status_code == 200, r.json
    assert r.json["stage"] == "callback"
    assert _trouble(api) == []
    assert only_task(api, case["id"])["element_id"] == "callback"


def test_a_stuck_instance_is_listed_and_a_retry_repairs_its_tasks(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    db.session.execute(update(Task).where(Task.id == task["id"]).values(state="cancelled"))
    db.session.commit()
    [trouble] = _trouble(api, "supervisor")
    assert trouble["kind"] == "stuck" and trouble["case_id"] == case["id"]
    r = api.post(f"/api/v1/instances/{trouble['instance_id']}/retry", "admin")
    assert r.status_code == 200, r.json
    assert only_task(api, case["id"])["id"] == task["id"]
    assert _trouble(api) == []


def test_only_operators_see_or_retry_instances(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    instance_id = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case["id"]))
    for user in ("agent1", "consultant1", "acme_user"):
        assert api.get("/api/v1/instances/trouble", user).status_code == 403
        assert api.post(f"/api/v1/instances/{instance_id}/retry", user).status_code == 403
    assert api.post("/api/v1/instances/999999/retry", "owner").status_code == 404


@pytest.fixture
def broken_reopen_version(tmp_path, restore_active_version):
    return deploy_variant(tmp_path, lambda t: t.replace("reopen_count = reopen_count + 1", "reopen_count = 1 / 0"))


def test_a_refused_user_step_is_noted_for_operators(api, world, broken_reopen_version):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    confirm = only_task(api, case["id"])
    r = api.post(f"/api/v1/tasks/{confirm['id']}/complete", "acme_user",
                 json={"version": confirm["version"], "data": {"confirmed": False, "confirmation_comment": "no"}})
    assert r.status_code == 422 and r.json["code"] == "process_error" and r.json["element"] == "count_reopen"
    assert only_task(api, case["id"]) == confirm  # nothing was saved
    [trouble] = _trouble(api)
    assert trouble["kind"] == "error" and trouble["status"] == "running"  # its timers go on
    assert trouble["error_element"] == "count_reopen" and "division by zero" in trouble["error_message"]
    step(api, case["id"], "confirm", {"confirmed": True})  # a step that works clears the note
    assert _trouble(api) == []
