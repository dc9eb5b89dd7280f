"""Inboxes, claiming and releasing tasks, and who may see and work on what."""
from __future__ import annotations

from tests.api.dbstate import db_snapshot, task_row
from tests.helpers import complete, get_case, only_task, open_case, step

PROBLEM = "application/problem+json"


def inbox(api, as_user: str, **params) -> dict:
    r = api.get("/api/v1/tasks", as_user, query_string=params)
    assert r.status_code == 200, r.json
    return r.json


def ids(page: dict) -> list[str]:
    return [t["id"] for t in page["items"]]


def claim(api, task: dict, as_user: str, version=None, **kw):
    body = {"version": task["version"] if version is None else version}
    return api.post(f"/api/v1/tasks/{task['id']}/claim", as_user, json=body, **kw)


def release(api, task: dict, as_user: str, version=None):
    body = {"version": task["version"] if version is None else version}
    return api.post(f"/api/v1/tasks/{task['id']}/release", as_user, json=body)


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
    assert r.mimetype == PROBLEM
    body = r.get_json(force=True)
    assert body["code"] == code and body["status"] == status, body
    return body


def to_confirm(api, case_id: int) -> dict:
    """Drive a case to the customer's confirm task and return that task."""
    step(api, case_id, "classify")
    step(api, case_id, "assign")
    step(api, case_id, "resolve")
    task = only_task(api, case_id)
    assert task["element_id"] == "confirm" and task["lane"] == "customer"
    return task


# --- scopes and filters ----------------------------------------------------------------------

def test_scopes_mine_claimable_all(api, world):
    acme = world.customers["ACME"].id
    first, second, third = (open_case(api, customer_id=acme, title=f"case {n}") for n in range(3))
    tasks = [only_task(api, c["id"]) for c in (first, second, third)]
    assert all(t["element_id"] == "classify" and t["assignee"] is None for t in tasks)

    assert claim(api, tasks[0], "agent1").status_code == 200
    assert claim(api, tasks[1], "agent2").status_code == 200

    assert ids(inbox(api, "agent1", scope="mine")) == [tasks[0]["id"]]
    assert ids(inbox(api, "agent2", scope="mine")) == [tasks[1]["id"]]
    assert ids(inbox(api, "agent1", scope="claimable")) == [tasks[2]["id"]]
    assert ids(inbox(api, "agent1", scope="all")) == [t["id"] for t in tasks]
    assert ids(inbox(api, "agent1")) == [t["id"] for t in tasks]  # "all" is the default
    # classify lives in the agent lane: a consultant has nothing to claim, a supervisor sees all
    assert inbox(api, "consultant1", scope="claimable")["items"] == []
    assert inbox(api, "consultant1", scope="mine")["items"] == []
    assert ids(inbox(api, "supervisor", scope="all")) == [t["id"] for t in tasks]
    mine = inbox(api, "agent1", scope="mine")["items"][0]
    assert mine["assignee"] == "agent1" and mine["lane"] == "agent" and mine["state"] == "open"
    assert mine["case"]["id"] == first["id"] and mine["case"]["customer"] == "Acme Ltd"


