"""Assignment strategies drawn per task in the diagram (round robin, least loaded, skills, on duty),
the VIP dedicated consultant, an owner and a deadline on every branch, and the staffing API that
feeds the strategies (managers and admins, audited)."""
from __future__ import annotations

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import CaseEvent, UserRole
from cases.outbox.models import Notification
from tests.api.dbstate import db_snapshot
from tests.cases.sla.test_sla import sh
from tests.helpers import deploy_variant, get_case, only_task, open_case, step

TASK = "answer_consultation"  # the consultation branch: agent lane


def strategy(name: str):
    def change(text: str) -> str:
        start = text.index(f'<bpmn:userTask id="{TASK}"')
        end = text.index("</bpmn:userTask>", start)
        return text[:start] + text[start:end].replace('value="least_loaded"', f'value="{name}"') + text[end:]
    return change


@pytest.fixture
def manager(world):
    db.session.add(UserRole(user_id=world.user("supervisor").id, role="manager"))
    db.session.commit()
    return "supervisor"


def consultation(api, world, customer="ACME", priority="medium", category="general_consultation"):
    case = open_case(api, customer_id=world.customers[customer].id)
    step(api, case["id"], "classify", {"category": category, "priority": priority})
    return case["id"], only_task(api, case["id"])


def put(api, url, body, as_user):
    return api.request("PUT", url, as_user, json=body)


def test_least_loaded_weighs_open_tasks_by_priority(api, world):
    # agent1 carries one urgent case (4), agent2 two low ones (1 + 1): agent2 is lighter
    _, first = consultation(api, world, priority="urgent")
    assert first["assignee"] == "agent1"  # both empty: the lower id
    _, second = consultation(api, world, priority="low")
    assert second["assignee"] == "agent2"
    _, third = consultation(api, world, priority="low")
    assert third["assignee"] == "agent2"  # 1 against 4
    _, fourth = consultation(api, world, priority="medium")
    assert fourth["assignee"] == "agent2"  # 2 against 4: still lighter
    _, fifth = consultation(api, world, priority="medium")
    assert fifth["assignee"] == "agent1"  # 4 against 4: the lower id


def test_skills_match_the_category_or_an_installed_product(api, world, manager, tmp_path, restore_active_version):
    deploy_variant(tmp_path, strategy("skills"))
    r = put(api, "/api/v1/users/agent2/skills", {"categories": ["general_consultation"], "products": []}, manager)
    assert r.status_code == 200 and r.json == {"username": "agent2", "categories": ["general_consultation"],
                                               "products": []}
    assert consultation(api, world)[1]["assignee"] == "agent2"
    assert consultation(api, world)[1]["assignee"] == "agent2"  # the only match, however loaded

    # a product installed at the customer matches too
    r = api.post(f"/api/v1/customers/{world.customers['OTHER'].id}/installed-products", "admin",
                 json={"product": "U8 ERP", "product_version": "13.0"})
    assert r.status_code == 201, r.json
    put(api, "/api/v1/users/agent1/skills", {"categories": [], "products": ["U8 ERP"]}, manager)
    put(api, "/api/v1/users/agent2/skills", {"categories": [], "products": []}, manager)
    assert consultation(api, world, customer="OTHER")[1]["assignee"] == "agent1"
    # nobody matches: the least loaded of the lane (agent1 holds one task, agent2 two)
    assert consultation(api, world)[1]["assignee"] == "agent1"


def test_on_duty_skips_who_is_off_and_tells_the_supervisors_when_nobody_is_on(api, world, manager, tmp_path,
                                                                          restore_active_version):
    deploy_variant(tmp_path, strategy("on_duty"))
    day = {"timezone": "Asia/Shanghai", "shifts": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]}
    night = {"timezone": "Asia/Shanghai", "shifts": [s for d in range(7) for s in (
        {"weekday": d, "start": "20:00", "end": "24:00"}, {"weekday": d, "start": "00:00", "end": "08:00"})]}
    assert put(api, "/api/v1/users/agent1/roster", day, manager).status_code == 200
    r = put(api, "/api/v1/users/agent2/roster", night, manager)
    assert r.status_code == 200 and r.json["shifts"][0] == {"weekday": 0, "start": "00:00", "end": "08:00"}
    with freeze_time(sh(23, 19, 59)) as frozen:
        assert consultation(api, world)[1]["assignee"] == "agent1"
        frozen.move_to(sh(23, 20, 0))  # the shift changes
        api.forget_tokens()
        assert consultation(api, world)[1]["assignee"] == "agent2"
        # nobody on duty: the task waits in the lane, the supervisors hear of it
        put(api, "/api/v1/users/agent2/roster", {"timezone": "Asia/Shanghai", "shifts": []}, manager)
        case_id, task = consultation(api, world)
        assert task["assignee"] is None
        event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.kind == "nobody_on_duty"))
        assert event.data == {"lane": "agent", "told": ["supervisor"]}
        mail = db.session.scalar(select(Notification).where(Notification.kind == "nobody_on_duty"))
        assert mail is None or mail.case_id == case_id  # queued when the supervisor has an address
        assert get_case(api, case_id)["owner"] == "agent1"  # the classifier, until someone takes it
    api.forget_tokens()


