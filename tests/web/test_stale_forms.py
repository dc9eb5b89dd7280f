"""A stale save loses nothing typed: the task form or the customer record form comes back with what
was typed and the reason; when the task was done meanwhile, what was typed is shown to copy."""
from __future__ import annotations

from tests.helpers import DATA, only_task, step

#: the resolve form as a browser sends it
FORM = {"outcome": "resolved", "solution": "Patched the query.", "contact_made": "true", "service_mode": "remote",
        "actions": "Connected remotely.", "time_spent_minutes": "40"}


def _to_resolve(api, case_id) -> dict:
    step(api, case_id, "classify")
    step(api, case_id, "assign", DATA["assign"], as_user="agent1")
    return only_task(api, case_id)


def test_a_stale_task_save_keeps_the_typed_note(api, pages, acme_case):
    case = acme_case()
    task = _to_resolve(api, case["id"])
    consultant = pages("consultant1")
    consultant.get(f"/tasks/{task['id']}")
    assert task["assignee"] == "consultant1"
    r = api.post(f"/api/v1/tasks/{task['id']}/release", "consultant1", json={"version": task["version"]})
    assert r.status_code == 200  # another tab of the same user gave it back
    r = consultant.post(f"/tasks/{task['id']}", {**FORM, "version": task["version"],
                                                 "analysis": "The index was missing; rebuilt it at 10:40."})
    assert r.status_code == 409
    page = consultant.text(r)
    assert "This task changed since you opened it" in page
    assert "The index was missing; rebuilt it at 10:40." in page and 'id="task-form"' in page


def test_a_task_done_meanwhile_shows_what_was_typed(api, pages, acme_case):
    case = acme_case()
    task = _to_resolve(api, case["id"])
    consultant = pages("consultant1")
    consultant.get(f"/tasks/{task['id']}")
    step(api, case["id"], "resolve", as_user="consultant1")  # done in another tab
    r = consultant.post(f"/tasks/{task['id']}", {**FORM, "version": task["version"],
                                                 "analysis": "My own analysis, typed for ten minutes."})
    assert r.status_code == 409
    page = consultant.text(r)
    assert "Nothing was saved" in page and 'id="typed-not-saved"' in page
    assert "My own analysis, typed for ten minutes." in page

