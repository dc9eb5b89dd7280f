"""A major incident as a process (processes/major_incident.bpmn), through HTTP with the clock frozen:
its ladder is the process's boundary timers — each rung at its moment and not before, once however
often the scheduler runs, once and late after the scheduler was down —; resolving completes the
lead's task "Work the incident", whose form a process owner can change, and its step resolves
every linked case; resolving cancels the rungs still waiting; incidents from before the process get
it from the service job without a rung reached twice; customers never see the incident's own case."""
from __future__ import annotations

from datetime import datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case, CaseEvent, Task
from cases.outbox import notifications
from cases.outbox.models import Notification
from cases.process import timers
from cases.process.deploy import deploy, read_directory
from cases.process.models import ProcessInstance, Timer
from cases.service import due, major_incidents
from cases.service.models import MajorIncident
from cases.sla.models import SlaTarget
from tests.api.dbstate import db_snapshot
from tests.api.test_major_incidents import T0, URL, at_resolve, declare, notices
from tests.cases.outbox.test_notifications import settings_for
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import get_case, only_task, open_case, process_files
from tests.smtp_server import LocalSmtp
from workers import scheduler

#: the built-in rule for major incidents, around the clock: first update in 30 minutes, resolved in 8
#: hours; the ladder at 75 %, 100 % and 120 minutes after the breach
FIRST_WARNING, FIRST_BREACH, FIRST_MANAGER = (T0 + timedelta(minutes=22, seconds=30), T0 + timedelta(minutes=30),
                                              T0 + timedelta(minutes=150))
RES_WARNING, RES_BREACH, RES_MANAGER = T0 + timedelta(hours=6), T0 + timedelta(hours=8), T0 + timedelta(hours=10)


def rungs(incident_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(e["target"], e["rung"]) for e in db.session.get(MajorIncident, incident_id).escalations]


def process_case(incident: dict) -> Case:
    case = db.session.get(Case, incident["process_case_id"])
    assert case is not None
    return case


def waiting(case: Case) -> list[datetime]:
    return sorted(db.session.scalars(select(Timer.due_at).where(Timer.case_id == case.id)).all())


def test_each_rung_fires_at_its_moment_once_and_late_after_an_outage(app, api, world):
    accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
    for name in ("consultant2", "supervisor", "manager1"):
        world.user(name).email = f"{name}@example.test"
    db.session.commit()
    with freeze_time(T0) as clock:
        case = open_case(api, customer_id=world.customers["ACME"].id, title="Posting fails")
        incident = declare(api, case["id"], team=["consultant2"])
        own = process_case(incident)
        own_id = own.id
        assert (own.kind, own.customer.internal, own.owner.username) == ("major_incident", True, "supervisor")
        assert db.session.scalar(select(func.count()).select_from(SlaTarget).where(SlaTarget.case_id == own.id)) == 0
        assert waiting(own) == [FIRST_WARNING, FIRST_BREACH, FIRST_MANAGER, RES_WARNING, RES_BREACH, RES_MANAGER]
        task = db.session.get(Task, incident["work_task_id"])
        assert (task.element_id, task.assignee.username) == ("work_incident", "supervisor")

        clock.move_to(FIRST_WARNING - timedelta(seconds=1))
        timers.fire_due()
        assert rungs(incident["id"]) == []  # not a moment before
        clock.move_to(FIRST_WARNING + timedelta(seconds=1))
        timers.fire_due()
        timers.fire_due()  # the scheduler twice: once
        assert rungs(incident["id"]) == [("first_response", "warning")]
        clock.move_to(FIRST_BREACH + timedelta(seconds=30))
        timers.fire_due()
        assert rungs(incident["id"]) == [("first_response", "warning"), ("first_response", "breach")]
        r = api.post(f"{URL}/{incident['id']}/updates", "consultant2", json={"text": "On it."})
        assert r.status_code == 201  # the first response is met: its manager rung will reach nobody

        db.session.commit()
        db.session.remove()  # the scheduler is down for a day: nothing kept in memory
        clock.move_to(T0 + timedelta(days=1))
        scheduler.run_once(app)
        scheduler.run_once(app)
        assert rungs(incident["id"]) == [("first_response", "warning"), ("first_response", "breach"),
                                         ("resolution", "warning"), ("resolution", "breach"),
                                         ("resolution", "manager")]  # once each, late
        assert waiting(db.session.get(Case, own_id)) == []
    events = db.session.scalars(select(CaseEvent.data).where(CaseEvent.case_id == case["id"],
                                                             CaseEvent.kind == "major_incident_escalated")
                                   .order_by(CaseEvent.id)).all()
    assert [(e["target"], e["rung"], e["level"]) for e in events] == [
        ("first_response", "warning", "warning"), ("first_response", "breach", "breach"),
        ("resolution", "warning", "warning"), ("resolution", "breach", "breach"), ("resolution", "manager", "manager")]
    # who is told: the team at a warning, the supervisors at a breach, the managers after it
    assert events[0]["notified"] == ["consultant2", "supervisor"]
    assert events[1]["notified"] == ["supervisor"]
    assert events[4]["notified"] == ["manager1"]
    assert db.session.get(Task, incident["work_task_id"]).state == "open"  # the lead still works it


