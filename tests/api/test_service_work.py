"""The service catalogue, internal tasks and maintenance schedules through the API: business managers
keep the catalogue and the negotiation step picks from it; internal tasks are staff work a customer
never sees; a maintenance schedule opens its task on its date (the clock frozen and moved; the
schedule's process fires it, tests/api/test_visit_process.py has more)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import CaseEvent
from cases.process import timers
from cases.service.visit_models import InternalTask
from tests.api.dbstate import db_snapshot
from tests.helpers import only_task, open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENTRY = {"code": "DATA_MIGRATION", "name_zh": "数据迁移", "name_en": "Data migration", "price": 4500.5,
         "unit": "day"}


def test_business_managers_keep_the_catalogue_everybody_reads_it(api, world):
    assert api.post("/api/v1/service-catalogue", "agent1", json=ENTRY).status_code == 403
    r = api.post("/api/v1/service-catalogue", "bizmanager", json=ENTRY)
    assert r.status_code == 201, r.json
    assert r.json["price"] == 4500.5
    before = db_snapshot()
    again = api.post("/api/v1/service-catalogue", "bizmanager", json=ENTRY)
    assert again.status_code == 422 and [e["field"] for e in again.json["errors"]] == ["code"]
    bad = api.post("/api/v1/service-catalogue", "bizmanager", json={**ENTRY, "code": "x y", "price": -1})
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"code", "price"}
    assert db_snapshot() == before
    changed = api.request("PATCH", f"/api/v1/service-catalogue/{r.json['id']}", "bizmanager",
                          json={"version": r.json["version"], "price": 5000, "active": False})
    assert changed.status_code == 200 and changed.json["price"] == 5000
    conflict = api.request("PATCH", f"/api/v1/service-catalogue/{r.json['id']}", "bizmanager",
                           json={"version": r.json["version"], "price": 1})
    assert conflict.status_code == 409
    assert api.get("/api/v1/service-catalogue", "acme_user").json == []  # retired: not offered
    assert len(api.get("/api/v1/service-catalogue?include_inactive=true", "supervisor").json) == 1


def test_the_negotiation_picks_a_special_service_from_the_catalogue(api, world):
    api.post("/api/v1/service-catalogue", "bizmanager", json=ENTRY)
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify", {"category": "special_service", "priority": "medium"})
    task = only_task(api, case["id"])
    assert task["element_id"] == "negotiate_service"
    data = {"service_description": "迁移历史数据", "quote": 9000, "accepted": False, "decline_reason": "预算不足"}
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "bizmanager",
                 json={"version": task["version"], "data": {**data, "catalogue_code": "NOPE"}})
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["data.catalogue_code"]
    ok = api.post(f"/api/v1/tasks/{task['id']}/complete", "bizmanager",
                  json={"version": task["version"], "data": {**data, "catalogue_code": "DATA_MIGRATION"}})
    assert ok.status_code == 200, ok.json


def test_internal_tasks_are_tracked_and_never_shown_to_the_customer(api, world):
    case = open_case(api, "acme_user")
    url = f"/api/v1/cases/{case['id']}/internal-tasks"
    before = db_snapshot()
    bad = api.post(url, "consultant1", json={"title": "在测试环境复现", "assignee": "acme_user"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json["errors"]] == ["assignee"]
    assert db_snapshot() == before
    r = api.post(url, "consultant1", json={"title": "在测试环境复现", "assignee": "consultant2",
                                           "due_on": "2030-01-10"})
    assert r.status_code == 201, r.json
    task = r.json
    assert api.get(url, "acme_user").status_code == 403
    assert api.post(url, "acme_user", json={"title": "x"}).status_code == 403
    assert api.get(f"/api/v1/internal-tasks/{task['id']}", "acme_user").status_code == 403
    mine = api.get("/api/v1/internal-tasks?assignee=me&state=open", "consultant2").json
    assert [t["id"] for t in mine["items"]] == [task["id"]]
    no_time = api.request("PATCH", f"/api/v1/internal-tasks/{task['id']}", "consultant2",
                          json={"version": task["version"], "state": "done"})
    assert no_time.status_code == 422 and [e["field"] for e in no_time.json["errors"]] == ["minutes_spent"]
    done = api.request("PATCH", f"/api/v1/internal-tasks/{task['id']}", "consultant2",
                       json={"version": task["version"], "state": "done", "minutes_spent": 45,
                             "outcome": "复现：月末报表在 SQL Server 2017 上超时"})
    assert done.status_code == 200 and done.json["state"] == "done"
    # the customer's view of the case: no internal task anywhere
    seen = api.get(f"/api/v1/cases/{case['id']}", "acme_user").json
    assert "复现" not in str(seen) and "internal_task" not in str(seen)
    report = api.get(f"/api/v1/cases/{case['id']}/service-report", "acme_user").json
    assert report["lines"] == [] and report["minutes"]["other"] == 45
    staff_report = api.get(f"/api/v1/cases/{case['id']}/service-report", "consultant1").json
    assert [line["minutes"] for line in staff_report["lines"]] == [45]
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case["id"],
                                                        CaseEvent.kind.like("internal_task%"))).all()
    assert [e.public for e in events] == [False, False]


def maintenance_opened() -> int:
    """Fire the due timers (as the scheduler does); the maintenance tasks opened so far."""
    timers.fire_due()
    return len(db.session.scalars(select(InternalTask).where(InternalTask.schedule_id.is_not(None))).all())


def test_a_maintenance_schedule_opens_its_task_on_its_date(api, installation):
    body = {"installed_product_id": installation.id, "kind": "backup_check", "interval_days": 7,
            "next_due": "2026-03-05", "assignee": "consultant1", "notes": "检查夜间备份"}
    with freeze_time(datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)) as clock:
        assert api.post("/api/v1/maintenance-schedules", "agent1", json=body).status_code == 403
        bad = api.post("/api/v1/maintenance-schedules", "supervisor", json={**body, "interval_days": 0})
        assert bad.status_code == 422 and [e["field"] for e in bad.json["errors"]] == ["interval_days"]
        r = api.post("/api/v1/maintenance-schedules", "supervisor", json=body)
        assert r.status_code == 201, r.json
        clock.move_to(datetime(2026, 3, 4, 23, 59, tzinfo=SHANGHAI))
        assert maintenance_opened() == 0
        clock.move_to(datetime(2026, 3, 5, 0, 1, tzinfo=SHANGHAI))
        assert maintenance_opened() == 1
        assert maintenance_opened() == 1
        clock.move_to(datetime(2026, 3, 20, 8, tzinfo=SHANGHAI))  # two dates passed while nothing ran
        assert maintenance_opened() == 3
        api.forget_tokens()
        tasks = api.get("/api/v1/internal-tasks?maintenance=true", "consultant1").json["items"]
        api.forget_tokens()
        schedule = api.get("/api/v1/maintenance-schedules", "consultant1").json[0]
    assert [(t["due_on"], t["assignee"], t["case_id"]) for t in tasks] == [
        ("2026-03-05", "consultant1", None), ("2026-03-12", "consultant1", None), ("2026-03-19", "consultant1", None)]
    assert schedule["next_due"] == "2026-03-26"
