"""The quarterly service review in a browser, over the demo data: the review of the demo's quarter for
the whole service and for one customer, the print view laid out for paper, and the page in Chinese."""
from __future__ import annotations

from playwright.sync_api import expect

from cases.demo import load as demo
from tests.browser.conftest import log_in
from tests.conftest import FAST_HASH, PASSWORD


def _opened(page) -> int:
    return int(page.locator("#figure-cases-cases_opened").get_attribute("data-value") or 0)


def test_the_review_of_the_demo_quarter_with_print_view(app, new_page, screenshot):
    with app.app_context():
        demo.load(PASSWORD, FAST_HASH)
    page = new_page()
    log_in(page, "manager")
    page.get_by_role("link", name="Service review").click()
    expect(page.locator("h1")).to_have_text("Service review")
    expect(page.locator("#section-cases h2")).to_have_text("Cases and time promises")
    expect(page.locator("#section-satisfaction h2")).to_have_text("Satisfaction")
    whole = _opened(page)
    assert whole > 0  # the demo's cases fall into the current quarter
    screenshot(page, "service-review")

    customer = page.get_by_label("Customer", exact=True)
    names = customer.locator("option").all_inner_texts()
    customer.select_option(label=names[1])  # the first customer after "the whole service"
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#review-period")).to_contain_text(names[1])
    assert 0 <= _opened(page) <= whole

    page.locator("#review-print").click()
    expect(page.locator("h1")).to_contain_text("Service review — ")
    assert page.locator("nav").count() == 0  # the review alone, for paper
    page.emulate_media(media="print")
    expect(page.locator("#section-cases")).to_be_visible()
    assert page.pdf(format="A4")[:4] == b"%PDF"  # what the browser's "save as PDF" makes of it


def test_the_review_reads_in_chinese(app, new_page):
    with app.app_context():
        demo.load(PASSWORD, FAST_HASH)
    page = new_page("zh-CN")
    log_in(page, "manager")
    page.goto("/service/review")
    expect(page.locator("h1")).to_have_text("服务回顾")
    expect(page.locator("#section-cases h2")).to_have_text("服务单与时限承诺")
    expect(page.locator("#figure-cases-first_response_within_sla th")).to_have_text("在承诺时间内首次响应")