def test_filters(api, world):
    acme, vip = world.customers["ACME"].id, world.customers["VIPCO"].id
    high = open_case(api, customer_id=acme, title="high one")
    low = open_case(api, customer_id=vip, title="low one")
    waiting = open_case(api, customer_id=acme, title="still to classify")
    complete(api, only_task(api, high["id"]), "agent1", {"category": "configuration_problem", "priority": "high"})
    complete(api, only_task(api, low["id"]), "agent1", {"category": "data_problem", "priority": "low"})
    high_assign, low_assign = only_task(api, high["id"]), only_task(api, low["id"])
    classify = only_task(api, waiting["id"])
    assert high_assign["element_id"] == low_assign["element_id"] == "assign"

    assert ids(inbox(api, "supervisor", element_id="assign")) == [high_assign["id"], low_assign["id"]]
    assert ids(inbox(api, "supervisor", element_id="classify")) == [classify["id"]]
    assert ids(inbox(api, "supervisor", priority="high")) == [high_assign["id"]]
    # a case not yet classified carries the priority the intake proposed (its SLA clock runs on it)
    assert get_case(api, waiting["id"])["priority"] == "low"
    assert ids(inbox(api, "supervisor", priority="low")) == [classify["id"], low_assign["id"]]
    assert ids(inbox(api, "supervisor", priority="urgent")) == []
    assert ids(inbox(api, "supervisor", category="data_problem")) == [low_assign["id"]]
    assert ids(inbox(api, "supervisor", category="software_bug", priority="low")) == []
    assert ids(inbox(api, "supervisor", case_id=waiting["id"])) == [classify["id"]]
    assert ids(inbox(api, "supervisor", customer_id=vip)) == [low_assign["id"]]
    for name in {high_assign["assignee"], low_assign["assignee"]}:
        expected = [t["id"] for t in (high_assign, low_assign) if t["assignee"] == name]
        assert ids(inbox(api, "supervisor", assignee=name)) == expected
    assert ids(inbox(api, "supervisor", assignee="consultant2")) == []

    # lane: after assign the case moves to the consultants' lane
    complete(api, high_assign)
    resolve = only_task(api, high["id"])
    assert ids(inbox(api, "supervisor", lane="service_consultant")) == [resolve["id"]]
    assert set(ids(inbox(api, "supervisor", lane="agent"))) == {low_assign["id"], classify["id"]}
    assert ids(inbox(api, "consultant1", scope="mine")) == [resolve["id"]]

    # state: the completed tasks are listed apart from the open ones
    done = inbox(api, "supervisor", state="completed", case_id=high["id"])
    assert [t["element_id"] for t in done["items"]] == ["classify", "assign"]
    assert all(t["completed_at"] for t in done["items"])


