"""On a phone (390 px wide): the portal, a customer's case page and the inbox fit the screen, in
English and Chinese — no sideways scrolling (the document is no wider than the viewport)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.helpers import open_case

PHONE = {"width": 390, "height": 844}


def _width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _widest(page: Page) -> str:
    """For the failure message: the elements that reach past the viewport."""
    return str(page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .slice(0, 8).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' +
                         Math.round(e.getBoundingClientRect().right))"""))


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_portal_case_page_and_inbox_fit_a_phone(api, world, page_as, screenshot, locale):
    case = open_case(api, customer_id=world.customers["ACME"].id, title="Month-end report fails with an error",
                     description="Opening the month-end sales report shows 'object reference not set'.")
    customer = page_as("acme_user", locale)
    customer.set_viewport_size(PHONE)
    for path in ("/portal", f"/cases/{case['id']}", "/knowledge"):
        customer.goto(path)
        assert _width(customer) <= PHONE["width"], (path, _width(customer), _widest(customer))
    if locale == "en":
        customer.goto("/portal")
        screenshot(customer, "portal-phone")
    agent = page_as("agent1", locale)
    agent.set_viewport_size(PHONE)
    for path in ("/inbox", "/inbox?scope=claimable", "/inbox?scope=all"):
        agent.goto(path)
        assert _width(agent) <= PHONE["width"], (path, _width(agent), _widest(agent))
    if locale == "zh-CN":
        screenshot(agent, "inbox-phone-zh")
