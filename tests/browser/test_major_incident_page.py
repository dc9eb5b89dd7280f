"""In a real browser: a supervisor declares a major incident from a case page, links a second case,
posts an update to the customers and resolves both cases with one solution; the customer reads the
public update on the incident's page."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.api.test_major_incidents import at_resolve
from tests.helpers import only_task


def test_declare_update_and_resolve_from_the_pages(api, world, page_as, screenshot):
    first = at_resolve(api, world.customers["ACME"].id, "li@acme.example", "Posting fails since the update")
    second = at_resolve(api, world.customers["OTHER"].id, "han@other.example", "Stock posting error")
    page = page_as("supervisor")
    page.goto(f"/cases/{first['id']}")
    page.locator("#declare-major-incident").click()
    page.get_by_label("Title").fill("Posting service down after release 7.2")
    page.get_by_role("button", name="Declare the major incident").click()
    expect(page.locator("#mi-description-error")).to_be_visible()  # required; the title stays typed
    expect(page.get_by_label("Title")).to_have_value("Posting service down after release 7.2")
    page.get_by_label("What is affected").fill("Every posting times out since last night's release.")
    page.get_by_role("button", name="Declare the major incident").click()
    expect(page.locator("h1")).to_contain_text("Posting service down after release 7.2")
    page.get_by_label("Link more cases (case numbers)").fill(second["number"])
    page.get_by_role("button", name="Link the cases").click()
    expect(page.locator("#incident-cases")).to_contain_text(second["number"])
    page.locator("#mi-text").fill("We found the cause and are rolling back.")
    page.get_by_role("button", name="Post the update").click()
    expect(page.locator(".flash")).to_contain_text("The update went to 2 customers, once each.")
    page.locator("#mi-solution").fill("Rolled back to 7.1.9; postings work again.")
    page.get_by_role("button", name="Resolve the incident and its cases").click()
    expect(page.locator(".flash")).to_contain_text("2 of 2 linked cases were resolved")
    expect(page.locator("#incident-status")).to_have_text("resolved")
    expect(page.locator("#incident-cases .outcome-resolved")).to_have_count(2)
    screenshot(page, "major-incident")
    assert only_task(api, first["id"])["element_id"] == "confirm"
    customer = page_as("acme_user")
    customer.goto(f"/cases/{first['id']}")
    customer.locator("#case-major-incidents a").click()
    expect(customer.locator("#incident-updates")).to_contain_text("We found the cause and are rolling back.")
    expect(customer.locator("#incident-cases")).not_to_contain_text(second["number"])