def test_resolving_completes_the_task_resolves_every_case_and_cancels_the_rungs_left(api, world):
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    with freeze_time(T0) as clock:
        a1 = at_resolve(api, acme, "li@acme.example", "Posting fails")
        a2 = at_resolve(api, acme, "li@acme.example", "Receipts fail")
        o1 = at_resolve(api, other, "han@other.example", "Stock posting error")
        incident = declare(api, a1["id"], team=["consultant2"], link_cases=[a2["id"], o1["id"]])
        own = process_case(incident)
        r = api.post(f"{URL}/{incident['id']}/updates", "consultant2", json={"text": "Rolling back."})
        assert r.status_code == 201
        clock.move_to(T0 + timedelta(hours=1))
        r = api.post(f"{URL}/{incident['id']}/resolve", "consultant2",
                     json={"version": api.get(f"{URL}/{incident['id']}", "supervisor").json["version"],
                           "solution": "Rolled back to 7.1.9."})
        assert r.status_code == 200, r.json
        assert [x["outcome"] for x in r.json["results"]] == ["resolved"] * 3
        assert r.json["incident"]["work_task_id"] is None
        task = db.session.get(Task, incident["work_task_id"])
        assert (task.state, task.completed_by_id) == ("completed", world.user("consultant2").id)
        db.session.expire_all()
        assert db.session.get(Case, own.id).status == "closed"  # the process ended
        assert waiting(own) == []  # the rungs not reached are cancelled
        clock.move_to(T0 + timedelta(days=2))
        timers.fire_due()
        assert rungs(incident["id"]) == []
        api.forget_tokens()
        for case in (a1, a2, o1):
            assert get_case(api, case["id"])["solution"] == "Rolled back to 7.1.9."
            assert only_task(api, case["id"])["element_id"] == "confirm"
        db.session.commit()
        smtp = LocalSmtp().start()
        try:
            notifications.deliver_pending(settings=settings_for(smtp.port))
            mails = [(m.message["X-Caseflow-Kind"], tuple(m.rcpt_tos)) for m in smtp.messages()
                     if m.message["X-Caseflow-Kind"] in ("major_incident_update", "resolution")]
        finally:
            smtp.stop()
    # the update once per customer; each linked case's resolution once, to its contact
    assert sorted(mails) == sorted([("major_incident_update", ("li@acme.example",)),
                                    ("major_incident_update", ("han@other.example",)),
                                    ("resolution", ("li@acme.example",)), ("resolution", ("li@acme.example",)),
                                    ("resolution", ("han@other.example",))])
    assert notices("resolution") == sorted([(a1["id"], "li@acme.example"), (a2["id"], "li@acme.example"),
                                            (o1["id"], "han@other.example")])


def test_bad_resolve_input_names_the_field_and_changes_nothing(api, world):
    with freeze_time(T0):
        case = at_resolve(api, world.customers["ACME"].id, "li@acme.example", "Posting fails")
        incident = declare(api, case["id"])
        before = db_snapshot()
        for body, field in (({"solution": "   "}, "solution"),
                            ({"solution": "s", "cause": "x" * 10001}, "cause"),
                            ({"solution": "s", "severity": "high"}, "severity")):
            r = api.post(f"{URL}/{incident['id']}/resolve", "supervisor", json={**body, "version": incident["version"]})
            assert r.status_code == 422, (body, r.json)
            assert field in {e["field"] for e in r.json["errors"]}, (body, r.json)
        r = api.post(f"{URL}/{incident['id']}/resolve", "supervisor",
                     json={"solution": "s", "version": incident["version"] - 1})
        assert r.status_code == 409 and r.json["code"] == "stale_version"
        assert db_snapshot() == before
        assert db.session.get(Task, incident["work_task_id"]).state == "open"
        assert only_task(api, case["id"])["element_id"] == "resolve"


