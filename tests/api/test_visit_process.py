"""Visits and maintenance schedules as processes (processes/service_visit.bpmn,
processes/maintenance_schedule.bpmn), through HTTP with the clock frozen: the reminder at 10:00 the
day before and not a minute earlier, once whatever the scheduler does; another window moves it; a
cancellation ends the process; the task "Record the repair" is the technician's once the window has
ended and the repair-log API completes it; the repair form's bad input is a 422 naming the field with
nothing changed; a maintenance date opens its task once and the process waits for the next; a process
owner's changed repair form deploys and new visits run on it while running ones stay; rows saved before
the processes were deployed get theirs from the service job; customers see what they saw before."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case, CaseEvent, Task
from cases.customers.models import Contract
from cases.process import timers
from cases.process.deploy import deploy, read_directory
from cases.process.models import ProcessInstance, Timer
from cases.service import due
from cases.service.visit_models import InternalTask, MaintenanceSchedule, RepairLog, Visit
from tests.api.dbstate import db_snapshot
from tests.helpers import open_case, process_files
from workers import scheduler

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
START = datetime(2026, 3, 5, 14, 0, tzinfo=SHANGHAI)
REMINDER = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
LOG = {"minutes": 95, "parts": ["电源 PSU-550"], "result": "replaced", "notes": "更换电源后服务器正常启动"}


@pytest.fixture
def service(world):
    db.session.add(Contract(customer_id=world.customers["ACME"].id, number="C-ACME-1", tier="standard",
                            start=date(2025, 6, 1), end=date(2027, 5, 31), warranty_until=date(2026, 12, 31)))
    world.user("acme_user").email = "li.lei@acme.example"
    db.session.commit()
    return world


def window(start: datetime = START, hours: int = 2) -> dict:
    return {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=hours)).isoformat()}


def booked(api, confirm: bool = True, **fields) -> dict:
    case = open_case(api, "acme_user", title="服务器无法启动")
    r = api.post(f"/api/v1/cases/{case['id']}/visits", "consultant1", json={
        "kind": "repair", "purpose": "更换服务器电源", "technician": "consultant2", **window(), **fields})
    assert r.status_code == 201, r.json
    visit = r.json
    if confirm:
        r = api.post(f"/api/v1/visits/{visit['id']}/confirm", "acme_user", json={"version": visit["version"]})
        assert r.status_code == 200, r.json
        visit = r.json
    return visit


def process_case(visit: dict) -> Case:
    row = db.session.get(Visit, visit["id"])
    db.session.refresh(row)
    assert row.process_case_id is not None
    return db.session.get(Case, row.process_case_id)


def timers_of(case: Case) -> list[tuple[str, datetime]]:
    return sorted((t.element_id, t.due_at) for t in db.session.scalars(select(Timer).where(Timer.case_id == case.id)))


def run_scheduler(app) -> None:
    """Every scheduler job once, in its own session (ours ends its read first)."""
    db.session.commit()
    scheduler.run_once(app)
    db.session.expire_all()


def reminders() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "visit_reminder"))


def record_tasks(api, user: str) -> list[dict]:
    api.forget_tokens()
    r = api.get("/api/v1/tasks?scope=mine", user)
    assert r.status_code == 200, r.json
    return [t for t in r.json["items"] if t["element_id"] == "record_repair"]


def test_the_reminder_goes_at_its_moment_once_whatever_the_scheduler_does(app, api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        case = process_case(visit)
        assert (case.kind, case.customer.internal, case.owner.username) == ("visit", True, "consultant2")
        assert timers_of(case) == [("reminder_moment", REMINDER)]

        clock.move_to(REMINDER - timedelta(minutes=1))
        timers.fire_due()
        assert reminders() == 0
        clock.move_to(REMINDER + timedelta(seconds=1))  # the engine fires once the clock has passed the moment
        run_scheduler(app)
        assert reminders() == 1
        run_scheduler(app)  # run twice: once
        assert due.run().visits_started == []
        assert reminders() == 1
        assert db.session.get(Visit, visit["id"]).reminder_sent_at == REMINDER + timedelta(seconds=1)
        assert timers_of(case) == [("window_ended", START + timedelta(hours=2))]


def test_a_scheduler_down_for_a_day_still_reminds_once(app, api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        db.session.commit()
        db.session.remove()  # the process stops: nothing kept in memory
        clock.move_to(REMINDER + timedelta(days=1) - timedelta(hours=1))  # back on the visit's morning
        run_scheduler(app)
        run_scheduler(app)
        assert reminders() == 1
        mails = list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == visit["case_id"],
                                                                CaseEvent.kind == "visit_reminder")))
        assert len(mails) == 1 and mails[0].public


def test_another_window_moves_the_reminder_and_a_cancellation_ends_the_process(api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        case = process_case(visit)
        later = datetime(2026, 3, 9, 9, tzinfo=SHANGHAI)
        r = api.post(f"/api/v1/visits/{visit['id']}/propose", "acme_user",
                     json={"version": visit["version"], "note": "下周一", **window(later)})
        assert r.status_code == 200, r.json
        assert timers_of(case) == []  # waiting for staff to answer: no reminder
        r = api.post(f"/api/v1/visits/{visit['id']}/confirm", "consultant1", json={"version": r.json["version"]})
        assert r.status_code == 200, r.json
        assert timers_of(case) == [("reminder_moment", datetime(2026, 3, 8, 10, tzinfo=SHANGHAI))]
        clock.move_to(REMINDER + timedelta(minutes=5))  # the old moment: nothing
        timers.fire_due()
        assert reminders() == 0

        api.forget_tokens()
        r = api.post(f"/api/v1/visits/{visit['id']}/cancel", "consultant1",
                     json={"version": r.json["version"], "reason": "客户已自行解决"})
        assert r.status_code == 200, r.json
        db.session.expire_all()
        assert db.session.get(Case, case.id).status == "closed"
        assert timers_of(case) == []
        clock.move_to(datetime(2026, 3, 8, 10, 5, tzinfo=SHANGHAI))
        timers.fire_due()
        assert reminders() == 0


def test_the_repair_record_is_the_technicians_task_after_the_window_and_the_log_api_completes_it(api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        case = process_case(visit)
        clock.move_to(START + timedelta(hours=1))  # on site: no task yet
        timers.fire_due()
        assert record_tasks(api, "consultant2") == []
        clock.move_to(START + timedelta(hours=2, minutes=1))
        timers.fire_due()
        [task] = record_tasks(api, "consultant2")
        assert (task["name"], task["assignee"], task["case"]["id"]) == ("Record the repair", "consultant2", case.id)

        before = db_snapshot()
        bad = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant2", json={
            "arrived_at": (START + timedelta(minutes=10)).isoformat(), **LOG, "result": "fixed"})
        assert bad.status_code == 422 and [e["field"] for e in bad.json["errors"]] == ["result"]
        for data, field in (({**LOG, "arrived_at": "yesterday"}, "data.arrived_at"),
                            ({**LOG, "arrived_at": (START + timedelta(days=1)).isoformat()}, "data.arrived_at"),
                            ({**LOG, "arrived_at": START.isoformat(), "minutes": 0}, "data.minutes"),
                            ({**LOG, "arrived_at": START.isoformat(), "notes": ""}, "data.notes"),
                            ({"arrived_at": START.isoformat(), "minutes": 5, "notes": "n"}, "data.result")):
            r = api.post(f"/api/v1/tasks/{task['id']}/complete", "consultant2",
                         json={"version": task["version"], "data": data})
            assert r.status_code == 422, (data, r.json)
            assert field in {e["field"] for e in r.json["errors"]}, (data, r.json)
        assert db_snapshot() == before

        r = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant2", json={
            "arrived_at": (START + timedelta(minutes=10)).isoformat(), **LOG})
        assert r.status_code == 201, r.json
        assert db.session.get(RepairLog, r.json["id"]).parts == ["电源 PSU-550"]
    db.session.expire_all()
    assert db.session.get(Task, task["id"]).state == "completed"
    assert (db.session.get(Visit, visit["id"]).status, db.session.get(Case, case.id).status) == ("done", "closed")
    assert record_tasks(api, "consultant2") == []


def test_a_log_recorded_before_the_window_ends_ends_the_process(api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        case = process_case(visit)
        clock.move_to(START + timedelta(hours=1))
        api.forget_tokens()
        r = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant2", json={
            "arrived_at": (START + timedelta(minutes=10)).isoformat(), **LOG})
        assert r.status_code == 201, r.json
        db.session.expire_all()
        assert db.session.get(Case, case.id).status == "closed" and timers_of(case) == []


def test_customers_see_what_they_saw_before(api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        case = process_case(visit)
        clock.move_to(START + timedelta(hours=3))
        timers.fire_due()
        api.forget_tokens()
        assert api.get(f"/api/v1/cases/{case.id}", "acme_user").status_code == 404
        assert case.id not in {c["id"] for c in api.get("/api/v1/cases?per_page=100", "acme_user").json["items"]}
        assert api.get("/api/v1/tasks?scope=all", "acme_user").json["items"] == []
        assert api.get(f"/api/v1/visits/{visit['id']}", "acme_user").status_code == 200
        seen = str(api.get(f"/api/v1/cases/{visit['case_id']}", "acme_user").json)
        assert case.number not in seen
        listed = api.get("/api/v1/cases?kind=visit", "supervisor").json["items"]
        assert [c["id"] for c in listed] == [case.id]


def test_a_changed_repair_form_deploys_and_new_visits_run_on_it(api, service, tmp_path, restore_active_version):
    """A process owner adds a required field to the repair form."""
    processes, forms = process_files(tmp_path)
    form = forms / "record_repair.schema.json"
    form.write_text(form.read_text().replace('"required": [\n    "arrived_at",', '"required": [\n    "signed_by",\n    "arrived_at",')
                    .replace('"properties": {\n', '"properties": {\n    "signed_by": {"title": "Signed off by", '
                             '"x-title-zh": "客户签字人", "type": "string", "minLength": 1},\n', 1))
    with freeze_time(NOW):
        old = booked(api)
    version, created = deploy(*read_directory(processes, forms))
    assert created
    with freeze_time(NOW) as clock:
        new = booked(api)
        instances = {v["id"]: db.session.scalar(select(ProcessInstance.version_id).where(
            ProcessInstance.case_id == process_case(v).id)) for v in (old, new)}
        assert instances[new["id"]] == version.id != instances[old["id"]]  # running visits stay on theirs
        clock.move_to(START + timedelta(hours=3))
        timers.fire_due()
        tasks = {t["case"]["id"]: t for t in record_tasks(api, "consultant2")}
        assert process_case(old).id in tasks
        on_new = tasks[process_case(new).id]
        data = {**LOG, "arrived_at": START.isoformat()}
        r = api.post(f"/api/v1/tasks/{on_new['id']}/complete", "consultant2", json={"version": on_new["version"],
                                                                                    "data": data})
        assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"data.signed_by"}
        r = api.post(f"/api/v1/tasks/{on_new['id']}/complete", "consultant2", json={
            "version": on_new["version"], "data": {**data, "signed_by": "李雷"}})
        assert r.status_code == 200, r.json
        r = api.post(f"/api/v1/visits/{old['id']}/log", "consultant2", json=data)  # the old version's form
        assert r.status_code == 201, r.json
    db.session.expire_all()
    assert {db.session.get(Visit, v["id"]).status for v in (old, new)} == {"done"}



def schedule_case(schedule: dict) -> Case:
    row = db.session.get(MaintenanceSchedule, schedule["id"])
    db.session.refresh(row)
    return db.session.get(Case, row.process_case_id)


def test_a_maintenance_date_opens_its_task_once_and_the_process_waits_for_the_next(app, api, installation):
    with freeze_time(datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)) as clock:
        r = api.post("/api/v1/maintenance-schedules", "supervisor", json={
            "installed_product_id": installation.id, "kind": "maintenance", "interval_days": 30,
            "next_due": "2026-03-10", "assignee": "consultant1"})
        assert r.status_code == 201, r.json
        schedule, case = r.json, schedule_case(r.json)
        assert (case.kind, case.customer.internal, case.owner.username) == ("maintenance", True, "consultant1")
        assert timers_of(case) == [("schedule_date", datetime(2026, 3, 10, tzinfo=SHANGHAI))]
        r = api.request("PATCH", f"/api/v1/maintenance-schedules/{schedule['id']}", "supervisor",
                        json={"version": schedule["version"], "next_due": "2026-03-12"})
        assert r.status_code == 200, r.json
        schedule = r.json
        assert timers_of(case) == [("schedule_date", datetime(2026, 3, 12, tzinfo=SHANGHAI))]  # moved

        clock.move_to(datetime(2026, 3, 11, 23, 59, tzinfo=SHANGHAI))
        run_scheduler(app)
        assert db.session.scalar(select(func.count()).select_from(InternalTask)) == 0
        clock.move_to(datetime(2026, 3, 12, 0, 0, 1, tzinfo=SHANGHAI))
        run_scheduler(app)
        run_scheduler(app)
        [task] = db.session.scalars(select(InternalTask)).all()
        assert (task.due_on, task.assignee.username, task.case_id) == (date(2026, 3, 12), "consultant1", None)
        assert timers_of(case) == [("schedule_date", datetime(2026, 4, 11, tzinfo=SHANGHAI))]  # re-armed
        api.forget_tokens()
        schedule = api.get("/api/v1/maintenance-schedules", "supervisor").json[0]
        assert schedule["next_due"] == "2026-04-11"

        r = api.request("PATCH", f"/api/v1/maintenance-schedules/{schedule['id']}", "supervisor",
                        json={"version": schedule["version"], "active": False})
        assert r.status_code == 200, r.json
        db.session.expire_all()
        assert db.session.get(Case, case.id).status == "closed" and timers_of(case) == []
        assert due.run().schedules_started == []  # deactivated: no new process
        api.forget_tokens()
        assert api.get("/api/v1/internal-tasks", "acme_user").status_code == 403  # staff only, as before
        assert api.get(f"/api/v1/cases/{case.id}", "acme_user").status_code == 404


def test_rows_saved_before_the_processes_were_deployed_get_theirs_from_the_service_job(api, service, installation):
    with freeze_time(NOW):
        case = open_case(api, "acme_user", title="打印机")
        legacy = Visit(case_id=case["id"], kind="visit", window_start=START, window_end=START + timedelta(hours=2),
                       status="confirmed", proposed_by="staff", purpose="p", created_at=NOW, confirmed_at=NOW)
        past = Visit(case_id=case["id"], kind="visit", window_start=NOW - timedelta(days=3),
                     window_end=NOW - timedelta(days=3, hours=-2), status="confirmed", proposed_by="staff",
                     purpose="p", created_at=NOW)
        plan = MaintenanceSchedule(installed_product_id=installation.id, kind="backup_check", interval_days=7,
                                   next_due=date(2026, 3, 9), active=True, created_at=NOW)
        db.session.add_all([legacy, past, plan])
        db.session.commit()
        report = due.run()
        assert (report.visits_started, report.schedules_started) == ([legacy.id], [plan.id])
        again = due.run()
        assert (again.visits_started, again.schedules_started) == ([], [])  # once
        db.session.expire_all()
        assert timers_of(db.session.get(Visit, legacy.id).process_case) == [("reminder_moment", REMINDER)]
        assert db.session.get(Visit, past.id).process_case_id is None  # a visit gone by starts nothing
        assert timers_of(db.session.get(MaintenanceSchedule, plan.id).process_case) == [
            ("schedule_date", datetime(2026, 3, 9, tzinfo=SHANGHAI))]


def test_cancelling_while_the_repair_record_is_open_cancels_the_task_and_ends_the_process(api, service):
    with freeze_time(NOW) as clock:
        visit = booked(api)
        case = process_case(visit)
        clock.move_to(START + timedelta(hours=2, minutes=1))
        timers.fire_due()
        [task] = record_tasks(api, "consultant2")
        current = api.get(f"/api/v1/visits/{visit['id']}", "consultant1").json
        r = api.post(f"/api/v1/visits/{visit['id']}/cancel", "consultant1",
                     json={"version": current["version"], "reason": "部件未到，另约时间"})
        assert r.status_code == 200, r.json
    db.session.expire_all()
    assert db.session.get(Task, task["id"]).state == "cancelled"
    assert db.session.get(Case, case.id).status == "closed" and timers_of(case) == []
