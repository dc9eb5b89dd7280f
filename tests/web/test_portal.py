"""The customer portal: own cases, opening a case with attachments, confirming a resolution."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from cases.casework.models import Attachment
from cases.core.db import db
from cases.core.models import Case
from tests.helpers import DATA, get_case, only_task, step
from tests.web.test_case_pages import PNG


def test_the_portal_lists_only_my_organisations_cases(pages, acme_case, api, world):
    from tests.helpers import open_case
    mine = acme_case(title="Our report fails")
    open_case(api, "agent1", customer_id=world.customers["OTHER"].id, title="Their secret problem")
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal"))
    assert "Our report fails" in text and mine["number"] in text
    assert "Their secret problem" not in text


def test_a_customer_opens_a_case_with_attachments(pages, api, app_ctx):
    customer = pages("acme_user")
    customer.get("/portal/cases/new")
    r = customer.post("/portal/cases/new", {"title": "Printing fails", "description": "Nothing comes out.",
                                            "contact_email": "li@acme.example",
                                            "files": [(io.BytesIO(PNG), "error.png")]},
                      content_type="multipart/form-data")
    assert r.status_code == 303
    case = db.session.scalar(select(Case).where(Case.title == "Printing fails"))
    assert case.channel == "web" and case.customer.code == "ACME" and case.contact_email == "li@acme.example"
    assert r.headers["Location"] == f"/cases/{case.id}"
    text = customer.text(customer.get(r.headers["Location"]))
    assert "error.png</a>" in text and f"Your case {case.number} is open" in text


def test_a_new_case_with_errors_is_not_opened(pages, app_ctx):
    customer = pages("acme_user")
    customer.get("/portal/cases/new")
    r = customer.post("/portal/cases/new", {"title": "", "description": "x", "contact_email": "not-an-address"},
                      content_type="multipart/form-data")
    assert r.status_code == 422
    text = customer.text(r)
    assert 'id="field-title-error">This field is required.</p>' in text
    assert 'id="field-contact_email-error">Enter an e-mail address.</p>' in text
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_refused_attachment_opens_no_case(pages, app_ctx):
    customer = pages("acme_user")
    customer.get("/portal/cases/new")
    r = customer.post("/portal/cases/new", {"title": "With a script", "description": "See the file.",
                                            "files": [(io.BytesIO(b"<script>alert(1)</script>"), "x.html")]},
                      content_type="multipart/form-data")
    assert r.status_code == 422 and "A file was refused" in customer.text(r)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def _resolved(api, case_id) -> None:
    step(api, case_id, "classify")
    step(api, case_id, "assign", DATA["assign"], as_user="agent1")
    step(api, case_id, "resolve")


def test_a_customer_confirms_the_resolution_from_the_portal(api, pages, acme_case):
    case = acme_case()
    _resolved(api, case["id"])
    task = only_task(api, case["id"])
    assert task["element_id"] == "confirm"
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal"))
    assert f'href="/tasks/{task["id"]}"' in text and "Waiting for you" in text
    text = customer.text(customer.get(f"/tasks/{task['id']}"))
    assert f'<blockquote>{DATA["resolve"]["solution"]}</blockquote>' in text  # what to confirm, beside the form
    assert "Lane" not in text and "Claim" not in text and "unassigned" not in text
    r = customer.post(f"/tasks/{task['id']}", {"version": task["version"], "confirmed": "true"})
    assert r.status_code == 303 and r.headers["Location"] == f"/cases/{case['id']}"
    assert only_task(api, case["id"])["element_id"] == "callback"


def test_rejecting_a_resolution_needs_a_comment(api, pages, acme_case):
    case = acme_case()
    _resolved(api, case["id"])
    task = only_task(api, case["id"])
    customer = pages("acme_user")
    text = customer.text(customer.get(f"/tasks/{task['id']}"))
    assert 'Required when &#34;The problem is solved&#34; is &#34;No&#34;.' in text
    r = customer.post(f"/tasks/{task['id']}", {"version": task["version"], "confirmed": "false"})
    assert r.status_code == 422
    assert 'id="field-confirmation_comment-error">This field is required.</p>' in customer.text(r)
    r = customer.post(f"/tasks/{task['id']}", {"version": task["version"], "confirmed": "false",
                                               "confirmation_comment": "Still fails on Mondays."})
    assert r.status_code == 303
    assert get_case(api, case["id"])["status"] == "open"
    assert only_task(api, case["id"])["element_id"] != "confirm"
