"""The what-if page in a browser over the demo history: a replay with a holiday read side by side
with what happened and the control, the charts drawn, a changed case explained, two replays compared,
and the page in Chinese."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from cases.core.models import utcnow
from cases.demo import load as demo
from cases.kpis.figures import TIMEZONE
from tests.browser.conftest import log_in
from tests.conftest import FAST_HASH, PASSWORD


def test_replay_side_by_side_with_charts(app, new_page, screenshot):
    with app.app_context():
        demo.load(PASSWORD, FAST_HASH)
    today = utcnow().astimezone(ZoneInfo(TIMEZONE)).date()
    first = today - timedelta(days=70)
    page = new_page()
    log_in(page, "manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="What if").click()
    expect(page.locator("h1")).to_have_text("What if")
    page.locator("#w-from").fill(first.isoformat())
    page.locator("#w-to").fill(today.isoformat())
    page.locator("#w-name").fill("control")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#whatif-control")).to_have_attribute("data-equal", "true")
    for chart in ("chart-shares", "chart-breaches", "chart-load"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-chart-state", "drawn")
    header = page.locator("#whatif-totals thead th")
    expect(header).to_have_text(["Figure", "What happened", "Control (no change)", "The proposal"])
    row = page.locator('#whatif-totals tr[data-figure="first_response_within_sla"] td')
    assert row.nth(0).inner_text() == row.nth(1).inner_text() == row.nth(2).inner_text()

    # every weekday of the last four weeks a holiday: late targets are late no more
    holidays = ", ".join((today - timedelta(days=d)).isoformat() for d in range(1, 29)
                         if (today - timedelta(days=d)).weekday() < 5)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="What if").click()
    page.locator("#w-from").fill(first.isoformat())
    page.locator("#w-to").fill(today.isoformat())
    page.locator("#w-name").fill("four weeks of holidays")
    page.locator("#w-calendar").select_option("default")
    page.locator("#w-holidays").fill(holidays)
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#whatif-control")).to_have_attribute("data-equal", "true")
    expect(page.locator("#chart-shares")).to_have_attribute("data-chart-state", "drawn")
    changed = page.locator("#whatif-changed tbody tr")
    expect(changed.first).to_be_visible()
    cells = changed.first.locator("td")
    assert cells.nth(4).inner_text().startswith("breached") and not cells.nth(5).inner_text().startswith("breached")
    screenshot(page, "whatif-side-by-side")
    changed.first.get_by_role("link").click()
    expect(page.locator('.whatif-target[data-changed="true"] li[data-code="hours_differ"]').first).to_contain_text(
        "a holiday")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="What if").click()
    page.locator('#whatif-runs input[name="first"]').nth(1).check()
    page.locator('#whatif-runs input[name="second"]').nth(0).check()
    page.get_by_role("button", name="Compare the two chosen").click()
    expect(page.locator("#whatif-comparison tbody tr")).to_have_count(4)

    # an assignment proposal: the agents' tasks in turn, side by side per person, with its charts
    page.get_by_role("navigation", name="Main").get_by_role("link", name="What if").click()
    page.locator("#w-from").fill(first.isoformat())
    page.locator("#w-to").fill(today.isoformat())
    page.locator("#w-name").fill("agents in turn")
    page.locator("#w-lane").select_option("agent")
    page.locator("#w-strategy").select_option("round_robin")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#whatif-assignment-control")).to_be_visible()
    expect(page.locator("#whatif-assignment-people thead th")).to_have_text(
        ["Person", "What happened", "Control (no change)", "The proposal"])
    expect(page.locator('#whatif-assignment-people tr[data-person="agent1"]')).to_be_visible()
    for chart in ("chart-received", "chart-open_hours"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-chart-state", "drawn")
    screenshot(page, "whatif-assignment")

    zh = new_page("zh-CN")
    log_in(zh, "manager")
    zh.goto("/whatif")
    expect(zh.locator("h1")).to_have_text("假设分析")
