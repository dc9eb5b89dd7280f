"""A training session as a process (processes/training_session.bpmn), through HTTP with the clock
frozen: after the session's end "Record attendance" is the trainer's task (403 for others); the
session's attendance API completes it, and bad entries through the generic task API are a 422 naming
the field with nothing changed; absentees give "Follow up on absentees", which the move API answers;
rescheduling moves the waiting timer; cancelling ends the process; a process owner's changed form
deploys and new sessions run on it; customers never see the cases; the case KPIs do not count them;
sessions planned before the process was deployed get one from the service job."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case, Task
from cases.outbox.models import Notification
from cases.process import timers
from cases.process.deploy import deploy, read_directory
from cases.process.models import ProcessInstance, Timer
from cases.service import due
from cases.service.oversight_models import TrainingParticipant, TrainingSession
from tests.api.test_training import staff_with_mail
from tests.helpers import process_files

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)
START = datetime(2026, 4, 14, 9, tzinfo=SHANGHAI)
END = START + timedelta(hours=2)


def plan(api, **fields) -> dict:
    body = {"kind": "staff_technical", "title": "Q2 technical training", "starts_at": START.isoformat(),
            "invitees": ["ann", "bob"], "trainer": "techlead", **fields}
    r = api.post("/api/v1/training/sessions", "supervisor", json=body)
    assert r.status_code == 201, r.json
    return r.json


def inbox(api, user: str, element: str = "record_attendance") -> list[dict]:
    api.forget_tokens()
    r = api.get("/api/v1/tasks?scope=mine", user)
    assert r.status_code == 200, r.json
    return [t for t in r.json["items"] if t["element_id"] == element]


def fired(element: str) -> int:
    return sum(elements.count(element) for elements in timers.fire_due().values())


def complete(api, task: dict, user: str, data: dict):
    return api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"version": task["version"], "data": data})


def timer_dues(case_id: int) -> list[datetime]:
    db.session.expire_all()
    return list(db.session.scalars(select(Timer.due_at).where(Timer.case_id == case_id)))


def test_attendance_is_the_trainers_task_after_the_end_and_absentees_are_followed_up(api, world):
    staff_with_mail("ann", "bob")
    with freeze_time(NOW) as clock:
        session = plan(api)
        case = db.session.get(Case, session["process_case_id"])
        assert (case.kind, case.customer.internal, case.owner.username) == ("training", True, "techlead")
        later = plan(api, title="Later", starts_at=(START + timedelta(days=14)).isoformat(), invitees=[])

        clock.move_to(START - timedelta(hours=24) + timedelta(seconds=30))
        assert fired("reminder_moment") >= 1
        clock.move_to(END - timedelta(minutes=1))
        assert fired("session_ended") == 0 and inbox(api, "techlead") == []  # a minute before the end
        clock.move_to(END + timedelta(seconds=30))
        assert fired("session_ended") == 1
        [task] = inbox(api, "techlead")
        assert (task["name"], task["assignee"]) == ("Record attendance", "techlead")
        ann, bob = api.get(f"/api/v1/training/sessions/{session['id']}", "agent1").json["participants"]
        good = {"entries": [{"participant_id": ann["id"], "attended": True, "score": 85},
                            {"participant_id": bob["id"], "attended": False, "score": None}]}
        assert complete(api, task, "agent1", good).status_code == 403

        for entries, field in (([{"participant_id": ann["id"], "attended": False, "score": 50}], "data.entries.0.score"),
                               ([{"participant_id": ann["id"], "attended": True, "score": 101}], "data.entries.0.score"),
                               ([{"participant_id": 999, "attended": True}], "data.entries.0.participant_id"),
                               ([{"participant_id": ann["id"]}], "data.entries.0.attended"),
                               ([], "data.entries")):
            r = complete(api, task, "techlead", {"entries": entries})
            assert r.status_code == 422, (entries, r.json)
            assert field in {e["field"] for e in r.json["errors"]}, (entries, r.json)
        assert db.session.scalar(select(TrainingParticipant.attendance).where(TrainingParticipant.id == ann["id"])) is None
        assert db.session.get(Task, task["id"]).state == "open"

        current = api.get(f"/api/v1/training/sessions/{session['id']}", "techlead").json
        assert current["task_id"] == task["id"]
        r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "techlead", json={
            "version": current["version"], "attendance": good["entries"]})  # the trainer, through the session's API
        assert r.status_code == 200, r.json
        assert db.session.get(Task, task["id"]).state == "completed"
        assert r.json["task_element"] == "follow_up_absentees"
        [follow] = inbox(api, "techlead", "follow_up_absentees")
        r = complete(api, follow, "techlead", {"decisions": []})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "data.decisions"  # bob is not decided
        r = complete(api, follow, "techlead", {"decisions": [{"participant_id": bob["id"], "decision": "excuse"}]})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "data.decisions.0.reason"

        r = api.post(f"/api/v1/training/sessions/{session['id']}/participants/{bob['id']}/move", "supervisor",
                     json={"to_session_id": later["id"]})
        assert r.status_code == 201, r.json
        assert db.session.get(Task, follow["id"]).state == "completed"  # the move was bob's decision
        assert [p["user"] for p in api.get(f"/api/v1/training/sessions/{later['id']}", "agent1").json["participants"]] == [
            "bob"]
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "closed"
    assert db.session.scalar(select(Timer.id).where(Timer.case_id == case.id)) is None


def test_an_excuse_through_the_follow_up_api_ends_the_process(api, world):
    staff_with_mail("ann", "bob")
    with freeze_time(NOW) as clock:
        session = plan(api)
        clock.move_to(END + timedelta(hours=1))
        api.forget_tokens()
        ann, bob = session["participants"]
        r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "supervisor", json={
            "version": session["version"], "attendance": [{"participant_id": ann["id"], "attended": False},
                                                          {"participant_id": bob["id"], "attended": False}]})
        assert r.status_code == 200, r.json  # before the scheduler ran: the process is moved on first
        assert r.json["task_element"] == "follow_up_absentees"
        r = api.post(f"/api/v1/training/sessions/{session['id']}/follow-up", "supervisor", json={
            "decisions": [{"participant_id": ann["id"], "decision": "excuse", "reason": "On leave."}]})
        assert r.status_code == 200 and r.json["task_element"] == "follow_up_absentees"  # bob still waits
        r = api.post(f"/api/v1/training/sessions/{session['id']}/follow-up", "supervisor", json={
            "decisions": [{"participant_id": bob["id"], "decision": "move", "to_session_id": session["id"]}]})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "decisions.0.to_session_id"
        r = api.post(f"/api/v1/training/sessions/{session['id']}/follow-up", "supervisor", json={
            "decisions": [{"participant_id": bob["id"], "decision": "excuse", "reason": "Left the company."}]})
        assert r.status_code == 200 and r.json["task_id"] is None
        assert [(p["excused_at"] is not None, p["follow_up_note"]) for p in r.json["participants"]] == [
            (True, "On leave."), (True, "Left the company.")]
        assert fired("reminder_moment") == 0 and fired("session_ended") == 0  # nothing left to fire
    db.session.expire_all()
    assert db.session.get(Case, session["process_case_id"]).status == "closed"


def test_rescheduling_moves_the_timer_and_cancelling_ends_the_process(api, world):
    staff_with_mail("ann", "bob")
    with freeze_time(NOW) as clock:
        session = plan(api)
        case_id = session["process_case_id"]
        assert timer_dues(case_id) == [START - timedelta(hours=24)]
        new_start = START + timedelta(days=7)
        r = api.request("PATCH", f"/api/v1/training/sessions/{session['id']}", "supervisor",
                        json={"starts_at": new_start.isoformat()}, headers={"If-Match": f'"{session["version"]}"'})
        assert r.status_code == 200, r.json
        assert timer_dues(case_id) == [new_start - timedelta(hours=24)]
        assert r.json["ends_at"] == (new_start + timedelta(hours=2)).isoformat()
        assert len(db.session.scalars(select(Notification).where(Notification.kind == "training_moved")).all()) == 2
        r2 = api.request("PATCH", f"/api/v1/training/sessions/{session['id']}", "supervisor",
                         json={"starts_at": "2026-03-01T09:00:00+08:00"}, headers={"If-Match": f'"{r.json["version"]}"'})
        assert r2.status_code == 422 and r2.json["errors"][0]["field"] == "starts_at"
        assert timer_dues(case_id) == [new_start - timedelta(hours=24)]

        clock.move_to(new_start - timedelta(hours=24) + timedelta(seconds=30))
        assert fired("reminder_moment") == 1  # now waiting for the end
        assert timer_dues(case_id) == [new_start + timedelta(hours=2)]
        api.forget_tokens()
        session = api.get(f"/api/v1/training/sessions/{session['id']}", "supervisor").json
        r = api.request("PATCH", f"/api/v1/training/sessions/{session['id']}", "supervisor",
                        json={"ends_at": (new_start + timedelta(hours=3)).isoformat()},
                        headers={"If-Match": f'"{session["version"]}"'})
        assert r.status_code == 200, r.json
        assert timer_dues(case_id) == [new_start + timedelta(hours=3)]

        r = api.post(f"/api/v1/training/sessions/{session['id']}/cancel", "supervisor",
                     json={"version": r.json["version"], "reason": "The trainer is ill."})
        assert r.status_code == 200 and r.json["status"] == "cancelled"
        assert timer_dues(case_id) == []
        assert db.session.get(Case, case_id).status == "closed"
        assert api.post(f"/api/v1/training/sessions/{session['id']}/cancel", "supervisor",
                        json={"version": r.json["version"]}).status_code == 409
        assert api.post(f"/api/v1/training/sessions/{session['id']}/cancel", "agent1",
                        json={"version": r.json["version"]}).status_code == 403


def test_a_changed_attendance_form_deploys_and_new_sessions_run_on_it(api, world, tmp_path, restore_active_version):
    """A process owner adds a required field (who checked the list) to the attendance form."""
    staff_with_mail("ann", "bob")
    processes, forms = process_files(tmp_path)
    form = forms / "record_attendance.schema.json"
    form.write_text(form.read_text().replace('"required": [\n    "entries"\n  ]', '"required": [\n    "entries",\n    '
                                             '"checked_by"\n  ]')
                    .replace('"properties": {\n    "entries"', '"properties": {\n    "checked_by": {"title": "Checked by", '
                             '"x-title-zh": "核对人", "type": "string", "minLength": 1},\n    "entries"', 1))
    with freeze_time(NOW):
        old = plan(api, title="Old")
    version, created = deploy(*read_directory(processes, forms))
    assert created
    with freeze_time(NOW) as clock:
        new = plan(api, title="New")
        assert db.session.scalar(select(ProcessInstance.version_id).where(
            ProcessInstance.case_id == new["process_case_id"])) == version.id
        clock.move_to(END + timedelta(seconds=30))
        assert fired("reminder_moment") == 2  # the scheduler was down: each reminder (too late: none sent) ...
        assert db.session.scalar(select(Notification.id).where(Notification.kind == "training_reminder")) is None
        tasks = {t["case"]["id"]: t for t in inbox(api, "techlead")}  # ... and the end, past already, at once
        assert set(tasks) == {old["process_case_id"], new["process_case_id"]}
        entries = [{"participant_id": p["id"], "attended": True, "score": 70} for p in new["participants"]]
        r = complete(api, tasks[new["process_case_id"]], "techlead", {"entries": entries})
        assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"data.checked_by"}
        r = complete(api, tasks[new["process_case_id"]], "techlead", {"entries": entries, "checked_by": "Li"})
        assert r.status_code == 200, r.json
        assert db.session.get(TrainingSession, new["id"]).status == "held"
        old_entries = [{"participant_id": p["id"], "attended": True, "score": 70} for p in old["participants"]]
        r = complete(api, tasks[old["process_case_id"]], "techlead", {"entries": old_entries})  # the old form
        assert r.status_code == 200, r.json


def test_customers_never_see_training_cases_and_the_case_kpis_do_not_count_them(api, world):
    staff_with_mail("ann", "bob")
    with freeze_time(NOW):
        before = api.get("/api/v1/kpis?from=2026-04-01&to=2026-04-30", "supervisor").json
        session = plan(api, kind="customer_user", customer_id=world.customers["ACME"].id, invitees=["acme_user"])
        case_id = session["process_case_id"]
        assert api.get(f"/api/v1/cases/{case_id}", "acme_user").status_code == 404
        assert case_id not in {c["id"] for c in api.get("/api/v1/cases", "acme_user").json["items"]}
        assert [c["id"] for c in api.get("/api/v1/cases?kind=training", "supervisor").json["items"]] == [case_id]
        after = api.get("/api/v1/kpis?from=2026-04-01&to=2026-04-30", "supervisor").json
    assert after == before


def test_sessions_planned_before_the_process_was_deployed_get_one_from_the_service_job(api, world):
    with freeze_time(NOW):
        legacy = TrainingSession(kind="staff_technical", title="From before", mode="on_site", starts_at=START,
                                 ends_at=END, reminder_hours=24, reminder_due_at=START - timedelta(hours=24),
                                 status="planned", created_at=NOW)
        past = TrainingSession(kind="staff_technical", title="Long ago", mode="on_site", starts_at=NOW - timedelta(days=9),
                               ends_at=NOW - timedelta(days=9) + timedelta(hours=2), reminder_hours=24,
                               reminder_due_at=NOW - timedelta(days=10), status="planned", created_at=NOW)
        db.session.add_all([legacy, past])
        db.session.commit()
        assert due.run().trainings_started == [legacy.id]  # a future session only
        assert due.run().trainings_started == []  # once
        row = db.session.get(TrainingSession, legacy.id)
        assert row.process_case.kind == "training"
        assert timer_dues(row.process_case_id) == [START - timedelta(hours=24)]
        assert db.session.scalar(select(Notification.id).where(Notification.kind == "training_invitation")) is None


def test_a_session_planned_inside_its_reminder_lead_is_reminded_at_once_and_only_once(api, world):
    staff_with_mail("ann", "bob")
    with freeze_time(START - timedelta(hours=10)):
        plan(api)
        reminded = sorted(db.session.scalars(select(Notification.recipient).where(Notification.kind == "training_reminder")))
        assert reminded == ["ann@example.com", "bob@example.com"]
        assert fired("reminder_moment") == 0 and due.run().trainings_started == []
        assert len(db.session.scalars(select(Notification.id).where(Notification.kind == "training_reminder")).all()) == 2
