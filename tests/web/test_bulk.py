"""Supervisors act on several inbox rows at once: claim, reassign, change the priority; each row is
its own transaction and reported; a row that changed since the page was loaded is left as it is."""
from __future__ import annotations

from tests.helpers import get_case, only_task


def _rows(api, acme_case, n: int) -> list[dict]:
    """n open classify tasks, each with its case's id (``case_id``)."""
    rows = []
    for i in range(n):
        case_id = acme_case(title=f"Bulk {i}")["id"]
        rows.append({**only_task(api, case_id), "case_id": case_id})
    return rows


def _row(task: dict, version: int | None = None) -> str:
    return f"{task['id']}:{task['version'] if version is None else version}"


def test_claim_several_rows_reports_each_and_leaves_a_stale_one(api, pages, acme_case):
    fresh1, fresh2, stale = _rows(api, acme_case, 3)
    api.post(f"/api/v1/tasks/{stale['id']}/claim", "agent2", json={"version": stale["version"]})  # meanwhile
    supervisor = pages("supervisor")
    text = supervisor.text(supervisor.get("/inbox", query_string={"scope": "all"}))
    assert 'form="bulk-form"' in text and 'id="bulk-form"' in text
    r = supervisor.post("/inbox/bulk", {"action": "claim", "row": [_row(fresh1), _row(fresh2), _row(stale)]})
    assert r.status_code == 200
    page = supervisor.text(r)
    assert "2 of 3 rows done" in page
    assert page.count('class="bulk-done"') == 2 and page.count('class="bulk-stale"') == 1
    assert "it changed since you loaded the page" in page
    assert only_task(api, fresh1["case_id"])["assignee"] == "supervisor"
    assert only_task(api, fresh2["case_id"])["assignee"] == "supervisor"
    assert only_task(api, stale["case_id"])["assignee"] == "agent2"  # not overwritten


def test_reassign_and_priority_in_bulk(api, pages, acme_case):
    a, b = _rows(api, acme_case, 2)
    supervisor = pages("supervisor")
    supervisor.get("/inbox")
    r = supervisor.post("/inbox/bulk", {"action": "reassign", "username": "agent2", "row": [_row(a), _row(b)]})
    assert "All 2 rows done." in supervisor.text(r)
    assert {only_task(api, t["case_id"])["assignee"] for t in (a, b)} == {"agent2"}
    history = get_case(api, a["case_id"])["history"]
    assert any(e["kind"] == "task_assigned" for e in history)
    a, b = ({**only_task(api, t["case_id"]), "case_id": t["case_id"]} for t in (a, b))
    r = supervisor.post("/inbox/bulk", {"action": "reassign", "username": "consultant1", "row": [_row(a)]})
    assert "refused, the colleague may not work on it" in supervisor.text(r)  # not the lane of a classify task
    assert only_task(api, a["case_id"])["assignee"] == "agent2"
    r = supervisor.post("/inbox/bulk", {"action": "priority", "priority": "urgent", "row": [_row(a), _row(b)]})
    assert r.status_code == 303  # no reason: nothing done
    assert "Give a reason for the new priority." in supervisor.text(supervisor.get(r.headers["Location"]))
    r = supervisor.post("/inbox/bulk", {"action": "priority", "priority": "urgent", "reason": "Month end",
                                        "row": [_row(a), _row(b, b["version"] - 1)]})
    page = supervisor.text(r)
    assert "1 of 2 rows done" in page
    assert get_case(api, a["case_id"])["priority"] == "urgent"
    assert get_case(api, b["case_id"])["priority"] != "urgent"


def test_only_supervisors_act_in_bulk(api, pages, acme_case):
    (a,) = _rows(api, acme_case, 1)
    agent = pages("agent1")
    assert 'id="bulk-form"' not in agent.text(agent.get("/inbox", query_string={"scope": "all"}))
    assert agent.post("/inbox/bulk", {"action": "claim", "row": [_row(a)]}).status_code == 403
    assert only_task(api, a["case_id"])["assignee"] is None


def test_take_over_reassign_and_reprioritise_cases_from_the_case_list(api, pages, acme_case):
    a, b, c = (acme_case(title=f"Case bulk {i}") for i in range(3))
    supervisor = pages("supervisor")
    text = supervisor.text(supervisor.get("/cases", query_string={"q": "Case bulk"}))
    assert 'id="bulk-form"' in text and text.count('form="bulk-form"') == 3
    seen = {x["id"]: f"{x['id']}:{x['priority'] or ''}:" for x in (a, b, c)}
    r = api.post(f"/api/v1/cases/{c['id']}/take-over", "supervisor", json={"reason": "Meanwhile"})
    assert r.status_code == 200, r.json  # c changes meanwhile
    r = supervisor.post("/cases/bulk", {"action": "reassign", "username": "agent2",
                                        "row": [seen[a["id"]], seen[b["id"]], seen[c["id"]]]})
    page = supervisor.text(r)
    assert r.status_code == 200 and "2 of 3 rows done" in page and page.count('class="bulk-stale"') == 1
    assert [get_case(api, x["id"])["owner"] for x in (a, b)] == ["agent2", "agent2"]
    assert get_case(api, c["id"])["owner"] != "agent2"
    row = f"{a['id']}:{a['priority'] or ''}:agent2"
    r = supervisor.post("/cases/bulk", {"action": "priority", "priority": "urgent", "reason": "VIP", "row": [row]})
    assert "All 1 rows done." in supervisor.text(r) and get_case(api, a["id"])["priority"] == "urgent"
    assert pages("agent1").post("/cases/bulk", {"action": "take_over", "row": [row]}).status_code == 403
