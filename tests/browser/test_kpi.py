"""The KPI dashboard in a browser, over the demo data `make run` loads (eight weeks of cases driven
through the real use cases): the KPI table, the four charts with their data tables, the CSV link."""
from __future__ import annotations

from playwright.sync_api import expect

from cases.demo import load as demo
from tests.browser.conftest import log_in
from tests.conftest import FAST_HASH, PASSWORD

CHARTS = ("chart-first-response", "chart-sla", "chart-csat", "chart-backlog")


def test_the_kpi_dashboard_draws_charts_from_the_demo_data(app, new_page, screenshot):
    with app.app_context():
        demo.load(PASSWORD, FAST_HASH)
    page = new_page()
    log_in(page, "manager")
    page.get_by_role("link", name="KPIs").click()
    expect(page.locator("h1")).to_have_text("KPIs")
    for chart in CHARTS:
        expect(page.locator(f"#{chart}")).to_have_attribute("data-chart-state", "drawn")
    cases = int(page.locator('#kpi-totals tr[data-kpi="cases"] td').first.inner_text())
    assert cases > 20  # the demo's eight weeks fall into the default twelve
    # the trend: one row per week of the default period in the chart's data table, values where cases were
    weeks = page.locator("#chart-sla").locator("xpath=ancestor::div[contains(@class,'cf-chart')]//tbody/tr")
    expect(weeks).to_have_count(12)
    shares = weeks.evaluate_all("rs => rs.map(r => r.cells[1].textContent)")
    assert any(s.endswith(" %") for s in shares) and shares[0] == "—"  # the first weeks are before the demo
    backlog = page.locator("#chart-backlog").locator("xpath=ancestor::div[contains(@class,'cf-chart')]//tbody/tr")
    expect(backlog).to_have_count(5)
    expect(page.locator("#csv-download")).to_have_attribute("href", "/kpis/export.csv")
    screenshot(page, "kpi-dashboard")

    # a filter and a breakdown: the CSV link carries them
    page.get_by_label("Customer tier").select_option("vip")
    page.get_by_label("Break down by").select_option("priority")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#kpi-groups tbody tr").first).to_be_visible()
    expect(page.locator("#csv-download")).to_have_attribute("href", "/kpis/export.csv?" + page.url.split("?", 1)[1])
    with page.expect_download() as download:
        page.locator("#csv-download").click()
    assert download.value.suggested_filename.endswith("_priority.csv")