def test_a_vip_case_goes_to_the_dedicated_consultant_when_on_duty(api, world, manager):
    vip = world.customers["VIPCO"].id
    r = put(api, f"/api/v1/customers/{vip}/dedicated-consultant", {"username": "consultant2"}, manager)
    assert r.status_code == 200 and r.json == {"customer_id": vip, "username": "consultant2"}
    # an environment problem (advice, by skills) and a repair, whatever the category
    for category in ("environment_problem", "hardware_repair"):
        case_id, task = consultation(api, world, customer="VIPCO", category=category)
        assert task["assignee"] == "consultant2" and get_case(api, case_id)["owner"] == "consultant2"
    # off duty: the strategy decides
    put(api, "/api/v1/users/consultant2/roster",
        {"timezone": "Asia/Shanghai", "shifts": [{"weekday": 6, "start": "09:00", "end": "10:00"}]}, manager)
    with freeze_time(sh(23, 10)):
        api.forget_tokens()
        assert consultation(api, world, customer="VIPCO", category="hardware_repair")[1]["assignee"] == "consultant1"
    api.forget_tokens()


def test_every_branch_has_an_owner_and_a_deadline_from_classification(api, world):
    owners = {}
    for category in ("general_consultation", "operation_problem", "software_bug", "environment_problem",
                     "hardware_repair", "special_service", "new_requirement", "data_problem"):
        case = open_case(api, customer_id=world.customers["ACME"].id)
        step(api, case["id"], "classify", {"category": category, "priority": "medium"}, as_user="agent2")
        case = get_case(api, case["id"])
        resolution = [t for t in api.get(f"/api/v1/cases/{case['id']}/sla", "supervisor").json["sla"]["targets"]
                      if t["kind"] == "resolution"][0]
        if category == "software_bug":  # the clock waits for HQ at once: the due if it ran from now
            assert resolution["status"] == "paused" and case["due_at"] is not None
        else:
            assert case["due_at"] == resolution["due_at"] is not None, category
        owners[category] = case["owner"]
    # the branch's first step decides (its lane's strategy: the advice took consultant1, so the repair, by
    # skills with nobody matching, goes to the lighter consultant2); the bug waits for HQ, the service order
    # for its Assign step: the classifier owns those until then
    assert owners == {"general_consultation": "agent1", "operation_problem": "agent1", "software_bug": "agent2",
                      "environment_problem": "consultant1", "hardware_repair": "consultant2",
                      "special_service": "bizmanager", "new_requirement": "bizmanager", "data_problem": "agent2"}


def test_the_staffing_api_is_for_managers_and_admins_checked_and_audited(api, world, manager):
    before = db_snapshot()
    for user in ("agent1", "consultant1"):
        assert put(api, "/api/v1/users/agent1/skills", {"categories": [], "products": []}, user).status_code == 403
    r = put(api, "/api/v1/users/agent1/skills", {"categories": ["printers", 3], "products": [""]}, "admin")
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"categories.0", "categories.1", "products.0"}
    r = put(api, "/api/v1/users/agent1/roster", {"timezone": "Mars/Olympus", "shifts": [
        {"weekday": 7, "start": "9:00", "end": "25:00"}, {"weekday": 1, "start": "10:00", "end": "09:00"},
        {"weekday": 2, "start": "08:00", "end": "12:00"}, {"weekday": 2, "start": "11:00", "end": "13:00"}]}, "admin")
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"timezone", "shifts.0.weekday", "shifts.0.start", "shifts.0.end",
                                                      "shifts.1", "shifts.3"}
    r = put(api, f"/api/v1/customers/{world.customers['VIPCO'].id}/dedicated-consultant", {"username": "agent1"},
            "admin")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "username"
    assert put(api, "/api/v1/users/nobody/skills", {"categories": [], "products": []}, "admin").status_code == 404
    assert db_snapshot() == before

    assert put(api, "/api/v1/users/agent1/skills", {"categories": ["data_problem"], "products": ["U8"]},
               manager).status_code == 200
    assert api.get("/api/v1/users/agent1/skills", "supervisor").json["products"] == ["U8"]
    assert api.get("/api/v1/users/agent1/roster", "admin").json == {"username": "agent1", "timezone": None,
                                                                     "shifts": []}
    actions = [e["action"] for e in api.get("/api/v1/audit", "admin").json["items"]]
    assert actions[0] == "skills_set"


def test_a_complaint_has_an_owner_and_a_deadline_from_its_first_step(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    r = api.post(f"/api/v1/cases/{case['id']}/complaints", "acme_user", json={"description": "Too slow."})
    assert r.status_code == 201, r.json
    complaint = get_case(api, r.json["id"])
    resolution = [t for t in api.get(f"/api/v1/cases/{complaint['id']}/sla", "supervisor").json["sla"]["targets"]
                  if t["kind"] == "resolution"][0]
    assert complaint["owner"] == "complaints" and complaint["due_at"] == resolution["due_at"] is not None
