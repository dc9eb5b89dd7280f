"""Driving cases through the HTTP API in tests."""
from __future__ import annotations

CASE_FIELDS = {
    "channel": "web", "title": "Report shows an error", "description": "Opening the month-end report fails.",
    "environment": "Windows 10, SQL Server 2017", "steps_to_reproduce": "Open the report",
}
DATA = {
    "classify": {"category": "software_bug", "priority": "high"},
    "assign": {"owner": "consultant1", "due_at": "2030-01-01T09:00:00+00:00"},
    "resolve": {"analysis": "A null reference in the report query.", "solution": "Patched the query.",
                "outcome": "resolved"},
    "confirm": {"confirmed": True},
    "callback": {"reached": True, "callback_channel": "phone", "satisfaction": 4},
    "supervisor_review": {"decision": "continue", "review_note": "One more try."},
}
#: Who works on each step in the standard path (assign goes round robin to an agent).
WORKER = {"classify": "agent1", "resolve": "consultant1", "confirm": "acme_user",
          "supervisor_review": "supervisor"}


def open_case(api, as_user="agent1", customer_id=None, **overrides) -> dict:
    body = {**CASE_FIELDS, **overrides}
    if customer_id is not None:
        body["customer_id"] = customer_id
    r = api.post("/api/v1/cases", as_user, json=body)
    assert r.status_code == 201, r.json
    return r.json


def get_case(api, case_id, as_user="supervisor") -> dict:
    r = api.get(f"/api/v1/cases/{case_id}", as_user)
    assert r.status_code == 200, r.json
    return r.json


def only_task(api, case_id, as_user="supervisor") -> dict:
    tasks = get_case(api, case_id, as_user)["tasks"]
    assert len(tasks) == 1, tasks
    return tasks[0]


def worker_for(task: dict) -> str:
    return task["assignee"] or WORKER[task["element_id"]]


def complete(api, task: dict, as_user: str | None = None, data: dict | None = None) -> dict:
    as_user = as_user or worker_for(task)
    body = {"version": task["version"], "data": DATA[task["element_id"]] if data is None else data}
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", as_user, json=body)
    assert r.status_code == 200, r.json
    return r.json


def step(api, case_id, expected_element: str, data: dict | None = None, as_user: str | None = None) -> dict:
    task = only_task(api, case_id)
    assert task["element_id"] == expected_element
    return complete(api, task, as_user, data)


def process_files(tmp_path, change=None, name: str = "files"):
    """A copy of processes/ and forms/ under ``tmp_path``; ``change`` rewrites support_case.bpmn."""
    import shutil

    from tests.conftest import ROOT
    processes, forms = tmp_path / name / "processes", tmp_path / name / "forms"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copytree(ROOT / "forms", forms)
    if change is not None:
        diagram = processes / "support_case.bpmn"
        diagram.write_text(change(diagram.read_text()))
    return processes, forms


def deploy_variant(tmp_path, change, name: str = "variant"):
    """Deploy the real files with support_case.bpmn changed (re-activated if deployed before)."""
    from cases.deploy import deploy, read_directory
    return deploy(*read_directory(*process_files(tmp_path, change, name)))[0]
