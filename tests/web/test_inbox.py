"""The inbox: scopes, filters, the SLA order, claiming in one click."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from tests.helpers import get_case, only_task


def _rows(text: str) -> list[str]:
    return re.findall(r'<tr data-task-id="([^"]+)"', text)


def test_the_most_urgent_sla_comes_first_unless_asked_otherwise(api, pages, acme_case):
    with freeze_time(datetime.now(timezone.utc) - timedelta(minutes=10)):
        older = acme_case(title="A low one from ten minutes ago", priority_hint="low")
    newer = acme_case(title="An urgent one just now", priority_hint="urgent")
    agent = pages("agent1")
    ids = {c["id"]: only_task(api, c["id"])["id"] for c in (older, newer)}

    def soonest_due(case: dict) -> str:
        targets = get_case(api, case["id"])["sla"]["targets"]
        return min(t["due_at"] for t in targets if t["state"] == "running" and t["due_at"])

    assert soonest_due(newer) < soonest_due(older)  # an urgent case's targets are the shortest
    assert _rows(agent.text(agent.get("/inbox?scope=claimable"))) == [ids[newer["id"]], ids[older["id"]]]
    assert _rows(agent.text(agent.get("/inbox?scope=claimable&order=created"))) == [ids[older["id"]],
                                                                                    ids[newer["id"]]]


def test_scopes_and_filters(api, pages, acme_case):
    high = acme_case(title="High one", priority_hint="high")
    acme_case(title="Low one", priority_hint="low")
    agent = pages("agent1")
    task = only_task(api, high["id"])
    text = agent.text(agent.get("/inbox?scope=claimable&priority=high"))
    assert "High one" in text and "Low one" not in text
    agent.post(f"/tasks/{task['id']}/claim", {"version": task["version"]})
    mine = agent.text(agent.get("/inbox?scope=mine"))
    assert "High one" in mine and "Low one" not in mine
    assert "High one" not in agent.text(agent.get("/inbox?scope=claimable"))


def test_a_claim_on_a_task_someone_took_meanwhile_is_refused_with_a_message(api, pages, acme_case):
    case = acme_case()
    task = only_task(api, case["id"])
    agent = pages("agent1")
    agent.get("/inbox?scope=claimable")
    api.post(f"/api/v1/tasks/{task['id']}/claim", "agent2", json={"version": task["version"]})
    r = agent.post(f"/tasks/{task['id']}/claim", {"version": task["version"]})
    assert r.status_code == 303
    assert "The task changed since you loaded the page" in agent.text(agent.get("/inbox"))
    assert only_task(api, case["id"])["assignee"] == "agent2"
