"""The web application in a real browser: the issue's scenarios, with a screenshot of each page
(test-artifacts/screenshots/)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time
from playwright.sync_api import Page, expect

from tests.helpers import DATA, get_case, only_task, open_case, step, worker_for


def work_on(page: Page, case_number: str) -> None:
    """From the inbox to the case's task: my tasks first, else claim it from the claimable ones."""
    page.goto("/inbox?scope=mine")
    row = page.locator("#tasks tr", has_text=case_number)
    if row.count():
        row.get_by_role("link").first.click()
    else:
        page.goto("/inbox?scope=claimable")
        page.locator("#tasks tr", has_text=case_number).get_by_role("button", name="Claim").click()
    expect(page.locator("#task-form")).to_be_visible()


def test_an_agent_completes_a_case_from_the_inbox_through_its_forms(api, world, page_as, screenshot):
    case = open_case(api, "agent1", customer_id=world.customers["ACME"].id, title="Month-end report fails")
    browsers: dict[str, Page] = {}

    def worker() -> Page:
        """The browser of whoever the case's open task is for (round robin decides some)."""
        task = only_task(api, case["id"])
        username = worker_for(task)
        if username not in browsers:
            browsers[username] = page_as(username)
        page = browsers[username]
        work_on(page, case["number"])
        return page

    agent = page_as("agent1")
    browsers["agent1"] = agent
    agent.goto("/inbox?scope=claimable")
    expect(agent.locator("#tasks")).to_contain_text("Month-end report fails")
    screenshot(agent, "inbox")
    work_on(agent, case["number"])
    screenshot(agent, "task-classify")
    agent.get_by_label("Category").select_option("data_problem")
    agent.get_by_label("Priority").select_option("high")
    agent.get_by_role("button", name="Complete the task").click()
    expect(agent.locator(".flash-success")).to_contain_text("is done")

    page = worker()  # assign: the owner and the due date
    page.get_by_label("Owner (user name)").select_option("consultant1")
    page.get_by_label("Due at").fill("2030-01-02T17:30")
    page.get_by_role("button", name="Complete the task").click()
    expect(page.locator(".flash-success")).to_be_visible()

    consultant = worker()
    consultant.get_by_label("Analysis (root cause)").fill("A null reference in the report query.")
    consultant.get_by_label("Resolved: ask the customer to confirm").check()  # shows the fields it needs
    consultant.get_by_label("Solution (the result)").fill("Patched the query.")
    consultant.locator("#field-contact_made").get_by_label("Yes").check()
    consultant.get_by_label("Mode").select_option("remote")
    consultant.get_by_label("Actions taken").fill("Connected remotely and patched the query.")
    consultant.get_by_label("Time spent (minutes)").fill("40")
    screenshot(consultant, "task-resolve")
    consultant.get_by_role("button", name="Complete the task").click()
    expect(consultant.locator(".flash-success")).to_be_visible()

    customer = page_as("acme_user")
    expect(customer.locator("#waiting")).to_contain_text(case["number"])
    screenshot(customer, "portal")
    customer.locator("#waiting").get_by_role("link").first.click()
    customer.get_by_label("Yes").check()
    customer.get_by_role("button", name="Complete the task").click()
    expect(customer).to_have_url(re.compile(rf"/cases/{case['id']}$"))

    page = worker()  # the callback
    page.locator("#field-reached").get_by_label("Yes").check()
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Satisfaction (1 = very unhappy, 5 = very happy)").fill("5")
    page.get_by_role("button", name="Complete the task").click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert get_case(api, case["id"])["status"] == "closed"
    page.goto(f"/cases/{case['id']}")
    expect(page.locator("#timeline")).to_contain_text("Case closed")
    screenshot(page, "case-closed")


