"""The quarterly service review through the API: the quarter's cases for one customer or the whole
service (cases opened at known Shanghai times, the clock frozen), the same figures as the KPI report,
who may read it, a quarter or customer that is not valid, and the CSV with labels in the reader's
language."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def quarter_of_cases(api, world):
    """ACME: two cases in Q3 2026 (1 July 00:30 Shanghai, i.e. still 30 June in UTC, and 30 September
    23:30) and one in Q4; OTHER: one in Q3."""
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    for moment, customer in ((datetime(2026, 7, 1, 0, 30), acme), (datetime(2026, 9, 30, 23, 30), acme),
                             (datetime(2026, 8, 12, 10, 0), other), (datetime(2026, 10, 1, 0, 5), acme)):
        with freeze_time(moment.replace(tzinfo=SHANGHAI)):
            api._tokens.clear()  # a token of its own moment (tokens expire)
            open_case(api, customer_id=customer)
    api._tokens.clear()
    return acme, other


def _review(api, as_user="supervisor", **query) -> dict:
    r = api.get("/api/v1/service-review", as_user, query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def _figures(review: dict, section: str) -> dict:
    part = next(s for s in review["sections"] if s["key"] == section)
    return {f["key"]: f for f in part["figures"]}


def test_a_customers_quarter_counts_its_cases_by_the_reporting_days(api, quarter_of_cases):
    acme, _other = quarter_of_cases
    q3 = _review(api, quarter="2026-Q3", customer_id=acme)
    assert (q3["from"], q3["to"], q3["timezone"], q3["customer_id"]) == \
        ("2026-07-01", "2026-09-30", "Asia/Shanghai", acme)
    cases = _figures(q3, "cases")
    assert cases["cases_opened"]["value"] == 2
    assert cases["backlog"]["value"] == 2  # none closed: both still open at the quarter's end
    assert _figures(_review(api, quarter="2026-Q4", customer_id=acme), "cases")["cases_opened"]["value"] == 1
    assert _figures(_review(api, quarter="2026-Q3"), "cases")["cases_opened"]["value"] == 3


def test_the_sections_come_in_order_and_carry_the_kpi_reports_figures(api, quarter_of_cases):
    acme, _other = quarter_of_cases
    review = _review(api, quarter="2026-Q3", customer_id=acme)
    keys = [s["key"] for s in review["sections"]]
    assert keys[:2] == ["cases", "satisfaction"]
    kpis = api.get("/api/v1/kpis", "supervisor",
                   query_string={"from": "2026-07-01", "to": "2026-09-30", "customer_id": acme}).json["totals"]
    cases, satisfaction = _figures(review, "cases"), _figures(review, "satisfaction")
    for key in ("first_response_within_sla", "resolution_within_sla", "resolution_rate", "reopen_rate"):
        assert (cases[key]["value"], cases[key]["target"]) == (kpis[key]["value"], kpis[key]["target"]), key
    assert (satisfaction["csat"]["target"], satisfaction["csat"]["value"]) == (0.85, None)  # no score given
    assert cases["reopen_rate"]["higher_is_better"] is False
    assert satisfaction["feedback"]["target"] is None  # the 100-a-month target is the whole service's


def test_only_kpi_readers_see_the_review(api, world):
    for user in ("supervisor", "bizmanager", "owner", "admin"):
        assert api.get("/api/v1/service-review?quarter=2026-Q3", user).status_code == 200, user
    for user in ("agent1", "consultant1", "acme_user"):
        r = api.get("/api/v1/service-review?quarter=2026-Q3", user)
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed", user
        assert api.get("/api/v1/service-review.csv?quarter=2026-Q3", user).status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ({"quarter": "2026-Q5"}, "quarter"), ({"quarter": "2026-4"}, "quarter"), ({"quarter": "1960-Q1"}, "quarter"),
    ({}, "quarter"), ({"quarter": "2026-Q1", "customer_id": 0}, "customer_id"),
    ({"quarter": "2026-Q1", "customer_id": 999999}, "customer_id"),
    ({"quarter": "2026-Q1", "colour": "red"}, "colour")])
def test_a_query_that_is_not_valid_names_its_field(api, world, query, field):
    r = api.get("/api/v1/service-review", "supervisor", query_string=query)
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"].removeprefix("query.") for e in r.json["errors"]}, r.json


def test_the_csv_has_a_row_per_figure_with_labels_in_the_readers_language(api, quarter_of_cases):
    acme, _other = quarter_of_cases
    r = api.get("/api/v1/service-review.csv", "supervisor", query_string={"quarter": "2026-Q3", "customer_id": acme})
    assert r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == f'attachment; filename="service-review-2026-Q3-customer-{acme}.csv"'
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    opened = next(row for row in rows if row["figure"] == "cases_opened")
    assert (opened["section"], opened["label"], opened["value"], opened["unit"]) == \
        ("cases", "Cases opened", "2", "count")
    csat = next(row for row in rows if row["figure"] == "csat")
    assert (csat["target"], csat["meets_target"], csat["value"]) == ("0.85", "", "")
    zh = api.get("/api/v1/service-review.csv", "supervisor", headers={"Accept-Language": "zh-CN"},
                 query_string={"quarter": "2026-Q3", "customer_id": acme}).get_data(as_text=True)
    assert "新开服务单" in zh and "Cases opened" not in zh
