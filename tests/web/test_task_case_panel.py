"""The task page shows the whole case beside the form (description, environment, steps, files with
image previews, the history for staff, the customer record), marks the form's conditional fields
with the situations they apply in, and starts empty of what an earlier round of the step answered."""
from __future__ import annotations

import io
import json
import re

from tests.helpers import DATA, get_case, only_task, send_message, step
from tests.web.test_case_pages import PNG


def _resolve_task(api, acme_case) -> tuple[dict, dict]:
    case = acme_case()
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")
    task = only_task(api, case["id"])
    assert task["element_id"] == "resolve"
    return case, task


def _wrapper_of(text: str, name: str) -> str:
    """The opening tag of the block (div or fieldset) that holds field ``name``."""
    found = re.search(r'<(div|fieldset) class="field[^"]*"[^>]*>\s*(<legend>|<label for="field-' + name + '")',
                      text[:text.index(f'field-{name}') + 200])
    blocks = re.findall(r'<(?:div|fieldset) class="field[^"]*"[^>]*>', text[:text.index(f'name="{name}"')])
    assert found or blocks
    return blocks[-1]


def test_the_task_page_shows_the_whole_case_beside_the_form(api, pages, acme_case):
    case, task = _resolve_task(api, acme_case)
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    customer.post(f"/cases/{case['id']}/attachments", {"file": (io.BytesIO(PNG), "screen.png")},
                  content_type="multipart/form-data")
    customer.post(f"/cases/{case['id']}/attachments", {"file": (io.BytesIO(b"ERROR 42 at line 7\n"), "app.log")},
                  content_type="multipart/form-data")
    consultant = pages("consultant1")
    text = consultant.text(consultant.get(f"/tasks/{task['id']}"))
    panel = text[text.index('id="task-case"'):]
    assert "Opening the month-end report fails." in panel
    assert 'id="task-case-environment">Windows 10, SQL Server 2017<' in panel
    assert 'id="task-case-steps">Open the report<' in panel
    image = re.search(r'<img src="(/attachments/\d+)" alt="screen.png"', panel)
    assert image, "an image is previewed inline"
    assert consultant.get(image.group(1)).data == PNG
    assert re.search(r'<a href="/attachments/\d+">app.log</a>', panel)
    assert 'alt="app.log"' not in panel  # other files are links only
    assert 'id="customer-panel"' in panel and "Acme Ltd" in panel  # the customer record summary
    history = panel[panel.index('id="timeline"'):]
    assert "Task done" in history and "Case opened" in history and "File attached" in history


def test_a_customer_task_page_shows_no_history(api, pages, acme_case):
    case, _task = _resolve_task(api, acme_case)
    step(api, case["id"], "resolve", DATA["resolve"], as_user="consultant1")
    confirm = only_task(api, case["id"])
    assert confirm["element_id"] == "confirm"
    customer = pages("acme_user")
    text = customer.text(customer.get(f"/tasks/{confirm['id']}"))
    assert "Opening the month-end report fails." in text
    assert 'id="timeline"' not in text and 'id="customer-panel"' not in text


def test_conditional_fields_carry_the_situations_they_apply_in(api, pages, acme_case):
    _case, task = _resolve_task(api, acme_case)
    consultant = pages("consultant1")
    text = consultant.text(consultant.get(f"/tasks/{task['id']}"))

    def when(name: str):
        tag = _wrapper_of(text, name)
        found = re.search(r"data-show-when='([^']*)'", tag)
        return json.loads(found.group(1).replace("&#34;", '"')) if found else None

    assert when("analysis") is None and when("outcome") is None  # always asked
    assert when("question") == [{"outcome": "need_info"}]
    assert when("solution") == [{"outcome": "resolved"}]
    assert when("contact_made") == [{"outcome": "resolved"}]
    assert when("appointment_start") == [{"service_mode": "on_site"}]
    assert "dist/forms.js" in text and "<script>" not in text  # a bundled script, never an inline one


def test_the_schema_decides_what_is_required_without_the_script(api, pages, acme_case):
    case, task = _resolve_task(api, acme_case)
    consultant = pages("consultant1")
    consultant.get(f"/tasks/{task['id']}")
    r = consultant.post(f"/tasks/{task['id']}", {"version": task["version"], "analysis": "Unclear",
                                                 "outcome": "need_info"})
    assert r.status_code == 422
    text = consultant.text(r)
    assert 'id="field-question-error">This field is required.</p>' in text
    assert 'id="field-solution-error"' not in text  # not required when asking
    assert only_task(api, case["id"])["version"] == task["version"]


def test_a_second_round_starts_empty_of_the_first_rounds_answers(api, pages, acme_case):
    case, task = _resolve_task(api, acme_case)
    step(api, case["id"], "resolve", {"analysis": "Cannot tell yet.", "outcome": "need_info",
                                      "question": "Which version of the report do you run?"}, as_user="consultant1")
    assert get_case(api, case["id"])["stage"] == "waiting:customer_reply"
    send_message(api, case["id"], "customer_reply", {"text": "Version 7.2"})
    again = only_task(api, case["id"])
    assert again["element_id"] == "resolve" and again["id"] != task["id"]
    consultant = pages("consultant1")
    text = consultant.text(consultant.get(f"/tasks/{again['id']}"))
    form = text[text.index('id="task-form"'):text.index("</form>", text.index('id="task-form"'))]
    assert "Which version of the report do you run?" not in form
    assert "Cannot tell yet." not in form
    assert " checked" not in form  # no outcome chosen
    assert "Which version of the report do you run?" in text  # the history still says what was asked
    r = api.get(f"/api/v1/tasks/{again['id']}", "consultant1")
    assert "question" not in r.json["values"] and "outcome" not in r.json["values"]
