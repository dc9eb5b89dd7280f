"""A process owner edits the active version's diagram in the bpmn-js modeller and deploys it; a bad
diagram shows the validation problem on the offending element and deploys nothing."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect
from sqlalchemy import func, select

from cases.core.db import db
from cases.process.deploy import active_version
from cases.process.models import ProcessVersion

EDITOR = "/owner/editor/support_case.bpmn"


def _versions(app) -> tuple[int, int]:
    with app.app_context():
        return db.session.scalar(select(func.count(ProcessVersion.id))), active_version().id


#: how long the page may wait for the server's full validation of every process file (about half a
#: second on an idle machine; several seconds while the whole suite runs on two shared cores)
SERVER_CHECK_MS = 30_000


def _open_editor(page):
    page.goto("/owner/processes")
    page.get_by_role("link", name="Edit support_case.bpmn in the modeller").click()
    expect(page.locator("#modeller")).to_have_attribute("data-modeller-state", "ready")
    expect(page.get_by_role("button", name="Review the changes and deploy")).to_be_enabled()


def _select(page, element_id: str):
    page.locator(f'#modeller [data-element-id="{element_id}"]').click()
    expect(page.locator("#properties").get_by_label("Id")).to_have_value(element_id)


def test_a_process_owner_changes_a_diagram_and_deploys_it(app, page_as, screenshot, restore_active_version):
    count, old_active = _versions(app)
    page = page_as("owner")
    _open_editor(page)
    _select(page, "assign")
    panel = page.locator("#properties")
    name = f"Assign owner, due date and team ({uuid.uuid4().hex[:6]})"  # content no other test deployed
    panel.get_by_label("Name").fill(name)
    panel.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#editor-status")).to_have_text("No problems: the diagram can be deployed.",
                                                          timeout=SERVER_CHECK_MS)
    screenshot(page, "owner-modeller")

    page.get_by_role("button", name="Review the changes and deploy").click()
    expect(page.locator("#editor-status")).to_have_text("Write a change note first: what changed and why.")
    page.get_by_label("Change note: what changed and why").fill("The assign step names the team too")
    page.get_by_role("button", name="Review the changes and deploy").click()
    expect(page.locator('#changes li[data-element="assign"]')).to_have_text(f"changed: userTask assign ({name})",
                                                                           timeout=SERVER_CHECK_MS)
    expect(page.locator('.djs-element.cf-changed[data-element-id="assign"]')).to_have_count(1)
    screenshot(page, "owner-modeller-review")
    assert _versions(app) == (count, old_active)  # reviewing deploys nothing
    page.get_by_role("button", name="Deploy these changes as a new version").click()
    page.wait_for_url(re.compile(r"/owner/versions/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("is deployed and active: new cases start on it.")
    expect(page.locator("h1 .badge-active")).to_have_text("active")
    new_count, new_active = _versions(app)
    assert (new_count, new_active != old_active) == (count + 1, True)
    assert page.url.endswith(f"/owner/versions/{new_active}")
    with app.app_context():
        files = db.session.get(ProcessVersion, new_active).files
        assert f'id="assign" name="{name}"' in files["support_case.bpmn"]
        # the other files are the previous active version's (a merge, as ?merge=true)
        previous = db.session.get(ProcessVersion, old_active).files
        assert {n: t for n, t in files.items() if n != "support_case.bpmn"} == \
               {n: t for n, t in previous.items() if n != "support_case.bpmn"}
    expect(page.locator("#change-note")).to_have_text("The assign step names the team too")
    expect(page.locator('#changes .diff-changed li[data-element="assign"]')).to_be_visible()
    # the version page draws the new diagram
    expect(page.locator('[data-bpmn-viewer][data-diagram-state="shown"]').first).to_be_visible()
    page.goto("/owner/processes")
    expect(page.locator(f'#versions tr[data-version-id="{new_active}"] .badge-active')).to_have_text("active")
    screenshot(page, "owner-processes")


def test_a_bad_diagram_shows_the_problem_on_the_element_and_deploys_nothing(app, page_as, screenshot,
                                                                            restore_active_version):
    before = _versions(app)
    page = page_as("owner")
    _open_editor(page)
    _select(page, "assign")
    row = page.locator("#properties .cf-property-row").filter(
        has=page.locator('input[name=property-name][value="formJsonSchemaFilename"]'))
    row.locator("input[name=property-value]").fill("missing.schema.json")
    page.locator("#properties").get_by_role("button", name="Apply").click()

    page.get_by_label("Change note: what changed and why").fill("A form that does not exist")
    page.get_by_role("button", name="Review the changes and deploy").click()
    expect(page.locator("#editor-status")).to_have_text("1 problem(s): nothing was deployed.",
                                                          timeout=SERVER_CHECK_MS)
    overlay = page.locator('.cf-problem-overlay[data-element="assign"]')
    expect(overlay).to_contain_text("form 'missing.schema.json' does not exist in forms/")
    expect(page.locator('#modeller [data-element-id="assign"]')).to_have_class(re.compile(r"\bcf-problem\b"))
    expect(page.locator("#problems li")).to_have_count(1)
    expect(page.locator("#problems li")).to_contain_text("support_case.bpmn, assign, line ")
    assert page.url.endswith(EDITOR)
    assert _versions(app) == before
    screenshot(page, "owner-modeller-problem")

    # fixed in the panel, the same page deploys
    row.locator("input[name=property-value]").fill("assign.schema.json")
    page.locator("#properties").get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#editor-status")).to_have_text("No problems: the diagram can be deployed.",
                                                          timeout=SERVER_CHECK_MS)
    expect(overlay).to_have_count(0)
