"""Recurring problems through the API, against a hand-computed data set: the groups by product,
version, category and customer over a period, the recurrence-rate KPI, known problems with their
workaround in a knowledge-base article, and the quarterly review's sections."""
from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.db import db
from cases.customers.models import InstalledProduct
from cases.knowledge import articles
from cases.kpis.figures import Period
from cases.service import review
from cases.service.models import KnownProblem
from tests.api.dbstate import db_snapshot
from tests.api.test_major_incidents import at_resolve, declare
from tests.helpers import open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


def opened(api, customer_id: int, day: int, category: str | None, month: int = 11) -> dict:
    with freeze_time(datetime(2026, month, day, 10, 0, tzinfo=SHANGHAI)):
        case = open_case(api, customer_id=customer_id, title=f"{category} on {month}/{day}")
        if category is not None:
            step(api, case["id"], "classify", {"category": category, "priority": "medium"})
    api.forget_tokens()
    return case


@pytest.fixture
def history(api, world):
    """November 2026, by hand:

    ACME (one product installed: ERP 7.2): data problems on the 2nd, 9th and 20th, a software bug on
    the 5th; an unclassified case (left out) and a data problem in October (outside the period).
    OTHER (two products installed: product not known): data problems on the 3rd and 25th.
    VIPCO (nothing installed): one data problem.

    Groups: ACME/data/ERP 7.2: 3 · ACME/bug/ERP 7.2: 1 · OTHER/data: 2 · VIPCO/data: 1.
    7 classified cases; repeats (3 - 1) + (2 - 1) = 3; rate 3/7; 2 groups came back.
    """
    acme, other, vip = (world.customers[c].id for c in ("ACME", "OTHER", "VIPCO"))
    db.session.add_all([InstalledProduct(customer_id=acme, product="ERP", product_version="7.2"),
                        InstalledProduct(customer_id=other, product="ERP", product_version="7.1"),
                        InstalledProduct(customer_id=other, product="POS", product_version="2.0")])
    db.session.commit()
    cases = {"acme_data": [opened(api, acme, d, "data_problem") for d in (2, 9, 20)],
             "acme_bug": [opened(api, acme, 5, "software_bug")],
             "other_data": [opened(api, other, d, "data_problem") for d in (3, 25)],
             "vip_data": [opened(api, vip, 12, "data_problem")]}
    opened(api, acme, 14, None)  # not classified: no problem to count yet
    opened(api, acme, 28, "data_problem", month=10)  # before the period
    return cases


def test_the_groups_that_came_back_and_the_recurrence_rate(api, history, world):
    r = api.get("/api/v1/problems", "supervisor", query_string=NOVEMBER)
    assert r.status_code == 200, r.json
    found = [(g["customer"], g["category"], g["product"], g["product_version"], g["count"]) for g in r.json]
    assert found == [("ACME", "data_problem", "ERP", "7.2", 3), ("OTHER", "data_problem", "", "", 2)]
    assert [c["id"] for c in r.json[0]["cases"]] == [c["id"] for c in history["acme_data"]]
    every = api.get("/api/v1/problems", "supervisor", query_string={**NOVEMBER, "min_cases": 1}).json
    assert sorted(g["count"] for g in every) == [1, 1, 2, 3]
    [section] = [s for s in review.sections(Period(date(2026, 11, 1), date(2026, 11, 30))) if s.key == "problems"]
    figures = {f.key: f for f in section.figures}
    assert Fraction(figures["recurrence_rate"].value).limit_denominator(100) == Fraction(3, 7)
    assert figures["recurrence_rate"].meets_target is False  # 43 % against at most 20 %
    assert (figures["recurring_groups"].value, figures["repeat_cases"].value, figures["known_problems"].value) == (2, 3, 0)
    assert section.title == "Recurring problems"
    # one customer's review: ACME's 4 cases, 2 repeats
    [mine] = [s for s in review.sections(Period(date(2026, 11, 1), date(2026, 11, 30)), world.customers["ACME"].id)
              if s.key == "problems"]
    assert {f.key: f.value for f in mine.figures}["recurrence_rate"] == 2 / 4
    assert api.get("/api/v1/problems", "acme_user", query_string=NOVEMBER).status_code == 403


