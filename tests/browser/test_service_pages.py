"""In a real browser: a customer confirms a resolution and rates the service (a low score opens a
linked complaint shown on the case page); an agent replies to a hotline customer from the case page
and finds the call-back on the call-backs page."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.api.test_callbacks import phone_case
from tests.api.test_surveys import call_back
from tests.helpers import get_case, only_task, open_case, step


def test_a_customer_confirms_and_rates_the_service_and_a_low_score_opens_a_complaint(api, world, page_as,
                                                                                     screenshot):
    case = open_case(api, customer_id=world.customers["ACME"].id, contact_email="li@acme.example",
                     title="How do I export the customer list?")
    step(api, case["id"], "classify", {"category": "general_consultation", "priority": "medium"})
    step(api, case["id"], "answer_consultation")
    customer = page_as("acme_user")
    customer.locator("#waiting").get_by_role("link").first.click()
    customer.get_by_label("Yes").check()
    customer.get_by_role("button", name="Complete the task").click()
    expect(customer.locator("#timeline")).to_contain_text("Task done")
    call_back(api, case["id"], {"reached": True, "callback_channel": "online"})  # the agent sends the survey link

    customer.goto("/portal")
    expect(customer.locator("#waiting")).to_contain_text("Rate our service")  # one line each
    customer.locator("#surveys summary").first.click()  # the survey's form unfolds
    survey = customer.locator("#surveys form")
    expect(survey).to_contain_text(case["number"])
    customer.get_by_role("button", name="Send my rating").click()  # no score: the browser asks for one
    expect(survey.get_by_role("radio", name="2")).to_be_visible()
    assert customer.url.endswith("/portal")
    survey.get_by_role("radio", name="2").check()
    survey.get_by_label("Comment (optional)").fill("It took three days to get an answer.")
    screenshot(customer, "portal-rate-service")
    survey.get_by_role("button", name="Send my rating").click()
    expect(customer.locator(".flash-success")).to_have_text("Thank you for your rating.")
    expect(customer.locator(".flash-info")).to_contain_text("Your rating opened a complaint")
    expect(customer.locator("#past-surveys")).to_contain_text("2 of 5")

    [complaint] = get_case(api, case["id"])["linked_cases"]
    customer.goto(f"/cases/{case['id']}")
    link = customer.locator("#linked-complaints").get_by_role("link", name=complaint["number"])
    link.click()
    expect(customer.locator("#original-case")).to_contain_text(case["number"])
    expect(customer.locator("#case-kind")).to_have_text("Complaint")
    assert only_task(api, complaint["id"])["element_id"] == "acknowledge_complaint"


def test_an_agent_replies_to_a_hotline_customer_and_finds_the_call_back(api, world, page_as, screenshot):
    case_id = phone_case(api, world)
    agent = page_as("agent1")
    agent.goto(f"/cases/{case_id}")
    agent.get_by_label("Your reply").fill("The fix is installed; please try the report again.")
    screenshot(agent, "case-reply")
    agent.get_by_role("button", name="Send the reply").click()
    expect(agent.locator(".flash-success")).to_contain_text("a call-back note was left")
    agent.get_by_role("navigation").get_by_role("link", name="Call-backs").click()
    row = agent.locator("#callbacks tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("The fix is installed")
    expect(row).to_contain_text("+86 10 1234 5678")
    screenshot(agent, "callbacks")
    row.get_by_role("link").click()
    expect(agent.locator("h1")).to_have_text("月末报表打不开")
