"""The knowledge base: a small fixed corpus in Chinese and English, searched and suggested with
the expected article first; who reads and writes what; edits with If-Match."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.core.db import db
from cases.knowledge import articles as knowledge
from cases.knowledge.models import ArticleTerm

CORPUS = {
    "report_zh": ("zh", "software_bug", "月末报表打开时报错的处理方法", ["报表", "月末"],
                  "如果打开**月末报表**时提示错误，请先检查报表模板是否为最新版本，然后清除报表缓存并重新打开。"),
    "report_en": ("en", "software_bug", "Month-end report shows an error when opened", ["report"],
                  "If the month-end report fails to open with an error message, update the report template and "
                  "clear the report cache. If the report asks for a password, ask your administrator for the "
                  "password of the reporting database."),
    "password_zh": ("zh", "operation_problem", "如何重置登录密码", ["密码"],
                    "用户忘记密码时，系统管理员可以在“用户管理”中重置密码。新密码首次登录后需要修改。"),
    "password_en": ("en", "operation_problem", "How to reset a forgotten password", ["login"],
                    "An administrator resets the password in *User Management*; the user must change it after "
                    "the first login."),
    "printer_zh": ("zh", "hardware_repair", "打印机脱机无法打印", ["打印机"],
                   "检查打印机电源和网络连接，在控制面板中取消“脱机使用打印机”，然后重新打印。"),
    "printer_en": ("en", "hardware_repair", "Printer is offline and will not print", ["printer"],
                   "Check the printer's power and network cable; in Devices and Printers, clear "
                   "'Use Printer Offline' and print again."),
    "backup_zh": ("zh", "environment_problem", "数据库备份与恢复", ["数据库"],
                  "每天夜间自动备份数据库；恢复时先停止服务，再从备份文件还原。"),
    "backup_en": ("en", "environment_problem", "Scheduling a database backup", ["database"],
                  "Schedule a nightly database backup with the maintenance plan and test restoring from a backup "
                  "every month."),
}
URL = "/api/v1/knowledge"


def _write(api, language, category, title, tags, body, as_user="agent1", **extra):
    r = api.post(f"{URL}/articles", as_user, json={"language": language, "category": category, "title": title,
                                                  "tags": tags, "body": body, "status": "published", **extra})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def corpus(api) -> dict[str, dict]:
    articles = {key: _write(api, *fields) for key, fields in CORPUS.items()}
    articles["draft"] = _write(api, "zh", "hardware_repair", "打印机驱动安装（草稿）", [], "安装打印机驱动的步骤。",
                               status="draft")
    articles["canned"] = _write(api, "en", None, "Thanks, we are on it", ["canned"],
                                "Thank you for your report; an engineer is looking into it.", kind="canned_answer")
    return articles


def search(api, as_user="agent1", **params) -> list[dict]:
    r = api.get(f"{URL}/search", as_user, query_string=params)
    assert r.status_code == 200, r.json
    return r.json["items"]


@pytest.mark.parametrize("query,expected", [
    ("月末报表报错", "report_zh"), ("重置密码", "password_zh"), ("忘记密码怎么办", "password_zh"),
    ("打印机脱机", "printer_zh"), ("数据库备份", "backup_zh"), ("password reset", "password_en"),
    ("printer offline", "printer_en"), ("Printers OFFLINE", "printer_en"), ("month end report error", "report_en"),
    ("backups", "backup_en"), ("表", "report_zh"),
])
def test_the_expected_article_ranks_first(api, corpus, query, expected):
    hits = search(api, q=query)
    assert hits and hits[0]["id"] == corpus[expected]["id"], [h["title"] for h in hits]
    assert hits[0]["score"] > 0 and hits[0]["snippet"]


def test_title_matches_weigh_more_than_body_matches(api, corpus):
    # "password" is twice in the body of the report article, once in the title and body of the other
    hits = search(api, q="password")
    assert [h["id"] for h in hits[:2]] == [corpus["password_en"]["id"], corpus["report_en"]["id"]]


def test_snippets_show_the_body_around_the_match(api, corpus):
    hit = search(api, q="maintenance plan")[0]
    assert hit["id"] == corpus["backup_en"]["id"] and "maintenance plan" in hit["snippet"]
    hit = search(api, q="用户管理")[0]
    assert "用户管理" in hit["snippet"] and "*" not in hit["snippet"]


def test_language_and_category_filters(api, corpus):
    assert {h["language"] for h in search(api, q="report 报表", language="zh")} == {"zh"}
    assert search(api, q="printer", language="zh") == []
    assert search(api, q="password", category="hardware_repair") == []
    hits = search(api, q="password", category="operation_problem")
    assert [h["id"] for h in hits] == [corpus["password_en"]["id"]]


def test_customers_never_see_drafts_or_canned_answers(api, corpus):
    assert corpus["draft"]["id"] not in {h["id"] for h in search(api, "acme_user", q="打印机驱动")}
    assert search(api, "acme_user", q="engineer looking into it") == []
    assert search(api, "acme_user", q="打印机驱动", status="draft") == []
    canned = search(api, "agent1", q="engineer looking into it")
    assert canned[0]["id"] == corpus["canned"]["id"] and canned[0]["kind"] == "canned_answer"
    assert search(api, "agent1", q="打印机驱动", status="draft")[0]["id"] == corpus["draft"]["id"]
    for key in ("draft", "canned"):
        r = api.get(f"{URL}/articles/{corpus[key]['id']}", "acme_user")
        assert r.status_code == 404 and r.json["resource"] == "article"
    listed = api.get(f"{URL}/articles", "acme_user", query_string={"per_page": 50}).json
    assert listed["total"] == len(CORPUS) and {a["status"] for a in listed["items"]} == {"published"}
    assert api.get(f"{URL}/articles", "agent1", query_string={"per_page": 50}).json["total"] == len(CORPUS) + 2
    tagged = api.get(f"{URL}/articles", "acme_user", query_string={"tag": "打印机"}).json
    assert [a["id"] for a in tagged["items"]] == [corpus["printer_zh"]["id"]]


def test_suggestions_for_an_intake(api, app, corpus):
    r = api.get(f"{URL}/suggest", "acme_user", query_string={
        "title": "月末报表打开时报错", "description": "打开报表时提示错误，无法查看数据"})
    assert r.status_code == 200 and r.json["items"][0]["id"] == corpus["report_zh"]["id"]
    assert len(r.json["items"]) <= 3 and all(h["status"] == "published" and h["kind"] == "article"
                                            for h in r.json["items"])
    r = api.get(f"{URL}/suggest", "agent1", query_string={"title": "Our printer went offline",
                                                          "category_hint": "hardware_repair", "language": "en"})
    assert [h["language"] for h in r.json["items"]] == ["en"] * len(r.json["items"])
    assert r.json["items"][0]["id"] == corpus["printer_en"]["id"]
    with app.app_context():
        hits = knowledge.suggest("I forgot my password and need a reset", language="en")
        assert hits[0].article.id == corpus["password_en"]["id"] and len(hits) <= 3
        assert knowledge.suggest("engineer looking into it") == []  # canned answers are no suggestion


def test_editing_needs_the_version_seen(api, corpus):
    article = corpus["printer_zh"]
    url = f"{URL}/articles/{article['id']}"
    r = api.request("PATCH", url, "consultant1", json={"title": "打印机显示脱机"})
    assert r.status_code == 428 and r.json["code"] == "version_required"
    r = api.request("PATCH", url, "consultant1", json={"title": "x"}, headers={"If-Match": '"99"'})
    assert r.status_code == 409 and r.json["code"] == "stale_version"
    assert r.json["current_version"] == article["version"]
    r = api.request("PATCH", url, "consultant1", json={"title": "共享打印机显示脱机", "tags": ["打印机", "共享"]},
                    headers={"If-Match": f'"{article["version"]}"'})
    assert r.status_code == 200 and r.json["version"] == article["version"] + 1
    assert r.headers["ETag"] == f'"{r.json["version"]}"' and r.json["tags"] == ["打印机", "共享"]
    assert search(api, q="共享打印机")[0]["id"] == article["id"]  # re-indexed with the change
    r = api.request("PATCH", url, "consultant1", json={"title": "again"}, headers={"If-Match": f'"{article["version"]}"'})
    assert r.status_code == 409 and r.json["code"] == "stale_version"


def test_publishing_a_draft_shows_it_to_customers_and_delete_removes_it(api, corpus):
    draft = corpus["draft"]
    url = f"{URL}/articles/{draft['id']}"
    r = api.request("PATCH", url, "supervisor", json={"status": "published"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["published_at"]
    assert api.get(url, "acme_user").status_code == 200
    assert search(api, "acme_user", q="打印机驱动")[0]["id"] == draft["id"]
    assert api.request("DELETE", url, "agent2").status_code == 428
    assert api.request("DELETE", url, "agent2", headers={"If-Match": f'"{r.json["version"]}"'}).status_code == 204
    assert api.get(url, "agent1").status_code == 404
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ArticleTerm)
                             .where(ArticleTerm.article_id == draft["id"])) == 0


def test_only_front_line_staff_write(api, corpus):
    body = {"language": "en", "title": "t", "body": "b"}
    for user in ("acme_user", "owner", "techlead"):
        r = api.post(f"{URL}/articles", user, json=body)
        assert r.status_code == 403 and r.json["code"] == "role_not_allowed"
        r = api.request("PATCH", f"{URL}/articles/{corpus['report_en']['id']}", user, json={"title": "x"},
                        headers={"If-Match": '"1"'})
        assert r.status_code == 403
    for user in ("agent1", "consultant1", "supervisor", "admin"):
        r = api.post(f"{URL}/articles", user, json=body)
        assert r.status_code == 201 and r.json["status"] == "draft" and r.json["kind"] == "article"
    assert api.get(f"{URL}/articles/{corpus['report_en']['id']}", "owner").status_code == 200


@pytest.mark.parametrize("body,field", [
    ({"language": "fr", "title": "t", "body": "b"}, "language"),
    ({"language": "en", "title": "", "body": "b"}, "title"),
    ({"language": "en", "title": "t"}, "body"),
    ({"language": "en", "title": "t", "body": "b", "category": "gossip"}, "category"),
    ({"language": "en", "title": "t", "body": "b", "kind": "memo"}, "kind"),
    ({"language": "en", "title": "t", "body": "b", "status": "archived"}, "status"),
    ({"language": "en", "title": "t", "body": "b", "tags": "x"}, "tags"),
])
def test_bad_articles_are_refused_naming_the_field(api, body, field):
    r = api.post(f"{URL}/articles", "agent1", json=body)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == field, r.json


@pytest.mark.parametrize("path,params,field", [
    ("search", {}, "query.q"), ("search", {"q": ""}, "query.q"), ("search", {"q": "x", "limit": 0}, "query.limit"),
    ("search", {"q": "x", "language": "fr"}, "query.language"),
    ("search", {"q": "x", "category": "gossip"}, "query.category"),
    ("suggest", {}, "query.title"), ("suggest", {"title": "x", "category_hint": "gossip"}, "query.category_hint"),
])
def test_bad_queries_are_refused_naming_the_parameter(api, path, params, field):
    r = api.get(f"{URL}/{path}", "agent1", query_string=params)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == field, r.json
