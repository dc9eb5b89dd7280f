"""A process owner edits a decision table in the browser (dmn-js, bundled from web/assets; the
page's Content-Security-Policy unchanged: no inline script, nothing from elsewhere), sees the
server's refusal of a bad cell marked on that cell, and deploys a good edit with a change note."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from cases.core.db import db
from cases.process.deploy import active_version
from cases.process.models import ProcessVersion
from cases.whatif.models import WhatifRun

URL = "/owner/decisions/classify_case.dmn"
#: rule R03 (a VIP customer who named a category), column 3: the customer's tier
CELL = 'td[data-element-id="R03_in2"]'


def _versions(app):
    with app.app_context():
        return db.session.scalar(select(func.count(ProcessVersion.id))), active_version().id


def _type_into(page, text: str) -> None:
    """Type into the cell as a person does (its editor closes brackets and quotes as they are typed)."""
    page.locator(CELL).click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.locator("h1").click()  # leave the cell
    expect(page.locator(CELL)).to_have_text(text)


def test_the_decision_table_editor_validates_and_deploys(app, page_as, restore_active_version):
    count, old_active = _versions(app)
    page = page_as("owner")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: blocked.append(str(e)))
    page.goto(URL)
    expect(page.locator("#dmn-editor")).to_have_attribute("data-state", "ready")
    expect(page.locator(CELL)).to_have_text('"vip"')
    expect(page.locator(".tjs-table")).to_be_visible()

    # a cell Python cannot read: the same problem an upload gets, on the cell, the edit kept
    _type_into(page, '"vip" ==')
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#dmn-status")).to_contain_text("problem(s): nothing was deployed.", timeout=30_000)
    expect(page.locator('#problems li[data-element="R03_in2"]')).to_contain_text("classify_case.dmn")
    expect(page.locator('#problems li[data-element="R03_in2"]')).to_contain_text("Rule 3, column 3")
    expect(page.locator(CELL)).to_have_class(re.compile(r"\bcf-problem\b"))
    expect(page.locator(CELL)).to_have_text('"vip" ==')
    # deploying it is refused the same way, and nothing is deployed
    page.get_by_label("Change note: what changed and why").fill("Gold customers count as VIP")
    page.get_by_role("button", name="Deploy as a new version").click()
    expect(page.locator("#dmn-status")).to_contain_text("problem(s): nothing was deployed.", timeout=30_000)
    assert _versions(app) == (count, old_active)

    # a good cell: validated, then deployed as a new version with the note
    _type_into(page, 'in ("vip", "gold")')
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#dmn-status")).to_have_text("No problems: the decision table can be deployed.",
                                                     timeout=30_000)
    expect(page.locator(CELL)).not_to_have_class(re.compile(r"\bcf-problem\b"))
    page.get_by_role("button", name="Deploy as a new version").click()
    page.wait_for_url(re.compile(r"/owner/versions/\d+$"), timeout=30_000)
    new_count, new_active = _versions(app)
    assert new_count == count + 1 and new_active != old_active
    expect(page.locator("#change-note")).to_have_text("Gold customers count as VIP")
    with app.app_context():
        stored = db.session.get(ProcessVersion, new_active).files["classify_case.dmn"]
    assert re.search(r'<inputEntry id="R03_in2">\s*<text>in \("vip", "gold"\)</text>', stored), stored[:2000]
    assert blocked == []


def test_the_classification_table_as_edited_is_replayed_in_what_if(app, page_as, restore_active_version):
    """Before deploying, the owner replays the table as it is in the editor over the last 90 days:
    What if keeps the replay with the edited table as its proposal, and nothing is deployed."""
    count, old_active = _versions(app)
    page = page_as("owner")
    page.goto(URL)
    expect(page.locator("#dmn-editor")).to_have_attribute("data-state", "ready")
    _type_into(page, '"standard"')
    page.locator("#dmn-whatif-submit").click()
    page.wait_for_url(re.compile(r"/whatif/runs/\d+$"))
    expect(page.locator("h1")).to_contain_text("classify_case.dmn")
    with app.app_context():
        run = db.session.scalars(select(WhatifRun).order_by(WhatifRun.id.desc())).first()
        assert '"standard"' in run.proposal["classification"]["dmn"]
        assert run.result["routing"] is not None
    assert _versions(app) == (count, old_active)
