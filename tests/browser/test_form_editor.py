"""A process owner edits a task form's JSON schema with a live preview of the form, validates it as
an upload would be, and deploys it with a change note."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from cases.core.db import db
from cases.process.deploy import active_version
from cases.process.models import ProcessVersion

URL = "/owner/forms/classify.schema.json"


def _versions(app):
    with app.app_context():
        return db.session.scalar(select(func.count(ProcessVersion.id))), active_version().id


def test_the_form_editor_previews_validates_and_deploys(app, page_as, screenshot, restore_active_version):
    count, old_active = _versions(app)
    page = page_as("owner")
    page.goto(URL)
    expect(page.locator("#form-editor")).to_have_attribute("data-state", "ready")
    expect(page.locator("#preview-title")).to_have_text("Classify the case")
    schema = json.loads(page.locator("#schema").input_value())

    # a new field appears in the preview as it is typed
    schema["properties"]["internal_note"] = {"title": "Internal note", "type": "string"}
    page.locator("#schema").fill(json.dumps(schema, indent=2, ensure_ascii=False))
    expect(page.locator("#preview").get_by_label("Internal note")).to_be_visible()
    # broken JSON: the preview says where, nothing else happens
    page.locator("#schema").fill('{"type": "object",')
    expect(page.locator("#preview-error")).to_contain_text("The schema is not JSON (line 1")
    # a schema the checks refuse: the same problem an upload gets
    page.locator("#schema").fill(json.dumps({"type": "nonsense"}))
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#form-status")).to_contain_text("problem(s): nothing was deployed.", timeout=30_000)
    expect(page.locator("#problems li").first).to_contain_text("classify.schema.json")
    assert _versions(app) == (count, old_active)

    page.locator("#schema").fill(json.dumps(schema, indent=2, ensure_ascii=False))
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#form-status")).to_have_text("No problems: the form can be deployed.", timeout=30_000)
    screenshot(page, "owner-form-editor")
    page.get_by_role("button", name="Deploy as a new version").click()
    expect(page.locator("#form-status")).to_have_text("Write a change note first: what changed and why.")
    page.get_by_label("Change note: what changed and why").fill("Agents can leave an internal note")
    page.get_by_role("button", name="Deploy as a new version").click()
    page.wait_for_url(re.compile(r"/owner/versions/\d+$"))
    new_count, new_active = _versions(app)
    assert new_count == count + 1 and new_active != old_active
    expect(page.locator("#change-note")).to_have_text("Agents can leave an internal note")
    expect(page.locator('#changes li[data-element="forms/classify.schema.json"]')).to_be_visible()
    with app.app_context():
        stored = json.loads(db.session.get(ProcessVersion, new_active).files["forms/classify.schema.json"])
    assert stored["properties"]["internal_note"] == {"title": "Internal note", "type": "string"}
