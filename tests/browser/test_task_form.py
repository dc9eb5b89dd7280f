"""In a real browser: the resolve form shows each conditional field only when it applies (the
bundled web/assets/src/forms.js), sends only what applies, and shows the whole case beside it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import DATA, get_case, only_task, open_case, step


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_resolve_form_shows_the_fields_that_apply(api, world, page_as, screenshot, locale):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")
    task = only_task(api, case["id"])
    page = page_as("consultant1", locale)
    page.goto(f"/tasks/{task['id']}")
    expect(page.locator("#task-form")).to_have_attribute("data-conditional", "ready")
    question, solution = page.locator("#field-question"), page.locator("#field-solution")
    appointment = page.locator("#field-appointment_start")
    expect(question).to_be_hidden()
    expect(solution).to_be_hidden()
    expect(page.locator("#field-analysis")).to_be_visible()
    expect(page.locator("#task-case")).to_contain_text("Windows 10, SQL Server 2017")
    expect(page.locator("#timeline")).to_contain_text("Task done" if locale == "en" else "任务已完成")

    page.locator("input[name=outcome][value=resolved]").check()
    expect(solution).to_be_visible()
    expect(question).to_be_hidden()
    expect(appointment).to_be_hidden()
    page.locator("#field-service_mode").select_option("on_site")
    expect(appointment).to_be_visible()
    page.locator("#field-service_mode").select_option("remote")
    expect(appointment).to_be_hidden()
    screenshot(page, f"task-resolve-{locale}")

    page.locator("input[name=outcome][value=need_info]").check()
    expect(question).to_be_visible()
    expect(solution).to_be_hidden()
    page.locator("#field-analysis").fill("Cannot tell yet.")
    question.fill("Which version of the report do you run?")
    page.locator("#task-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    after = get_case(api, case["id"])
    assert after["stage"] == "waiting:customer_reply"
    done = [e for e in after["history"] if e["kind"] == "task_completed"][-1]["data"]["data"]
    assert done == {"analysis": "Cannot tell yet.", "outcome": "need_info",
                    "question": "Which version of the report do you run?"}  # hidden fields are not sent
