"""A support case driven from open to closed through HTTP alone."""
from __future__ import annotations

from tests.helpers import complete, get_case, only_task, open_case, step


def test_case_runs_from_intake_to_closed(api, world):
    acme = world.customers["ACME"].id
    case = open_case(api, customer_id=acme, title="报表打开时报错", description="月末报表提示错误")
    assert case["number"].startswith("CF-")
    assert case["stage"] == "classifying"
    assert [t["element_id"] for t in case["tasks"]] == ["classify"]

    # the classify task starts with the decision's proposal, and the rule is stored on completion
    classify = only_task(api, case["id"])
    detail = api.get(f"/api/v1/tasks/{classify['id']}", "agent1")
    assert detail.status_code == 200
    assert detail.headers["ETag"] == f'"{classify["version"]}"'
    assert detail.json["values"] == {"category": "software_bug", "priority": "medium"}
    assert detail.json["form_schema"]["required"] == ["category", "priority"]
    # the agent corrects the proposal: figures that are wrong, a data problem (a service order)
    complete(api, classify, "agent1", {"category": "data_problem", "priority": "high"})
    after = get_case(api, case["id"])
    assert after["category"] == "data_problem" and after["priority"] == "high"
    assert after["classification_rule"]["rule"] == "R06"
    assert after["classification_rule"]["proposed_priority"] == "medium"

    # assign: pre-assigned round robin to an agent, owner proposed round robin among consultants
    assign = only_task(api, case["id"])
    assert assign["element_id"] == "assign" and assign["assignee"] in ("agent1", "agent2")
    values = api.get(f"/api/v1/tasks/{assign['id']}", assign["assignee"]).json["values"]
    assert values["owner"] in ("consultant1", "consultant2")
    complete(api, assign, data={"owner": "consultant2", "due_at": "2030-01-01T09:00:00Z"})
    after = get_case(api, case["id"])
    assert after["owner"] == "consultant2"
    assert after["due_at"].startswith("2030-01-01T09:00:00")

    # resolve goes to the owner; the customer is asked for more information
    resolve = only_task(api, case["id"])
    assert resolve["element_id"] == "resolve" and resolve["assignee"] == "consultant2"
    complete(api, resolve, data={"analysis": "Need the log", "outcome": "need_info", "question": "Send the log"})
    waiting = get_case(api, case["id"])
    assert waiting["stage"] == "waiting:customer_reply" and waiting["tasks"] == []

    r = api.post(f"/api/v1/cases/{case['id']}/messages/customer_reply", "acme_user",
                 json={"payload": {"text": "log attached"}})
    assert r.status_code == 200, r.json
    assert r.json["stage"] == "in_progress"

    step(api, case["id"], "resolve", as_user="consultant2")
    confirm = only_task(api, case["id"])
    assert confirm["element_id"] == "confirm" and confirm["assignee"] is None
    # the customer sees the solution and the confirm task, and confirms
    mine = api.get("/api/v1/tasks?scope=claimable", "acme_user").json
    assert [t["id"] for t in mine["items"]] == [confirm["id"]]
    complete(api, confirm, "acme_user", {"confirmed": True})

    callback = only_task(api, case["id"])
    assert callback["element_id"] == "callback" and callback["assignee"] in ("agent1", "agent2")
    complete(api, callback, data={"reached": True, "callback_channel": "phone", "satisfaction": 5})

    closed = get_case(api, case["id"])
    assert closed["status"] == "closed" and closed["stage"] == "closed"
    assert closed["satisfaction"] == 5 and closed["closed_at"]
    kinds = [e["kind"] for e in closed["history"]]
    assert kinds[0] == "case_opened" and kinds[-1] == "case_closed"
    completed = [e["data"]["element"] for e in closed["history"] if e["kind"] == "task_completed"]
    assert completed == ["classify", "assign", "resolve", "resolve", "confirm", "callback"]
    assert all(e["actor"] for e in closed["history"] if e["kind"] == "task_completed")


def test_customer_sees_only_public_history_and_fields(api, world):
    case = open_case(api, "acme_user")
    assert case["customer"]["code"] == "ACME"
    mine = api.get(f"/api/v1/cases/{case['id']}", "acme_user").json
    assert "classification_rule" not in mine and "owner" not in mine and "analysis" not in mine
    assert {e["kind"] for e in mine["history"]} <= {"case_opened", "stage_changed", "task_created",
                                                      "task_completed", "message_received", "case_closed"}
    assert mine["tasks"] == []  # the classify task is internal
    staff = get_case(api, case["id"])
    assert len(staff["history"]) > len(mine["history"])


def test_rejection_reopens_and_caps_escalate_to_supervisor(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify")
    step(api, case["id"], "assign")
    for turn in range(1, 5):
        step(api, case["id"], "resolve")
        step(api, case["id"], "confirm", {"confirmed": False, "confirmation_comment": f"still broken {turn}"})
        assert get_case(api, case["id"])["reopen_count"] == turn
    review = only_task(api, case["id"])
    assert review["element_id"] == "supervisor_review"
    assert get_case(api, case["id"])["stage"] == "escalated"
    step(api, case["id"], "supervisor_review", {"decision": "close", "review_note": "Closing, offer training"})
    assert only_task(api, case["id"])["element_id"] == "callback"


def test_completing_a_task_answers_with_the_next_tasks(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    done = complete(api, only_task(api, case["id"]), "agent1")
    assert done["state"] == "completed" and done["element_id"] == "classify"
    [assign] = done["next_tasks"]
    assert assign["element_id"] == "assign" and assign == {k: only_task(api, case["id"])[k] for k in assign}
    done = complete(api, only_task(api, case["id"]))
    done = complete(api, only_task(api, case["id"]))  # resolve: the next task is the customer's
    assert [t["element_id"] for t in done["next_tasks"]] == ["confirm"]
    done = complete(api, only_task(api, case["id"]), "acme_user", {"confirmed": True})
    assert done["next_tasks"] == []  # the callback is internal: a customer does not see it
