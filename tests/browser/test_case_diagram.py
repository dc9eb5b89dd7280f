"""The case page draws the case's process diagram with the steps it went through and the task it
waits at highlighted (web/templates/case.html's #case-diagram, drawn by dist/viewer.js)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import open_case, step


def test_the_case_page_highlights_the_current_task(api, world, page_as, screenshot):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify")
    page = page_as("supervisor")
    page.goto(f"/cases/{case['id']}")
    diagram = page.locator("#case-diagram")
    expect(diagram).to_have_attribute("data-diagram-state", "shown")
    expect(diagram.locator('[data-element-id="assign"]')).to_have_class(re.compile(r"\bcf-current\b"))
    for done in ("case_opened", "init_case", "propose_classification", "classify"):
        expect(diagram.locator(f'[data-element-id="{done}"]')).to_have_class(re.compile(r"\bcf-completed\b"))
    expect(diagram.locator('[data-element-id="resolve"]')).not_to_have_class(re.compile(r"\bcf-(current|completed)\b"))
    # the styles came with the script: the current task has its thick amber outline
    stroke = diagram.locator('[data-element-id="assign"] .djs-visual > :first-child').evaluate(
        "e => [getComputedStyle(e).stroke, getComputedStyle(e).strokeWidth]")
    assert stroke == ["rgb(138, 75, 0)", "4px"]
    expect(diagram.locator(".cf-legend")).to_have_text(re.compile(r"Completed\s*Current"))
    expect(diagram.locator(".cf-visually-hidden")).to_contain_text("Current: Assign owner and due date, SLA ladder step due.")
    # zoom to the current step: it is drawn at its own size, inside the visible canvas
    page.get_by_role("button", name="Zoom to the current step").click()
    inside = diagram.locator('[data-element-id="assign"]').evaluate('''e => {
        const c = e.closest('.cf-diagram-canvas').getBoundingClientRect(), r = e.getBoundingClientRect();
        return [Math.round(r.width), r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom];
    }''')
    assert inside == [100, True]  # a task is 100 wide in the file
    screenshot(page, "case-diagram-current-step")
    page.get_by_role("button", name="Show the whole process").click()
    screenshot(page, "case-diagram")


def test_the_diagram_speaks_chinese_on_a_chinese_page(api, world, page_as):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    page = page_as("supervisor", locale="zh-CN")
    page.goto(f"/cases/{case['id']}")
    diagram = page.locator("#case-diagram")
    expect(diagram).to_have_attribute("data-diagram-state", "shown")
    expect(diagram.locator('[data-element-id="classify"]')).to_have_class(re.compile(r"\bcf-current\b"))
    expect(diagram.locator(".cf-legend")).to_have_text(re.compile(r"已完成\s*当前"))
