"""The KPI dashboard through Flask's test client: who sees it, the figures against the API's, the
trend's periods, errors on the fields, the CSV download."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cases.kpis.report import TIMEZONE
from tests.helpers import open_case
from web.kpi import _steps


def _trend(page: str) -> list[dict]:
    return json.loads(re.search(r'<script type="application/json" id="kpi-trend">(.*?)</script>', page, re.S).group(1))


def test_kpi_readers_only(pages):
    for user in ("supervisor", "owner", "admin"):
        assert pages(user).get("/kpis").status_code == 200
    for user in ("agent1", "consultant1", "acme_user"):
        assert pages(user).get("/kpis").status_code == 403
        assert pages(user).get("/kpis/export.csv").status_code == 403


def test_the_figures_are_the_apis(api, world, pages):
    for _ in range(2):
        open_case(api, customer_id=world.customers["ACME"].id)
    open_case(api, customer_id=world.customers["VIPCO"].id, channel="phone")
    today = datetime.now(ZoneInfo(TIMEZONE)).date()  # the reporting day, as the KPIs count it
    args = f"from={today.replace(day=1).isoformat()}&to={today.isoformat()}"
    supervisor = pages("supervisor")
    page = supervisor.text(supervisor.get(f"/kpis?{args}&step=week&group_by=tier"))
    assert re.search(r'<tr data-kpi="cases"><th scope="row">Cases opened</th><td>3</td>', page)
    assert re.search(r'<tr data-kpi="backlog"><th scope="row">Open backlog at the end</th><td>3</td>', page)
    groups = re.search(r'<table class="list" id="kpi-groups">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', groups) == [("standard", "2"), ("VIP", "1")]
    trend = _trend(page)
    assert [p["from"] for p in trend] == [a.isoformat() for a, _ in _steps(today.replace(day=1), today, "week")]
    assert sum(p["totals"]["cases"]["value"] for p in trend) == 3
    assert trend[-1]["totals"]["backlog"]["buckets"]["lt_1d"] == 3
    # a filter
    vip = supervisor.text(supervisor.get(f"/kpis?{args}&tier=vip&channel=phone"))
    assert re.search(r'<tr data-kpi="cases"><th scope="row">Cases opened</th><td>1</td>', vip)

    csv = supervisor.get(f"/kpis/export.csv?{args}&group_by=tier")
    assert csv.mimetype == "text/csv"
    assert csv.headers["Content-Disposition"] == \
        f'attachment; filename="kpis_{today.replace(day=1).isoformat()}_{today.isoformat()}_tier.csv"'
    assert csv.get_data() == api.get(f"/api/v1/kpis.csv?{args}&group_by=tier", "supervisor").get_data()


def test_errors_are_shown_on_their_fields(pages):
    supervisor = pages("supervisor")
    bad_date = supervisor.get("/kpis?from=2026-13-01")
    assert bad_date.status_code == 422
    assert '<p class="field-error" id="err-from">A date as YYYY-MM-DD.</p>' in supervisor.text(bad_date)
    backwards = supervisor.get("/kpis?from=2026-11-30&to=2026-11-01")
    assert backwards.status_code == 422 and 'id="err-to"' in supervisor.text(backwards)
    assert supervisor.get("/kpis?tier=gold").status_code == 422
    unknown = supervisor.get("/kpis?agent=nobody")
    assert unknown.status_code == 422 and "No such user." in supervisor.text(unknown)
    too_long = supervisor.get("/kpis?from=2024-01-01&to=2026-11-30&step=week")
    assert too_long.status_code == 422 and "choose months" in supervisor.text(too_long)
    assert supervisor.get("/kpis?from=2024-01-01&to=2026-11-30&step=month").status_code == 200
    assert supervisor.get("/kpis/export.csv?from=nope").status_code == 422


def test_the_trend_is_cut_into_calendar_weeks_and_months():
    assert _steps(date(2026, 11, 4), date(2026, 11, 20), "week") == [
        (date(2026, 11, 4), date(2026, 11, 8)), (date(2026, 11, 9), date(2026, 11, 15)),
        (date(2026, 11, 16), date(2026, 11, 20))]
    assert _steps(date(2026, 11, 15), date(2027, 1, 10), "month") == [
        (date(2026, 11, 15), date(2026, 11, 30)), (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 10))]
    assert _steps(date(2026, 11, 1), date(2026, 11, 1), "week") == [(date(2026, 11, 1), date(2026, 11, 1))]


def test_the_pages_speak_chinese(pages):
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9"}
    kpi = pages("supervisor").text(pages("supervisor").get("/kpis", headers=chinese))
    assert "<h1>服务指标</h1>" in kpi and "首次响应在 SLA 内" in kpi
    texts = json.loads(re.search(r'<script type="application/json" id="kpi-texts">(.*?)</script>', kpi, re.S).group(1))
    assert texts["sla"]["title"] == "SLA 达成率（%）" and texts["backlog"]["gte_30d"] == "30 天及以上"
    owner = pages("owner")
    assert "<h1>流程</h1>" in owner.text(owner.get("/owner/processes", headers=chinese))
    assert "试运行：哪些服务单可以迁移？" in owner.text(owner.get("/owner/migrations", headers=chinese))


def test_the_complaint_figures_beside_the_others(api, world, pages):
    from tests.helpers import step
    case = open_case(api, customer_id=world.customers["ACME"].id)
    r = api.post(f"/api/v1/cases/{case['id']}/complaints", "acme_user", json={"description": "Too slow."})
    assert r.status_code == 201, r.json
    step(api, r.json["id"], "acknowledge_complaint")
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    args = f"from={today.replace(day=1).isoformat()}&to={today.isoformat()}"
    totals = api.get(f"/api/v1/kpis?{args}", "supervisor").json["totals"]
    assert totals["complaints"]["value"] == 1 and totals["complaint_acknowledged_within_sla"]["value"] == 1.0
    page = pages("supervisor").text(pages("supervisor").get(f"/kpis?{args}"))
    assert re.search(r'<tr data-kpi="complaints"><th scope="row">Complaints opened</th><td>1</td>', page)
    assert re.search(r'<tr data-kpi="complaint_acknowledged_within_sla"><th scope="row">Complaints acknowledged '
                     r'within the SLA</th><td>100.0 % </td><td></td><td>1 / 1</td>', page)
    assert re.search(r'<tr data-kpi="complaint_resolved_within_sla"><th scope="row">Complaints resolved within the '
                     r'SLA</th><td>— </td><td></td><td>0 / 0</td>', page)
    chinese = pages("supervisor").get(f"/kpis?{args}", headers={"Accept-Language": "zh-CN"})
    assert "在 SLA 内受理的投诉" in chinese.get_data(as_text=True)
