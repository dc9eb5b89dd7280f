"""The service report of a case against a hand-computed case: a repair of 95 minutes out of
warranty (800.00), a remote session of 40 minutes, an internal task of 45 minutes — 180 minutes in
all; the customer sees the sums but not the internal task; the CSV speaks Chinese or English."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun import freeze_time

from cases.core.db import db
from cases.service.visit_models import CatalogueItem
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
START = datetime(2026, 3, 3, 14, 0, tzinfo=SHANGHAI)


def the_case(api, world) -> dict:
    db.session.add(CatalogueItem(code="ONSITE", name_zh="上门维修", name_en="On-site repair", price_cents=80000,
                                 unit="visit", active=True))
    db.session.commit()
    with freeze_time(NOW) as clock:
        case = open_case(api, "acme_user", title="服务器无法启动", description="机房服务器开机无反应")
        cid = case["id"]
        r = api.post(f"/api/v1/cases/{cid}/remote-sessions", "consultant1", json={
            "started_at": (NOW - timedelta(minutes=50)).isoformat(),
            "ended_at": (NOW - timedelta(minutes=10)).isoformat(), "summary": "远程检查系统日志"})
        assert r.status_code == 201 and r.json["minutes"] == 40
        visit = api.post(f"/api/v1/cases/{cid}/visits", "consultant1", json={
            "kind": "repair", "purpose": "更换电源", "catalogue_code": "ONSITE", "technician": "consultant1",
            "window_start": START.isoformat(), "window_end": (START + timedelta(hours=2)).isoformat()}).json
        api.post(f"/api/v1/visits/{visit['id']}/confirm", "acme_user", json={"version": visit["version"]})
        task = api.post(f"/api/v1/cases/{cid}/internal-tasks", "consultant1", json={"title": "测试环境复现"}).json
        api.request("PATCH", f"/api/v1/internal-tasks/{task['id']}", "consultant1",
                    json={"version": task["version"], "state": "done", "minutes_spent": 45})
        clock.move_to(START + timedelta(hours=4))
        api.forget_tokens()
        r = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant1", json={
            "arrived_at": (START + timedelta(minutes=5)).isoformat(), "minutes": 95, "parts": ["PSU-550"],
            "result": "replaced", "notes": "更换电源"})
        assert r.status_code == 201, r.json
    api.forget_tokens()
    return case


def test_the_report_adds_up_the_time_and_hides_internal_tasks_from_the_customer(api, world):
    case = the_case(api, world)
    mine = api.get(f"/api/v1/cases/{case['id']}/service-report", "acme_user").json
    assert mine["minutes"] == {"on_site": 95, "remote": 40, "other": 45, "total": 180}
    assert [(line["kind"], line["minutes"]) for line in mine["lines"]] == [("Remote assistance", 40), ("On site", 95)]
    assert mine["charges"] == [{"what": "上门维修 / On-site repair", "in_warranty": False, "amount": 800.0}]
    assert mine["total_charge"] == 800.0
    assert mine["reported"] == "机房服务器开机无反应"
    staff = api.get(f"/api/v1/cases/{case['id']}/service-report", "supervisor").json
    assert [line["kind"] for line in staff["lines"]] == ["Remote assistance", "Other work on the case", "On site"]
    assert api.get(f"/api/v1/cases/{case['id']}/service-report", "other_user").status_code == 404


def test_the_report_as_csv_in_both_languages(api, world):
    case = the_case(api, world)
    zh = api.get(f"/api/v1/cases/{case['id']}/service-report.csv?lang=zh", "acme_user")
    en = api.get(f"/api/v1/cases/{case['id']}/service-report.csv?lang=en", "acme_user")
    assert zh.status_code == en.status_code == 200
    zh_rows = list(csv.reader(io.StringIO(zh.data.decode("utf-8-sig"))))
    en_rows = list(csv.reader(io.StringIO(en.data.decode("utf-8-sig"))))
    assert en_rows[0][:4] == ["Section", "Date", "Item", "Minutes"]
    assert zh_rows[0][:4] == ["部分", "日期", "项目", "分钟"]
    assert ["Time spent", "", "Total", "180", "", "", ""] in en_rows
    assert "测试环境复现" not in zh.data.decode("utf-8-sig")
    bad = api.get(f"/api/v1/cases/{case['id']}/service-report.csv?lang=fr", "acme_user")
    assert bad.status_code == 422 and [e["field"] for e in bad.json["errors"]] == ["query.lang"]
