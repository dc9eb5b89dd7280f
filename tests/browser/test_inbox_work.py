"""The inbox in Chromium: a supervisor reassigns several rows at once (each reported), and (with the
bundled script) works the list with the keyboard and hears of a customer's reply without reloading."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import only_task, open_case


def _cases(api, world, n: int, prefix: str) -> list[dict]:
    return [open_case(api, "agent1", world.customers["ACME"].id, title=f"{prefix} {i}") for i in range(n)]


def test_a_supervisor_reassigns_several_rows_at_once(api, world, page_as):
    cases = _cases(api, world, 3, "Bulk reassign")
    supervisor = page_as("supervisor", locale="zh-CN")
    supervisor.goto("/inbox?scope=all&q=Bulk%20reassign")
    expect(supervisor.locator("#tasks tbody tr")).to_have_count(3)
    stale = only_task(api, cases[2]["id"])
    for case in cases:
        task = only_task(api, case["id"])
        supervisor.locator(f"#select-{task['id']}").check()
    api.post(f"/api/v1/tasks/{stale['id']}/claim", "agent1", json={"version": stale["version"]})  # meanwhile
    supervisor.get_by_label("转派给同事").check()
    supervisor.locator("#bulk-username").select_option("agent2")
    supervisor.locator("#bulk-form button[type=submit]").click()
    results = supervisor.locator("#bulk-results")
    expect(results).to_contain_text("3 行中已完成 2 行")
    expect(results.locator(".bulk-done")).to_have_count(2)
    expect(results.locator(".bulk-stale")).to_contain_text("自您打开本页后它已被改动")
    assert [only_task(api, c["id"])["assignee"] for c in cases] == ["agent2", "agent2", "agent1"]
