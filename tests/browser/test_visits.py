"""In a real browser: a service consultant books a repair in an appointment window on the case's
service page, the customer finds it from the case page and confirms it in their own words; the
service report's print view prints (Chromium's print to PDF, the print style sheet applied)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from cases.core.db import db
from cases.customers.models import Contract
from tests.helpers import open_case


def test_a_consultant_books_a_visit_and_the_customer_confirms_it(api, world, page_as, screenshot):
    db.session.add(Contract(customer_id=world.customers["ACME"].id, number="C-1", tier="standard",
                            start=date(2020, 1, 1), end=date(2099, 12, 31), warranty_until=date(2099, 12, 31)))
    db.session.commit()
    case = open_case(api, "acme_user", title="Server does not start")
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)).date().isoformat()

    consultant = page_as("consultant1")
    consultant.goto(f"/cases/{case['id']}/service")
    consultant.locator("#book summary").click()
    form = consultant.locator("#book-form")
    form.get_by_label("Kind").select_option("repair")
    form.get_by_label("Purpose").fill("Replace the power supply")
    form.get_by_label("From").fill(f"{day}T12:00")
    form.get_by_label("Until").fill(f"{day}T10:00")  # ends before it starts: refused, the input kept
    form.get_by_role("button", name="Propose to the customer").click()
    expect(consultant.locator("#book-window_end-error")).to_be_visible()
    expect(consultant.locator("#book-purpose")).to_have_value("Replace the power supply")
    consultant.locator("#book-window_start").fill(f"{day}T10:00")
    consultant.locator("#book-window_end").fill(f"{day}T12:00")
    consultant.locator("#book-technician").fill("consultant1")
    consultant.locator("#book-form").get_by_role("button", name="Propose to the customer").click()
    expect(consultant.locator(".flash-success")).to_contain_text("the customer is asked to confirm")
    expect(consultant.locator(".visit")).to_contain_text("Proposed, waiting for the customer")

    customer = page_as("acme_user")
    customer.goto(f"/cases/{case['id']}")
    expect(customer.locator("#service-work")).to_contain_text("We propose this time: does it suit you?")
    customer.locator("#service-work-link").click()
    screenshot(customer, "customer-visit-proposed")
    customer.get_by_role("button", name="Yes, this time suits me").click()
    expect(customer.locator(".flash-success")).to_have_text("The appointment is confirmed.")
    expect(customer.locator(".visit .visit-status")).to_have_text("Confirmed")
    expect(customer.locator(".visit")).to_contain_text("In warranty: no charge.")
    expect(customer.locator("body")).not_to_contain_text("Internal tasks")

    consultant.reload()
    expect(consultant.locator(".visit .visit-status")).to_have_text("Confirmed")


def test_the_service_report_prints(api, world, page_as):
    case = open_case(api, "acme_user", title="Report prints")
    customer = page_as("acme_user")
    customer.goto(f"/cases/{case['id']}/report?print=1")
    expect(customer.locator("#service-report")).to_contain_text("Service report")
    customer.emulate_media(media="print")
    expect(customer.locator(".topbar")).to_be_hidden()  # the print style sheet leaves the report alone
    pdf = customer.pdf(format="A4")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
