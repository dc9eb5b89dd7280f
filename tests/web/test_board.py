"""The supervisors' board: the escalation queue and its actions as forms."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from tests.helpers import get_case, only_task


def breached_case(acme_case, **fields) -> dict:
    """A case opened ten days ago: its first-response target is long breached."""
    with freeze_time(datetime.now(timezone.utc) - timedelta(days=10)):
        return acme_case(**fields)


def test_the_board_lists_breached_cases(pages, acme_case):
    case = breached_case(acme_case, title="Invoices cannot be printed")
    supervisor = pages("supervisor")
    text = supervisor.text(supervisor.get("/board"))
    assert "Invoices cannot be printed" in text and 'class="row-breached"' in text
    assert "First response: overdue by" in text
    assert f'action="/board/{case["id"]}/reassign"' in text
    filtered = supervisor.text(supervisor.get("/board?status=at_risk"))
    assert "Invoices cannot be printed" not in filtered


def test_a_supervisor_reassigns_a_breached_case(api, pages, acme_case):
    case = breached_case(acme_case)
    supervisor = pages("supervisor")
    supervisor.get("/board")
    r = supervisor.post(f"/board/{case['id']}/reassign", {"username": "agent2", "reason": "agent1 is ill"})
    assert r.status_code == 303
    assert "now belongs to" in supervisor.text(supervisor.get("/board"))
    assert get_case(api, case["id"])["owner"] == "agent2"
    assert only_task(api, case["id"])["assignee"] == "agent2"


def test_a_reassignment_to_someone_without_the_lane_changes_nothing(api, pages, acme_case):
    case = breached_case(acme_case)
    supervisor = pages("supervisor")
    supervisor.get("/board")
    r = supervisor.post(f"/board/{case['id']}/reassign", {"username": "techlead"})
    assert r.status_code == 303
    assert "Nothing was changed" in supervisor.text(supervisor.get("/board"))
    assert get_case(api, case["id"])["owner"] is None


def test_extend_needs_a_reason_and_whole_minutes(api, pages, acme_case):
    case = breached_case(acme_case)
    supervisor = pages("supervisor")
    supervisor.get("/board")
    supervisor.post(f"/board/{case['id']}/extend", {"kind": "first_response", "minutes": "ten", "reason": "x"})
    assert "Enter the minutes as a whole number." in supervisor.text(supervisor.get("/board"))
    supervisor.post(f"/board/{case['id']}/extend", {"kind": "first_response", "minutes": "30", "reason": ""})
    assert "Give a reason." in supervisor.text(supervisor.get("/board"))
    assert not [e for e in get_case(api, case["id"])["history"] if e["kind"] == "sla_extended"]
    supervisor.post(f"/board/{case['id']}/extend", {"kind": "first_response", "minutes": "30",
                                                    "reason": "customer on holiday"})
    extended = [e for e in get_case(api, case["id"])["history"] if e["kind"] == "sla_extended"]
    assert extended[0]["data"]["minutes"] == 30 and extended[0]["data"]["reason"] == "customer on holiday"


def test_take_over_change_priority_and_acknowledge(api, pages, acme_case):
    case = breached_case(acme_case)
    supervisor = pages("supervisor")
    supervisor.get("/board")
    assert supervisor.post(f"/board/{case['id']}/take-over", {"reason": ""}).status_code == 303
    assert get_case(api, case["id"])["owner"] == "supervisor"
    supervisor.post(f"/board/{case['id']}/priority", {"priority": "urgent", "reason": "production down"})
    assert get_case(api, case["id"])["priority"] == "urgent"
    supervisor.post(f"/board/{case['id']}/acknowledge", {"note": "on it"})
    kinds = [e["kind"] for e in get_case(api, case["id"])["history"]]
    assert "case_taken_over" in kinds and "escalation_acknowledged" in kinds


def test_only_supervisors_act_on_the_board(pages, acme_case):
    case = breached_case(acme_case)
    agent = pages("agent1")
    r = agent.post(f"/board/{case['id']}/take-over", {})
    assert r.status_code == 403
