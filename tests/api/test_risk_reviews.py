"""A risk's reviews as a process (processes/risk_review.bpmn), through HTTP with the clock frozen: the
review comes due as a task in the owner's inbox at 09:00 on its date and not before; completing it
with a new date schedules the next one; closing ends the process; a process owner's changed diagram
deploys and new reviews run on it; the timer is a row, so a scheduler down over the date loses
nothing; customers never see the internal cases; the review form's bad input is a 422 naming the
field with nothing changed; the KPIs do not count the review cases."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case, Customer, Task
from cases.process import timers
from cases.process.deploy import deploy, read_directory
from cases.process.models import ProcessInstance, Timer
from cases.service import due
from cases.service.oversight_models import Risk, RiskReview
from tests.helpers import process_files
from workers import scheduler

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 4, 10, tzinfo=SHANGHAI)
DUE = datetime(2026, 5, 20, 9, tzinfo=SHANGHAI)


def raise_risk(api, owner: str = "consultant1", review_on: str = "2026-05-20", **fields) -> dict:
    r = api.post("/api/v1/risks", "agent1", json={
        "title": "Backups not verified", "kind": "security", "level": "high", "owner": owner,
        "contingency_plan": "Restore last night's backup to the spare server.", "review_on": review_on, **fields})
    assert r.status_code == 201, r.json
    return r.json


def inbox(api, user: str) -> list[dict]:
    api.forget_tokens()
    r = api.get("/api/v1/tasks?scope=mine", user)
    assert r.status_code == 200, r.json
    return [t for t in r.json["items"] if t["element_id"] == "review_risk"]


def reviews_fired() -> int:
    return sum(elements.count("review_date") for elements in timers.fire_due().values())


def complete(api, task: dict, user: str, data: dict):
    return api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"version": task["version"], "data": data})


def test_the_review_comes_due_on_its_date_as_the_owners_task_and_runs_again_until_closed(api, world):
    with freeze_time(NOW) as clock:
        risk = raise_risk(api)
        case = db.session.get(Case, risk["review_case_id"])
        assert (case.kind, case.customer.internal, case.owner.username) == ("risk_review", True, "consultant1")
        assert db.session.scalars(select(Timer.due_at).where(Timer.case_id == case.id)).all() == [DUE]

        clock.move_to(datetime(2026, 5, 20, 8, 59, tzinfo=SHANGHAI))
        assert reviews_fired() == 0 and inbox(api, "consultant1") == []  # the day, not yet the hour
        clock.move_to(datetime(2026, 5, 20, 9, 0, 30, tzinfo=SHANGHAI))
        assert reviews_fired() == 1
        [task] = inbox(api, "consultant1")  # the owner's, whatever their role
        assert (task["name"], task["assignee"]) == ("Review the risk", "consultant1")
        assert api.get(f"/api/v1/risks/{risk['id']}", "agent1").json["review_task_id"] == task["id"]
        assert complete(api, task, "consultant2", {"outcome": "keep", "note": "x",
                                                   "next_review_on": "2026-08-20"}).status_code == 403

        r = complete(api, task, "consultant1", {"outcome": "change_level", "level": "medium",
                                                "note": "Backups checked weekly now.", "next_review_on": "2026-08-20"})
        assert r.status_code == 200, r.json
        risk = api.get(f"/api/v1/risks/{risk['id']}", "agent1").json
        assert (risk["level"], risk["review_on"], risk["review_due_since"], risk["review_task_id"]) == (
            "medium", "2026-08-20", None, None)
        assert [(v["reviewed_by"], v["level"], v["next_review_on"]) for v in risk["reviews"]] == [
            ("consultant1", "medium", "2026-08-20")]
        assert db.session.scalars(select(Timer.due_at).where(Timer.case_id == case.id)).all() == [
            datetime(2026, 8, 20, 9, tzinfo=SHANGHAI)]  # the next review is scheduled

        clock.move_to(datetime(2026, 8, 20, 9, 1, tzinfo=SHANGHAI))
        assert reviews_fired() == 1
        [task] = inbox(api, "consultant1")
        values = api.get(f"/api/v1/tasks/{task['id']}", "consultant1").json["values"]
        assert values.get("note") is None and values.get("next_review_on") is None  # a fresh form
        r = complete(api, task, "consultant1", {"outcome": "close", "note": "All customers back up nightly."})
        assert r.status_code == 200, r.json
    risk = api.get(f"/api/v1/risks/{risk['id']}", "agent1").json
    assert (risk["status"], risk["reviews"][-1]["closed"]) == ("closed", True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "closed"
    assert db.session.scalar(select(Timer.id).where(Timer.case_id == case.id)) is None


def test_a_new_date_or_owner_moves_the_waiting_review_and_an_early_close_ends_it(api, world):
    with freeze_time(NOW):
        risk = raise_risk(api)
        r = api.request("PATCH", f"/api/v1/risks/{risk['id']}", "supervisor", json={
            "review_on": "2026-06-01", "owner": "techlead"}, headers={"If-Match": f'"{risk["version"]}"'})
        assert r.status_code == 200, r.json
        case = db.session.get(Case, risk["review_case_id"])
        assert db.session.scalars(select(Timer.due_at).where(Timer.case_id == case.id)).all() == [
            datetime(2026, 6, 1, 9, tzinfo=SHANGHAI)]
        assert case.owner.username == "techlead"
        risk = r.json
        r = api.post(f"/api/v1/risks/{risk['id']}/reviews", "techlead", json={
            "version": risk["version"], "notes": "The backup job was fixed.", "close": True})
        assert r.status_code == 201, r.json
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "closed"  # before its date: the process ended at once
    assert db.session.scalar(select(Timer.id).where(Timer.case_id == case.id)) is None


def test_bad_input_in_the_review_form_names_the_field_and_changes_nothing(api, world):
    with freeze_time(NOW) as clock:
        risk = raise_risk(api)
        clock.move_to(DUE.replace(minute=5))
        assert reviews_fired() == 1
        [task] = inbox(api, "consultant1")
        for data, field in (({"note": "x", "next_review_on": "2026-08-20"}, "data.outcome"),
                            ({"outcome": "later", "note": "x", "next_review_on": "2026-08-20"}, "data.outcome"),
                            ({"outcome": "keep", "note": "", "next_review_on": "2026-08-20"}, "data.note"),
                            ({"outcome": "keep", "note": "x"}, "data.next_review_on"),
                            ({"outcome": "keep", "note": "x", "next_review_on": "20.8.2026"}, "data.next_review_on"),
                            ({"outcome": "keep", "note": "x", "next_review_on": "2026-05-20"}, "data.next_review_on"),
                            ({"outcome": "keep", "note": "x", "next_review_on": "2040-01-01"}, "data.next_review_on"),
                            ({"outcome": "change_level", "note": "x", "next_review_on": "2026-08-20"}, "data.level"),
                            ({"outcome": "change_level", "level": "extreme", "note": "x",
                              "next_review_on": "2026-08-20"}, "data.level")):
            r = complete(api, task, "consultant1", data)
            assert r.status_code == 422, (data, r.json)
            assert field in {e["field"] for e in r.json["errors"]}, (data, r.json)
        assert db.session.scalar(select(func.count()).select_from(RiskReview)) == 0
        assert db.session.get(Task, task["id"]).state == "open"
        assert (db.session.get(Risk, risk["id"]).level, db.session.get(Risk, risk["id"]).status) == ("high", "open")


def test_a_changed_diagram_deploys_and_new_reviews_run_on_it(api, world, tmp_path, restore_active_version):
    """A process owner adds a required field to the review form and an approval by a supervisor."""
    processes, forms = process_files(tmp_path)
    form = forms / "review_risk.schema.json"
    form.write_text(form.read_text().replace('"required": [\n    "outcome",', '"required": [\n    "evidence",\n    "outcome",')
                    .replace('"properties": {\n', '"properties": {\n    "evidence": {"title": "Evidence seen", '
                             '"x-title-zh": "所见证据", "type": "string", "minLength": 1},\n', 1))
    diagram = processes / "risk_review.bpmn"
    text = diagram.read_text()
    approval = ('    <bpmn:userTask id="approve_review" name="Approve the review">\n      <bpmn:extensionElements>\n'
                '        <spiffworkflow:properties>\n          <spiffworkflow:property name="nameZh" value="批准复核" />\n'
                '          <spiffworkflow:property name="formJsonSchemaFilename" value="supervisor_review.schema.json" />\n'
                '        </spiffworkflow:properties>\n      </bpmn:extensionElements>\n'
                '      <bpmn:incoming>f_reviewed</bpmn:incoming>\n      <bpmn:outgoing>f_approved</bpmn:outgoing>\n'
                '    </bpmn:userTask>\n'
                '    <bpmn:sequenceFlow id="f_approved" sourceRef="approve_review" targetRef="apply_review" />\n')
    text = text.replace('<bpmn:sequenceFlow id="f_reviewed" sourceRef="review_risk" targetRef="apply_review" />',
                        '<bpmn:sequenceFlow id="f_reviewed" sourceRef="review_risk" targetRef="approve_review" />\n' + approval)
    text = text.replace('<bpmn:incoming>f_reviewed</bpmn:incoming>\n      <bpmn:outgoing>f_applied</bpmn:outgoing>',
                        '<bpmn:incoming>f_approved</bpmn:incoming>\n      <bpmn:outgoing>f_applied</bpmn:outgoing>')
    text = text.replace('<bpmn:flowNodeRef>apply_review</bpmn:flowNodeRef>',
                        '<bpmn:flowNodeRef>apply_review</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>approve_review</bpmn:flowNodeRef>')
    diagram.write_text(text)
    with freeze_time(NOW):
        old = raise_risk(api, title="Old risk")
    version, created = deploy(*read_directory(processes, forms))  # now: activated after the suite's first
    assert created
    with freeze_time(NOW) as clock:
        new = raise_risk(api, title="New risk")
        instances = {r["id"]: db.session.scalar(select(ProcessInstance.version_id).where(
            ProcessInstance.case_id == r["review_case_id"])) for r in (old, new)}
        assert instances[new["id"]] == version.id != instances[old["id"]]  # running reviews stay on theirs
        clock.move_to(DUE.replace(minute=5))
        assert reviews_fired() == 2
        tasks = {t["case"]["id"]: t for t in inbox(api, "consultant1")}
        on_new = tasks[new["review_case_id"]]
        data = {"outcome": "keep", "note": "Checked.", "next_review_on": "2026-08-20"}
        r = complete(api, on_new, "consultant1", data)
        assert r.status_code == 422 and {e["field"] for e in r.json["errors"]} == {"data.evidence"}
        r = complete(api, on_new, "consultant1", {**data, "evidence": "Restore test log of May 19."})
        assert r.status_code == 200, r.json
        approval = api.get(f"/api/v1/tasks/{r.json['next_tasks'][0]['id']}", "supervisor").json
        assert approval["element_id"] == "approve_review"
        assert db.session.get(Risk, new["id"]).review_on == date(2026, 5, 20)  # not applied before approval
        r = api.post(f"/api/v1/tasks/{approval['id']}/complete", "supervisor", json={
            "version": approval["version"], "data": {"decision": "continue", "review_note": "Fine."}})
        assert r.status_code == 200, r.json
        assert db.session.get(Risk, new["id"]).review_on == date(2026, 8, 20)
        r = complete(api, tasks[old["review_case_id"]], "consultant1", data)  # the old version's form
        assert r.status_code == 200, r.json


def test_a_scheduler_down_over_the_review_date_loses_nothing(app, api, world):
    with freeze_time(NOW) as clock:
        risk = raise_risk(api)
        db.session.commit()
        db.session.remove()  # the process stops: nothing kept in memory
        clock.move_to(datetime(2026, 5, 22, 14, tzinfo=SHANGHAI))  # two days later it starts again
        result = scheduler.run_once(app)
        assert sum(elements.count("review_date") for elements in result.fired.values()) == 1
        assert [t["case"]["id"] for t in inbox(api, "consultant1")] == [risk["review_case_id"]]


def test_customers_never_see_the_internal_cases(api, world):
    with freeze_time(NOW) as clock:
        risk = raise_risk(api, customer_id=world.customers["ACME"].id)
        clock.move_to(DUE.replace(minute=5))
        reviews_fired()
        api.forget_tokens()
        case_id = risk["review_case_id"]
        assert api.get(f"/api/v1/cases/{case_id}", "acme_user").status_code == 404
        assert case_id not in {c["id"] for c in api.get("/api/v1/cases", "acme_user").json["items"]}
        assert api.get("/api/v1/tasks?scope=all", "acme_user").json["items"] == []
        own = db.session.scalar(select(Customer).where(Customer.internal.is_(True)))
        assert own.code not in {c["code"] for c in api.get("/api/v1/customers?per_page=100", "admin").json["items"]}
        r = api.post("/api/v1/cases", "agent1", json={"customer_id": own.id, "channel": "phone", "title": "t",
                                                      "description": "d"})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "customer_id"
        # staff find the internal cases by kind
        listed = api.get("/api/v1/cases?kind=risk_review", "supervisor").json["items"]
        assert [c["id"] for c in listed] == [case_id]


def test_review_cases_do_not_count_in_the_kpis(api, world):
    with freeze_time(NOW):  # the clock stands still: only the review cases change
        r = api.post("/api/v1/cases", "agent1", json={"customer_id": world.customers["ACME"].id, "channel": "phone",
                                                      "title": "Printer", "description": "The printer is slow."})
        assert r.status_code == 201
        before = api.get("/api/v1/kpis?from=2026-05-01&to=2026-05-31", "supervisor").json
        raise_risk(api, review_on="2026-05-04")  # today, and 09:00 has passed: due as it starts
        [task] = inbox(api, "consultant1")
        r = complete(api, task, "consultant1", {"outcome": "close", "note": "n/a"})
        assert r.status_code == 200, r.json
        after = api.get("/api/v1/kpis?from=2026-05-01&to=2026-05-31", "supervisor").json
    assert after == before


def test_risks_raised_before_the_process_was_deployed_get_their_review_process(api, world):
    with freeze_time(NOW):
        owner = world.user("consultant1")
        legacy = Risk(title="From before", kind="market", level="low", status="open", owner=owner, owner_id=owner.id,
                      contingency_plan="None needed.", review_on=date(2026, 6, 1), created_at=NOW)
        db.session.add(legacy)
        db.session.commit()
        assert due.run().reviews_started == [legacy.id]
        assert due.run().reviews_started == []  # once
        case = db.session.get(Risk, legacy.id).review_case
        assert (case.kind, case.owner.username) == ("risk_review", "consultant1")
        assert db.session.scalars(select(Timer.due_at).where(Timer.case_id == case.id)).all() == [
            datetime(2026, 6, 1, 9, tzinfo=SHANGHAI)]
