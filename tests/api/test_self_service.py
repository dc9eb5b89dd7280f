"""Knowledge at intake: articles suggested when a case opens, and a case the customer says an
article answered closes without agent work (the diagram's boundary message on classification)."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.core.models import utcnow
from tests.api.dbstate import db_snapshot
from tests.helpers import get_case, step

URL = "/api/v1/knowledge/articles"


def article(api, title, body, status="published", language="zh", category="operation_problem"):
    r = api.post(URL, "agent1", json={"language": language, "category": category, "title": title, "tags": [],
                                      "body": body, "status": status})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def articles(api):
    return {
        "password": article(api, "如何重置密码", "在登录页点击“忘记密码”，输入邮箱后按邮件中的链接重置密码。"),
        "printer": article(api, "打印机显示脱机", "检查打印机电源和网络，然后在控制面板中取消“脱机使用打印机”。"),
        "draft": article(api, "重置密码（草稿）", "草稿", status="draft"),
    }


def open_as_customer(api, title, description):
    r = api.post("/api/v1/cases", "acme_user", json={"channel": "web", "title": title, "description": description})
    assert r.status_code == 201, r.json
    return r.json


def test_the_intake_suggests_articles_and_self_service_closes_the_case(api, articles):
    case = open_as_customer(api, "忘记密码", "我忘记了登录密码，怎么重置密码？")
    suggested = [a["id"] for a in case["suggested_articles"]]
    assert suggested[0] == articles["password"]["id"] and articles["draft"]["id"] not in suggested

    r = api.post(f"/api/v1/cases/{case['id']}/self-service", "acme_user",
                 json={"article_id": articles["password"]["id"]})
    assert r.status_code == 200, r.json
    closed = get_case(api, case["id"])
    assert (closed["status"], closed["stage"], closed["tasks"]) == ("closed", "closed", [])
    kinds = [e["kind"] for e in closed["history"]]
    assert "self_service" in kinds and "case_closed" in kinds and "task_completed" not in kinds
    targets = {t["kind"]: t["status"] for t in closed["sla"]["targets"]}
    assert targets == {"first_response": "cancelled", "resolution": "met"}
    assert "suggested_articles" not in closed  # only in the answer that opened the case


def test_self_service_is_refused_once_an_agent_works_on_the_case_or_for_a_bad_article(api, articles, world):
    case = open_as_customer(api, "打印机脱机", "打印机一直显示脱机")
    before = db_snapshot()
    for body, status, named in [({"article_id": articles["draft"]["id"]}, 422, "article_id"),
                                ({"article_id": 999999}, 422, "article_id"),
                                ({"article_id": "1"}, 422, "article_id")]:
        r = api.post(f"/api/v1/cases/{case['id']}/self-service", "acme_user", json=body)
        assert r.status_code == status and named in str(r.json), r.json
    assert api.post(f"/api/v1/cases/{case['id']}/self-service", "other_user",
                    json={"article_id": articles["printer"]["id"]}).status_code == 404
    assert api.post(f"/api/v1/cases/{case['id']}/self-service", "owner",
                    json={"article_id": articles["printer"]["id"]}).status_code == 403
    assert db_snapshot() == before

    step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
    r = api.post(f"/api/v1/cases/{case['id']}/self-service", "acme_user", json={"article_id": articles["printer"]["id"]})
    assert r.status_code == 409 and r.json["code"] == "self_service_too_late"


def test_self_service_is_counted_in_the_kpis(api, articles):
    answered = open_as_customer(api, "忘记密码", "怎么重置密码？")
    open_as_customer(api, "报表", "报表打不开")
    assert api.post(f"/api/v1/cases/{answered['id']}/self-service", "acme_user",
                    json={"article_id": articles["password"]["id"]}).status_code == 200
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    r = api.get("/api/v1/kpis", "supervisor", query_string=period)
    assert r.status_code == 200, r.json
    figure = r.json["totals"]["self_service"]
    assert (figure["numerator"], figure["denominator"], figure["value"]) == (1, 2, 0.5)