def test_a_group_marked_known_with_its_workaround(api, history, world):
    article = articles.create(world.user("agent1"), {"language": "zh", "title": "月末报表数据不一致的处理办法",
                                                     "body": "先重建报表缓存，再重新过账。", "status": "published"})
    acme = world.customers["ACME"].id
    body = {"product": "ERP", "product_version": "7.2", "category": "data_problem", "customer_id": acme,
            "title": "Month-end totals disagree after posting", "workaround": "Rebuild the report cache, then repost.",
            "article_id": article.id}
    before = db_snapshot()
    for bad, field in (({"article_id": 999999}, "article_id"), ({"category": "nonsense"}, "category"),
                       ({"title": ""}, "title"), ({"customer_id": 999999}, "customer_id")):
        r = api.post("/api/v1/known-problems", "consultant1", json={**body, **bad})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field, r.json
    assert api.post("/api/v1/known-problems", "bizmanager", json=body).status_code == 403
    assert db_snapshot() == before and db.session.scalar(select(func.count()).select_from(KnownProblem)) == 0
    r = api.post("/api/v1/known-problems", "consultant1", json=body)
    assert r.status_code == 201, r.json
    assert r.json["article_title"] == "月末报表数据不一致的处理办法"
    assert api.post("/api/v1/known-problems", "consultant1", json=body).status_code == 409
    groups = api.get("/api/v1/problems", "supervisor", query_string=NOVEMBER).json
    assert groups[0]["known"]["title"] == "Month-end totals disagree after posting"
    assert groups[1]["known"] is None
    [section] = [s for s in review.sections(Period(date(2026, 11, 1), date(2026, 11, 30))) if s.key == "problems"]
    assert {f.key: f.value for f in section.figures}["known_problems"] == 1
    assert [row["known"] for row in section.tables[0].rows] == [True, False]


def test_a_bad_period_is_named(api, world):
    r = api.get("/api/v1/problems", "supervisor", query_string={"from": "2026-11-30", "to": "2026-11-01"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "query.to"
    r = api.get("/api/v1/problems", "supervisor", query_string={**NOVEMBER, "min_cases": 0})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "query.min_cases"


def test_the_review_counts_major_incidents_and_their_times_to_resolve(api, world):
    with freeze_time(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as frozen:
        case = at_resolve(api, world.customers["ACME"].id, "li@acme.example", "Posting fails")
        incident = declare(api, case["id"])
        frozen.move_to(datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI))
        r = api.post(f"/api/v1/major-incidents/{incident['id']}/resolve", "supervisor",
                     json={"solution": "Rolled back", "version": incident["version"]})
        assert r.status_code == 200, r.json
        declare(api, at_resolve(api, world.customers["OTHER"].id, "han@other.example", "Stock")["id"])
    api.forget_tokens()
    [section] = [s for s in review.sections(Period(date(2026, 11, 1), date(2026, 11, 30)))
                 if s.key == "major_incidents"]
    figures = {f.key: f.value for f in section.figures}
    assert (figures["declared"], figures["resolved"], figures["linked_cases"]) == (2, 1, 2)
    assert figures["mean_time_to_resolve"] == figures["longest_time_to_resolve"] == 3.5 * 3600
    [acme_only] = [s for s in review.sections(Period(date(2026, 11, 1), date(2026, 11, 30)),
                                              world.customers["ACME"].id) if s.key == "major_incidents"]
    assert {f.key: f.value for f in acme_only.figures}["declared"] == 1
    assert review.section_keys().index("problems") < review.section_keys().index("major_incidents")
