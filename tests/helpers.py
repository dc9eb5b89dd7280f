"""Driving cases through the HTTP API in tests."""
from __future__ import annotations

import re

CASE_FIELDS = {
    "channel": "web", "title": "Report shows an error", "description": "Opening the month-end report fails.",
    "environment": "Windows 10, SQL Server 2017", "steps_to_reproduce": "Open the report",
}
DATA = {
    # a data problem takes the service-order path (suggest owner → assign → resolve → confirm)
    "classify": {"category": "data_problem", "priority": "high"},
    "assign": {"owner": "consultant1", "due_at": "2030-01-01T09:00:00+00:00"},
    "resolve": {"analysis": "A null reference in the report query.", "solution": "Patched the query.",
                "outcome": "resolved", "contact_made": True, "service_mode": "remote",
                "actions": "Connected remotely, patched the query, re-ran the report.", "time_spent_minutes": 40},
    "confirm": {"confirmed": True},
    "callback": {"reached": True, "callback_channel": "phone", "satisfaction": 4},
    "supervisor_review": {"decision": "continue", "review_note": "One more try."},
    # the branches (processes/support_case.bpmn) and the requirement evaluation it calls
    "answer_consultation": {"answer": "Reports > Export, then choose Excel.", "answer_channel": "phone"},
    "retrain_user": {"training_content": "Exporting the customer list", "trainees": "Ms Li, new sales assistant",
                     "duration_minutes": 30, "training_mode": "remote"},
    "deliver_update": {"installed_version": "7.2.1", "installed_on": "2030-01-03",
                       "delivery_notes": "Installed on the application server; report verified."},
    "advise": {"advice": "Rebuild the database indexes and restart the service.", "advice_outcome": "advised"},
    "repair_order": {"appointment_start": "2030-01-02T09:00:00+08:00", "appointment_end": "2030-01-02T12:00:00+08:00",
                     "repair_log": "Printer head cleaned, fuser replaced, test page printed.",
                     "parts_replaced": ["fuser unit"], "repair_result": "repaired"},
    "negotiate_service": {"service_description": "Migrate ten years of archive data", "quote": 24000,
                          "accepted": True},
    # the complaint process (processes/complaint_handling.bpmn), a case of its own
    "acknowledge_complaint": {"acknowledgement": "We are sorry; we are looking into it and call you tomorrow.",
                              "contact_channel": "phone", "severity": "high"},
    "investigate_complaint": {"investigation": "The on-site visit was missed twice; the calendar was not updated.",
                              "response": "We apologise; your consultant visits on Monday 09:00.",
                              "complaint_outcome": "upheld", "remedy": "Visits are confirmed by phone the day before."},
    "sign_off_complaint": {"decision": "approve"},
    "review_dissatisfaction": {"actions": "Called the customer; a free training day offered.", "customer_contacted": True},
    "follow_up_call": {"reached": True, "callback_channel": "phone", "satisfaction": 5,
                       "usage_notes": "Month-end closing runs in the system now."},
    "contact_requester": {"contacted_at": "2030-01-02T10:00:00+08:00", "contact_channel": "phone",
                          "requirement_summary": "A sales report by region and month", "customer_date": "2030-03-31"},
    "assess_requirement": {"already_supported": False, "workaround_possible": False,
                           "customer_agrees_secondary_development": True, "feasible": True,
                           "meets_customer_date": True, "person_days": 8, "expected_acceptance": "likely"},
    "schedule_delivery": {"scheduled_date": "2030-03-15", "delivery_scope": "Sales report by region and month"},
}
#: Who works on each step (assign and callback go round robin to an agent; resolve to the owner).
WORKER = {"classify": "agent1", "resolve": "consultant1", "confirm": "acme_user",
          "supervisor_review": "supervisor", "answer_consultation": "agent1", "retrain_user": "agent1",
          "deliver_update": "consultant1", "advise": "consultant1", "repair_order": "consultant1",
          "negotiate_service": "bizmanager", "contact_requester": "bizmanager",
          "acknowledge_complaint": "complaints", "investigate_complaint": "complaints", "sign_off_complaint": "supervisor",
          "review_dissatisfaction": "supervisor",
          "assess_requirement": "techlead", "schedule_delivery": "bizmanager"}


#: The default calendar's fields: a PUT /calendars/{name} sends a whole calendar
CALENDAR_BODY = {"timezone": "Asia/Shanghai", "hours": [[["09:00", "17:00"]]] * 5 + [[], []],
                 "holiday_country": "CN", "extra_holidays": [], "removed_holidays": [], "extra_workdays": [],
                 "makeup_hours": None}


def calendar_body(**fields) -> dict:
    """A whole calendar: the default calendar's fields with ``fields`` changed."""
    return {**CALENDAR_BODY, **fields}


def send_message(api, case_id, name: str, payload, as_user: str = "agent1") -> dict:
    r = api.post(f"/api/v1/cases/{case_id}/messages/{name}", as_user, json={"payload": payload})
    assert r.status_code == 200, r.json
    return r.json


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
    from cases.process.deploy import deploy, read_directory
    return deploy(*read_directory(*process_files(tmp_path, change, name)))[0]


def without_assign(text: str) -> str:
    """The owner suggestion goes straight to resolve: the assign step is gone."""
    text = re.sub(r'<bpmn:userTask id="assign".*?</bpmn:userTask>', "", text, flags=re.S)
    text = text.replace('sourceRef="suggest_owner" targetRef="assign"', 'sourceRef="suggest_owner" targetRef="merge_resolve"')
    text = text.replace('<bpmn:sequenceFlow id="f_assigned" sourceRef="assign" targetRef="merge_resolve" />', "")
    text = text.replace("<bpmn:incoming>f_assigned</bpmn:incoming>", "<bpmn:incoming>f_suggested</bpmn:incoming>")
    text = text.replace("<bpmn:flowNodeRef>assign</bpmn:flowNodeRef>", "")
    # its SLA ladder (boundary timer, escalation, end) goes with it
    text = re.sub(r'<bpmn:boundaryEvent id="assign_sla".*?</bpmn:boundaryEvent>', "", text, flags=re.S)
    text = re.sub(r'<bpmn:serviceTask id="assign_escalate".*?</bpmn:serviceTask>', "", text, flags=re.S)
    text = re.sub(r'<bpmn:endEvent id="assign_escalated".*?</bpmn:endEvent>', "", text, flags=re.S)
    text = re.sub(r'<bpmn:sequenceFlow id="f_assign_(sla|escalated)"[^>]*/>', "", text)
    text = re.sub(r'<bpmndi:BPMN(Shape|Edge) id="(f_)?assign_(sla|escalate|escalated)_di".*?</bpmndi:BPMN(Shape|Edge)>',
                  "", text, flags=re.S)
    text = re.sub(r'<bpmndi:BPMNShape id="assign_di".*?</bpmndi:BPMNShape>', "", text, flags=re.S)
    return re.sub(r'<bpmndi:BPMNEdge id="f_assigned_di".*?</bpmndi:BPMNEdge>', "", text, flags=re.S)