def test_pagination_with_total_and_no_duplicates(api, world):
    acme = world.customers["ACME"].id
    opened = [open_case(api, customer_id=acme, title=f"paged {n}") for n in range(5)]
    expected = [only_task(api, c["id"])["id"] for c in opened]

    pages = [inbox(api, "agent1", scope="claimable", per_page=2, page=n) for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert all(p["total"] == 5 and p["per_page"] == 2 for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3]
    seen = [task_id for p in pages for task_id in ids(p)]
    assert len(seen) == len(set(seen)) == 5
    assert seen == expected  # oldest first
    beyond = inbox(api, "agent1", scope="claimable", per_page=2, page=4)
    assert beyond["items"] == [] and beyond["total"] == 5

    # the case list pages the same way, newest first
    case_pages = []
    for n in (1, 2, 3):
        r = api.get("/api/v1/cases", "agent1", query_string={"per_page": 2, "page": n})
        assert r.status_code == 200 and r.json["total"] == 5
        case_pages.extend(c["id"] for c in r.json["items"])
    assert case_pages == [c["id"] for c in reversed(opened)]


# --- claim and release --------------------------------------------------------------------------

def test_claim_with_version_in_body_sets_assignee_and_bumps_version(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    r = claim(api, task, "agent1")
    assert r.status_code == 200, r.json
    assert r.json["assignee"] == "agent1"
    assert r.json["version"] == task["version"] + 1
    assert r.headers["ETag"] == f'"{r.json["version"]}"'
    assert task_row(task["id"])[0] == task["version"] + 1
    assert only_task(api, case["id"])["assignee"] == "agent1"
    history = get_case(api, case["id"])["history"]
    claimed = [e for e in history if e["kind"] == "task_claimed"]
    assert len(claimed) == 1 and claimed[0]["actor"] == "agent1"

    # claiming again what I already hold changes nothing
    again = claim(api, r.json, "agent1")
    assert again.status_code == 200 and again.json["version"] == r.json["version"]


def test_claim_with_if_match_header(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    detail = api.get(f"/api/v1/tasks/{task['id']}", "agent2")
    etag = detail.headers["ETag"]
    r = api.post(f"/api/v1/tasks/{task['id']}/claim", "agent2", headers={"If-Match": etag}, json={})
    assert r.status_code == 200, r.json
    assert r.json["assignee"] == "agent2" and r.json["version"] == task["version"] + 1
    assert r.headers["ETag"] == f'"{task["version"] + 1}"'
    # a weak validator cannot guard a write; the strong one wins over a stale body version
    weak = api.post(f"/api/v1/tasks/{task['id']}/release", "agent2",
                    headers={"If-Match": f'W/{r.headers["ETag"]}'}, json={"version": 1})
    assert weak.status_code == 422 and weak.json["errors"][0]["field"] == "If-Match"
    back = api.post(f"/api/v1/tasks/{task['id']}/release", "agent2",
                    headers={"If-Match": r.headers["ETag"]}, json={"version": 1})
    assert back.status_code == 200, back.json
    assert back.json["assignee"] is None


def test_claim_of_a_task_claimed_by_someone_else_conflicts_but_a_supervisor_takes_over(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    claimed = claim(api, task, "agent1").json

    before = db_snapshot()
    body = problem(claim(api, claimed, "agent2"), 409, "already_claimed")
    assert body["assignee"] == "agent1"
    assert db_snapshot() == before

    taken = claim(api, claimed, "supervisor")
    assert taken.status_code == 200, taken.json
    assert taken.json["assignee"] == "supervisor" and taken.json["version"] == claimed["version"] + 1
    event = [e for e in get_case(api, case["id"])["history"] if e["kind"] == "task_claimed"][-1]
    assert event["actor"] == "supervisor" and event["data"]["previous"] == "agent1"

    # the former assignee can no longer complete it
    before = db_snapshot()
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "agent1",
                 json={"version": taken.json["version"], "data": {"category": "software_bug", "priority": "low"}})
    problem(r, 403, "forbidden")
    assert db_snapshot() == before


def test_release_by_assignee_and_by_others(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    claimed = claim(api, task, "agent1").json

    before = db_snapshot()
    problem(release(api, claimed, "agent2"), 403, "forbidden")
    problem(release(api, claimed, "consultant1"), 403, "forbidden")
    assert db_snapshot() == before

    r = release(api, claimed, "agent1")
    assert r.status_code == 200, r.json
    assert r.json["assignee"] is None and r.json["version"] == claimed["version"] + 1
    assert r.headers["ETag"] == f'"{r.json["version"]}"'
    assert only_task(api, case["id"])["assignee"] is None
    assert task["id"] in ids(inbox(api, "agent2", scope="claimable"))

    # nothing to release any more
    before = db_snapshot()
    problem(release(api, r.json, "agent1"), 409, "not_claimed")
    assert db_snapshot() == before

    # a supervisor may release someone else's task
    again = claim(api, r.json, "agent2").json
    freed = release(api, again, "supervisor")
    assert freed.status_code == 200 and freed.json["assignee"] is None


def test_claim_and_complete_need_a_version(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    before = db_snapshot()
    for action, body in (("claim", {}), ("release", {}), ("complete", {"data": {"category": "software_bug",
                                                                                  "priority": "high"}})):
        r = api.post(f"/api/v1/tasks/{task['id']}/{action}", "agent1", json=body)
        problem(r, 428, "version_required")
    assert db_snapshot() == before


def test_stale_version_conflicts_with_current_version(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    current = claim(api, task, "agent1").json["version"]
    before = db_snapshot()
    for action, extra in (("claim", {}), ("release", {}),
                          ("complete", {"data": {"category": "software_bug", "priority": "high"}})):
        r = api.post(f"/api/v1/tasks/{task['id']}/{action}", "agent1", json={"version": task["version"], **extra})
        body = problem(r, 409, "stale_version")
        assert body["current_version"] == current
        r = api.post(f"/api/v1/tasks/{task['id']}/{action}", "agent1",
                     headers={"If-Match": f'"{task["version"]}"'}, json=extra)
        assert problem(r, 409, "stale_version")["current_version"] == current
    assert db_snapshot() == before


def test_user_without_the_lane_role_cannot_claim_or_complete(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    assert task["lane"] == "agent"
    data = {"category": "software_bug", "priority": "high"}
    before = db_snapshot()
    for user in ("consultant1", "bizmanager", "techlead", "complaints", "owner"):
        body = problem(claim(api, task, user), 403, "forbidden")
        assert body["lane"] == "agent"
        r = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"version": task["version"], "data": data})
        problem(r, 403, "forbidden")
    assert db_snapshot() == before
    assert only_task(api, case["id"])["assignee"] is None

    # a customer does not even see the internal task
    problem(claim(api, task, "acme_user"), 404, "not_found")
    assert db_snapshot() == before


# --- customers ---------------------------------------------------------------------------------------

def test_customer_sees_only_own_customer_lane_tasks(api, world):
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    mine_case = open_case(api, customer_id=acme, title="acme's")
    other_case = open_case(api, customer_id=other, title="other's")
    internal = open_case(api, customer_id=acme, title="acme, still internal")
    mine_confirm = to_confirm(api, mine_case["id"])
    other_confirm = to_confirm(api, other_case["id"])
    internal_task = only_task(api, internal["id"])

    for scope in ("all", "claimable"):
        assert ids(inbox(api, "acme_user", scope=scope)) == [mine_confirm["id"]], scope
        assert ids(inbox(api, "other_user", scope=scope)) == [other_confirm["id"]], scope
    assert inbox(api, "acme_user", scope="mine")["items"] == []
    assert inbox(api, "vip_user", scope="all")["items"] == []
    # filters cannot widen the view
    assert inbox(api, "acme_user", case_id=other_case["id"])["items"] == []
    assert inbox(api, "acme_user", customer_id=other)["items"] == []
    assert inbox(api, "acme_user", lane="agent")["items"] == []
    assert inbox(api, "acme_user", case_id=internal["id"])["items"] == []

    # the customer claims their confirm task; it is then in their "mine"
    r = claim(api, mine_confirm, "acme_user")
    assert r.status_code == 200 and r.json["assignee"] == "acme_user"
    assert ids(inbox(api, "acme_user", scope="mine")) == [mine_confirm["id"]]
    assert inbox(api, "acme_user", scope="claimable")["items"] == []

    # another organisation's task, and an internal task of their own case, do not exist for them
    before = db_snapshot()
    for task in (other_confirm, internal_task):
        problem(api.get(f"/api/v1/tasks/{task['id']}", "acme_user"), 404, "not_found")
        problem(claim(api, task, "acme_user"), 404, "not_found")
        problem(release(api, task, "acme_user"), 404, "not_found")
        r = api.post(f"/api/v1/tasks/{task['id']}/complete", "acme_user",
                     json={"version": task["version"], "data": {"confirmed": True}})
        problem(r, 404, "not_found")
    assert db_snapshot() == before


def test_customer_never_sees_another_organisations_case(api, world):
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    own = open_case(api, "acme_user", title="ours")
    staff_opened_for_us = open_case(api, customer_id=acme, title="opened by an agent")
    theirs = open_case(api, customer_id=other, title="secret of Other Inc")

    r = api.get(f"/api/v1/cases/{theirs['id']}", "acme_user")
    body = problem(r, 404, "not_found")
    assert "secret" not in r.get_data(as_text=True)
    # the same answer as for a case that does not exist
    assert body["title"] == f"case {theirs['id']} not found"
    assert set(body) == set(api.get("/api/v1/cases/999999", "acme_user").get_json(force=True))

    listed = api.get("/api/v1/cases", "acme_user", query_string={"per_page": 200}).json
    assert {c["id"] for c in listed["items"]} == {own["id"], staff_opened_for_us["id"]}
    assert listed["total"] == 2
    assert api.get("/api/v1/cases", "acme_user", query_string={"customer_id": other}).json["items"] == []
    assert api.get("/api/v1/cases", "acme_user", query_string={"q": "secret"}).json["items"] == []
    assert api.get("/api/v1/cases", "other_user").json["total"] == 1

    before = db_snapshot()
    r = api.post(f"/api/v1/cases/{theirs['id']}/messages/customer_reply", "acme_user",
                 json={"payload": {"text": "hello"}})
    problem(r, 404, "not_found")
    assert db_snapshot() == before

    # staff see every organisation's cases
    assert api.get("/api/v1/cases", "agent1").json["total"] == 3


def test_customer_opens_cases_only_for_their_own_organisation(api, world):
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    before = db_snapshot()
    r = api.post("/api/v1/cases", "acme_user", json={"channel": "web", "title": "t", "description": "d",
                                                     "customer_id": other})
    problem(r, 403, "forbidden")
    assert db_snapshot() == before

    explicit = open_case(api, "acme_user", customer_id=acme)
    implicit = open_case(api, "acme_user")
    assert explicit["customer"]["id"] == implicit["customer"]["id"] == acme
    assert api.get("/api/v1/cases", "other_user").json["total"] == 0