def test_a_field_error_is_shown_and_nothing_is_saved(api, world, page_as, screenshot):
    case = open_case(api, "agent1", customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")
    task = only_task(api, case["id"])
    consultant = page_as("consultant1")
    consultant.goto(f"/tasks/{task['id']}")
    consultant.get_by_label("Analysis (root cause)").fill("Found it")
    consultant.get_by_label("Resolved: ask the customer to confirm").check()
    consultant.get_by_role("button", name="Complete the task").click()
    expect(consultant.locator("#form-errors")).to_be_visible()
    expect(consultant.locator("#field-solution-error")).to_have_text("This field is required.")
    expect(consultant.get_by_label("Analysis (root cause)")).to_have_value("Found it")
    screenshot(consultant, "task-field-error")
    assert only_task(api, case["id"])["version"] == task["version"]
    assert get_case(api, case["id"])["analysis"] is None


def test_a_supervisor_reassigns_a_breached_case_on_the_board(api, world, page_as, screenshot):
    with freeze_time(datetime.now(timezone.utc) - timedelta(days=10)):
        case = open_case(api, "agent1", customer_id=world.customers["VIPCO"].id, title="Warehouse stock wrong")
    supervisor = page_as("supervisor")
    expect(supervisor).to_have_url(re.compile(r"/board$"))
    row = supervisor.locator("#escalations tr", has_text="Warehouse stock wrong")
    expect(row.locator(".sla-breached").first).to_contain_text("overdue by")
    screenshot(supervisor, "board")
    supervisor.get_by_text(f"Act on {case['number']}").click()
    supervisor.get_by_label("Reassign to").select_option("agent2")
    supervisor.locator(f"#reassign-reason-{case['id']}").fill("agent1 is on leave")
    supervisor.get_by_role("button", name="Reassign").click()
    expect(supervisor.locator(".flash-success")).to_contain_text("now belongs to")
    assert get_case(api, case["id"])["owner"] == "agent2"


def test_a_customer_opens_a_case_and_confirms_the_resolution(api, world, page_as, screenshot, tmp_path):
    customer = page_as("acme_user")
    customer.get_by_role("link", name="Report a new problem").click()
    customer.get_by_label("Subject").fill("Label printer prints blank pages")
    customer.get_by_label("What happened?").fill("Since this morning every label comes out blank.")
    log = tmp_path / "printer.log"
    log.write_text("09:01 job 1 sent\n09:02 job 1 done, 0 dots\n")
    customer.get_by_label("Attachments").set_input_files(str(log))
    screenshot(customer, "portal-new-case")
    customer.get_by_role("button", name="Send").click()
    expect(customer.locator(".flash-success")).to_contain_text("is open")
    expect(customer.locator("#attachments").locator("..")).to_contain_text("printer.log")
    case_id = int(customer.url.rsplit("/", 1)[1])
    step(api, case_id, "classify")
    step(api, case_id, "assign", DATA["assign"], as_user="agent1")
    step(api, case_id, "resolve")
    customer.goto("/portal")
    customer.locator("#waiting").get_by_role("link").first.click()
    screenshot(customer, "task-confirm")
    customer.get_by_label("Yes").check()
    customer.get_by_role("button", name="Complete the task").click()
    expect(customer.locator("#timeline")).to_contain_text("Task done")
    screenshot(customer, "case-customer")
    assert only_task(api, case_id)["element_id"] == "callback"


def test_the_chinese_locale_renders_the_inbox(api, world, page_as, screenshot):
    open_case(api, "agent1", customer_id=world.customers["ACME"].id, title="月末报表打开时报错")
    agent = page_as("agent1", locale="zh-CN")
    agent.goto("/inbox?scope=claimable")
    expect(agent.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(agent.locator("h1")).to_have_text("待办")
    expect(agent.locator("#tasks")).to_contain_text("月末报表打开时报错")
    expect(agent.get_by_role("button", name=re.compile("领取")).first).to_be_visible()
    screenshot(agent, "inbox-zh")


def test_a_form_without_its_csrf_token_is_refused(api, world, page_as, screenshot):
    case = open_case(api, "agent1", customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    agent = page_as("agent1")
    agent.goto(f"/tasks/{task['id']}")
    agent.locator("#task-form input[name=csrf_token]").evaluate("input => input.remove()")
    agent.get_by_label("Category").select_option("data_problem")
    agent.get_by_label("Priority").select_option("high")
    agent.get_by_role("button", name="Complete the task").click()
    expect(agent.locator("h1")).to_contain_text("The form has expired")
    screenshot(agent, "csrf-refused")
    assert only_task(api, case["id"])["element_id"] == "classify"


def test_a_customer_cannot_open_another_organisations_case(api, world, page_as, screenshot):
    case = open_case(api, "agent1", customer_id=world.customers["OTHER"].id, title="Other Inc's secret")
    customer = page_as("acme_user")
    response = customer.goto(f"/cases/{case['id']}")
    assert response.status == 404
    expect(customer.locator("h1")).to_contain_text("Not found")
    expect(customer.locator("main")).not_to_contain_text("Other Inc's secret")
    screenshot(customer, "not-found")
