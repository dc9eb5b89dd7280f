"""The task page: the form from the task's JSON schema, completion with per-field errors."""
from __future__ import annotations

import re

from tests.helpers import DATA, get_case, only_task, step


def _form_of(text: str) -> str:
    return text[text.index('<form method="post" action="/tasks/'):text.index("</form>", text.index('id="task-form"'))]


def test_the_classify_form_is_the_schema_as_html(api, pages, acme_case):
    case = acme_case()
    task = only_task(api, case["id"])
    agent = pages("agent1")
    r = agent.get(f"/tasks/{task['id']}")
    assert r.status_code == 200
    form = _form_of(agent.text(r))
    assert '<label for="field-category">Category <span class="required-mark"' in form
    assert '<option value="data_problem"' in form and ">Data problem</option>" in form
    assert '<textarea id="field-classification_note" name="classification_note" rows="4" maxlength="2000"' in form
    assert f'name="version" value="{task["version"]}"' in form


def test_the_form_speaks_chinese_from_x_title_zh(api, pages, acme_case):
    case = acme_case()
    task = only_task(api, case["id"])
    agent = pages("agent1")
    agent.post("/language", {"lang": "zh_CN"})
    text = agent.text(agent.get(f"/tasks/{task['id']}"))
    assert "<h1>受理与分类</h1>" in text
    assert '<label for="field-category">问题类别' in text and ">数据问题</option>" in text


def test_completing_the_form_moves_the_case_on(api, pages, acme_case):
    case = acme_case()
    task = only_task(api, case["id"])
    agent = pages("agent1")
    agent.get(f"/tasks/{task['id']}")
    r = agent.post(f"/tasks/{task['id']}", {"version": task["version"], "category": "data_problem",
                                            "priority": "high", "classification_note": ""})
    assert r.status_code == 303
    after = get_case(api, case["id"])
    assert after["category"] == "data_problem" and after["priority"] == "high"
    assert [t["element_id"] for t in after["tasks"]] == ["assign"]
    done = [e for e in after["history"] if e["kind"] == "task_completed"]
    assert done[-1]["data"]["data"] == {"category": "data_problem", "priority": "high"}  # the empty note is absent


def test_a_field_error_is_shown_beside_the_field_and_nothing_is_saved(api, pages, acme_case):
    case = acme_case()
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")
    task = only_task(api, case["id"])
    assert task["element_id"] == "resolve"
    consultant = pages("consultant1")
    consultant.get(f"/tasks/{task['id']}")
    r = consultant.post(f"/tasks/{task['id']}", {"version": task["version"], "analysis": "Found it",
                                                 "outcome": "resolved", "time_spent_minutes": "forty"})
    assert r.status_code == 422, consultant.text(r)
    text = consultant.text(r)
    assert 'id="field-solution-error">This field is required.</p>' in text
    assert 'id="field-time_spent_minutes-error">Enter a whole number.</p>' in text
    assert 'value="forty"' in text and ">Found it</textarea>" in text  # what was typed stays
    assert 'aria-invalid="true"' in text
    assert only_task(api, case["id"])["version"] == task["version"]
    assert get_case(api, case["id"])["analysis"] is None


def test_a_stale_version_saves_nothing_and_says_so(api, pages, acme_case):
    case = acme_case()
    task = only_task(api, case["id"])
    agent = pages("agent1")
    agent.get(f"/tasks/{task['id']}")
    api.post(f"/api/v1/tasks/{task['id']}/claim", "agent2", json={"version": task["version"]})
    api.post(f"/api/v1/tasks/{task['id']}/release", "agent2", json={"version": task["version"] + 1})
    r = agent.post(f"/tasks/{task['id']}", {"version": task["version"], "category": "data_problem",
                                            "priority": "high"})
    assert r.status_code == 409
    assert "This task changed since you opened it" in agent.text(r)
    assert get_case(api, case["id"])["category"] != "data_problem" or only_task(api, case["id"])["element_id"] == "classify"
    assert only_task(api, case["id"])["element_id"] == "classify"


def test_a_date_time_field_is_entered_in_the_local_time(api, pages, acme_case):
    case = acme_case()
    step(api, case["id"], "classify")
    task = only_task(api, case["id"])
    agent = pages("agent1")
    text = agent.text(agent.get(f"/tasks/{task['id']}"))
    assert re.search(r'<option value="consultant1"', text)  # the owner is chosen among consultants
    r = agent.post(f"/tasks/{task['id']}", {"version": task["version"], "owner": "consultant1",
                                            "due_at": "2030-01-02T17:30"})
    assert r.status_code == 303
    assert get_case(api, case["id"])["due_at"].startswith("2030-01-02T09:30")  # Asia/Shanghai is UTC+8
    assert '<dd id="case-due">1/2/30, 5:30\u202fPM</dd>' in agent.text(agent.get(f"/cases/{case['id']}"))


def test_claim_and_release_from_the_task_page(api, pages, acme_case):
    case = acme_case()
    task = only_task(api, case["id"])
    agent = pages("agent1")
    agent.get(f"/tasks/{task['id']}")
    r = agent.post(f"/tasks/{task['id']}/claim", {"version": task["version"]})
    assert r.status_code == 303
    assert only_task(api, case["id"])["assignee"] == "agent1"
    other = pages("agent2")
    text = other.text(other.get(f"/tasks/{task['id']}"))
    assert 'id="task-form"' not in text and "is working on this task" in text
    agent.get(f"/tasks/{task['id']}")
    r = agent.post(f"/tasks/{task['id']}/release", {"version": task["version"] + 1})
    assert r.status_code == 303 and only_task(api, case["id"])["assignee"] is None