def test_a_changed_diagram_deploys_and_new_incidents_run_on_it(api, world, tmp_path, restore_active_version):
    """A process owner makes the first rung come after 5 minutes and adds a required field to the form."""
    processes, forms = process_files(tmp_path)
    diagram = processes / "major_incident.bpmn"
    diagram.write_text(diagram.read_text().replace("<bpmn:timeDate>first_response_warning_at</bpmn:timeDate>",
                                                   '<bpmn:timeDuration>"PT5M"</bpmn:timeDuration>'))
    form = forms / "resolve_major_incident.schema.json"
    form.write_text(form.read_text().replace('"required": [\n    "solution"', '"required": [\n    "impact",\n    "solution"')
                    .replace('"properties": {\n', '"properties": {\n    "impact": {"title": "Impact", '
                             '"x-title-zh": "影响", "type": "string", "minLength": 1},\n', 1))
    acme = world.customers["ACME"].id
    with freeze_time(T0):
        old = declare(api, at_resolve(api, acme, "li@acme.example", "Old")["id"])
    version, created = deploy(*read_directory(processes, forms))  # now: activated after the suite's first
    assert created
    with freeze_time(T0) as clock:
        new = declare(api, at_resolve(api, acme, "li@acme.example", "New")["id"])
        on = {i["id"]: db.session.scalar(select(ProcessInstance.version_id).where(
            ProcessInstance.case_id == i["process_case_id"])) for i in (old, new)}
        assert on[new["id"]] == version.id != on[old["id"]]  # running incidents stay on theirs
        clock.move_to(T0 + timedelta(minutes=5, seconds=30))
        timers.fire_due()
        assert (rungs(new["id"]), rungs(old["id"])) == ([("first_response", "warning")], [])
        r = api.post(f"{URL}/{new['id']}/resolve", "supervisor", json={"solution": "s", "version": rungs_version(new)})
        assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["impact"]
        r = api.post(f"{URL}/{new['id']}/resolve", "supervisor",
                     json={"solution": "s", "impact": "All warehouses.", "version": rungs_version(new)})
        assert r.status_code == 200, r.json
        assert [x["outcome"] for x in r.json["results"]] == ["resolved"]
        r = api.post(f"{URL}/{old['id']}/resolve", "supervisor", json={"solution": "s", "version": rungs_version(old)})
        assert r.status_code == 200, r.json  # the old version's form


def rungs_version(incident: dict) -> int:
    db.session.expire_all()
    return db.session.get(MajorIncident, incident["id"]).version


def test_customers_never_see_the_incident_case_and_kpis_do_not_count_it(api, world):
    with freeze_time(T0):
        case = open_case(api, customer_id=world.customers["ACME"].id, title="Posting fails")
        before = api.get("/api/v1/kpis?from=2026-11-01&to=2026-11-30", "supervisor").json
        incident = declare(api, case["id"])
        after = api.get("/api/v1/kpis?from=2026-11-01&to=2026-11-30", "supervisor").json
        api.forget_tokens()
        own = incident["process_case_id"]
        assert api.get(f"/api/v1/cases/{own}", "acme_user").status_code == 404
        assert own not in {c["id"] for c in api.get("/api/v1/cases", "acme_user").json["items"]}
        assert "process_case_id" not in api.get(f"{URL}/{incident['id']}", "acme_user").json
        assert [c["id"] for c in api.get("/api/v1/cases?kind=major_incident", "supervisor").json["items"]] == [own]
    assert after == before


def test_incidents_from_before_the_process_get_it_without_a_rung_twice(api, world):
    with freeze_time(T0) as clock:
        case = open_case(api, customer_id=world.customers["ACME"].id, title="Posting fails")
        origin = db.session.get(Case, case["id"])
        supervisor = world.user("supervisor")
        sla = major_incidents._start_sla("urgent", origin, T0)
        legacy = MajorIncident(title="From before", description="d", priority="urgent", status="open",
                               origin_case_id=origin.id, origin_case=origin, declared_by_id=supervisor.id,
                               declared_at=T0, updated_at=T0, sla=sla,
                               escalations=[{"target": "first_response", "rung": "warning", "kind": "warning",
                                             "at": FIRST_WARNING.isoformat(), "notified": []}])
        db.session.add(legacy)
        db.session.commit()
        clock.move_to(FIRST_BREACH + timedelta(minutes=1))  # the old job reached the warning, not yet the breach
        assert due.run().incident_processes_started == [legacy.id]
        assert due.run().incident_processes_started == []  # once
        timers.fire_due()
        assert rungs(legacy.id) == [("first_response", "warning"), ("first_response", "breach")]
        incident = db.session.get(MajorIncident, legacy.id)
        own = incident.process_case
        assert (own.kind, own.owner.username) == ("major_incident", "supervisor")
        assert waiting(own) == [FIRST_MANAGER, RES_WARNING, RES_BREACH, RES_MANAGER]
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "sla_warning")) == 0  # the warning is not mailed again
