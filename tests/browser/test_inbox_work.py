"""The inbox in Chromium: a supervisor reassigns several rows at once (each reported), and (with the
bundled script) works the list with the keyboard and hears of a customer's reply without reloading."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import DATA, only_task, open_case, step


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


def test_the_inbox_by_keyboard(api, world, page_as):
    _cases(api, world, 2, "Keyboard")
    agent = page_as("agent1")
    agent.goto("/inbox?scope=claimable&q=Keyboard")
    rows = agent.locator("#tasks tbody tr")
    expect(rows).to_have_count(2)
    expect(agent.locator("#keys-hint")).to_be_visible()
    first, second = (rows.nth(i).get_attribute("data-task-id") for i in range(2))
    agent.keyboard.press("j")
    expect(rows.nth(0).locator("a").first).to_be_focused()
    agent.keyboard.press("j")
    expect(rows.nth(1).locator("a").first).to_be_focused()
    agent.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    agent.keyboard.press("c")  # claims the first task and opens it
    agent.wait_for_url(f"**/tasks/{first}")
    assert api.get(f"/api/v1/tasks/{first}", "agent1").json["assignee"] == "agent1"
    agent.goto("/inbox?scope=claimable&q=Keyboard")
    agent.keyboard.press("j")
    agent.keyboard.press("Enter")  # opens the (now only) claimable task
    agent.wait_for_url(f"**/tasks/{second}")
    agent.goto("/inbox")
    agent.keyboard.press("/")
    expect(agent.locator("#f-q")).to_be_focused()
    agent.keyboard.type("Keyboard")
    expect(agent.locator("#f-q")).to_have_value("Keyboard")


def test_a_customer_reply_is_announced_without_reloading(app, api, world, page_as):
    case = open_case(api, "agent1", world.customers["ACME"].id, title="Live reply")
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")  # consultant1 owns the case
    app.config["LIVE_POLL_SECONDS"] = 1
    try:
        consultant = page_as("consultant1", locale="zh-CN")
        consultant.goto("/inbox")
        title = consultant.title()
        customer = page_as("acme_user", locale="zh-CN")
        customer.goto(f"/cases/{case['id']}")
        customer.locator("#write-text").fill("报表还是打不开，请尽快处理。")
        customer.locator("#write-form button[type=submit]").click()
        expect(customer.locator("#thread")).to_contain_text("报表还是打不开")
        notices = consultant.locator("#live-notices")
        expect(notices).to_contain_text("客户来信")
        expect(notices).to_contain_text("报表还是打不开，请尽快处理。")
        expect(consultant).to_have_title(f"(1) {title}")
        notices.locator("a").first.click()
        consultant.wait_for_url(f"**/cases/{case['id']}")
    finally:
        app.config.pop("LIVE_POLL_SECONDS")
