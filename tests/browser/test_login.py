"""Logging in through a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_an_agent_logs_in_and_sees_the_inbox(page_as, screenshot):
    page = page_as("agent1")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator("h1")).to_have_text("Inbox")
    screenshot(page, "inbox-empty")


def test_a_wrong_password_stays_on_the_form(new_page, world, screenshot):
    page = new_page()
    page.goto("/login")
    page.get_by_label("User name").fill("agent1")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Unknown user name or wrong password.")
    screenshot(page, "login-error")
