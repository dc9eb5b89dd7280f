"""The knowledge base's pages: customers browse and search published articles in their language;
staff search, write, edit (the version seen), publish and see which cases an article closed;
supervisors manage canned answers; front-line staff insert a canned answer or an article into a
reply, keeping what they typed."""
from __future__ import annotations

import re

import pytest

from tests.api.test_self_service import article, open_as_customer
from tests.helpers import get_case

URL = "/api/v1/knowledge/articles"


@pytest.fixture
def kb(api) -> dict[str, dict]:
    return {
        "zh": article(api, "如何重置密码", "在登录页点击“忘记密码”，输入邮箱后按邮件中的链接重置密码。"),
        "en": article(api, "Resetting your password", "On the log-in page choose Forgot password and follow the mail.",
                      language="en"),
        "draft": article(api, "Printer offline (draft)", "Check the cable.", status="draft", language="en"),
    }


def test_a_customer_browses_and_searches_the_published_articles_in_their_language(pages, kb):
    customer = pages("acme_user")
    text = customer.text(customer.get("/knowledge"))
    assert 'href="/knowledge"' in text  # in the navigation
    assert "Resetting your password" in text
    assert "如何重置密码" not in text and "Printer offline" not in text  # other language, draft
    assert customer.get(f"/knowledge/{kb['draft']['id']}").status_code == 404
    found = customer.text(customer.get("/knowledge?q=password"))
    assert "Resetting your password" in found and "1 article matches" in found
    customer.post("/language", {"lang": "zh_CN"})
    zh = customer.text(customer.get("/knowledge?q=密码"))
    assert "如何重置密码" in zh and "Resetting your password" not in zh
    page = customer.text(customer.get(f"/knowledge/{kb['zh']['id']}"))
    assert "输入邮箱后按邮件中的链接重置密码" in page
    assert "Cases this article closed" not in page and "草稿" not in page


def test_staff_write_edit_and_publish_an_article(api, pages, kb):
    agent = pages("agent1")
    text = agent.text(agent.get("/knowledge"))
    assert "Printer offline (draft)" in text and "如何重置密码" in text
    r = agent.post("/knowledge/new", {"title": "", "body": "Some text", "language": "en", "status": "draft"})
    assert r.status_code == 422
    assert 'id="kb-title-error">This field is required.' in agent.text(r) and ">Some text</textarea>" in agent.text(r)
    r = agent.post("/knowledge/new", {"title": "Exporting to Excel", "body": "Reports > Export > Excel.",
                                      "language": "en", "category": "operation_problem", "tags": "export, excel",
                                      "status": "draft"})
    assert r.status_code == 303
    article_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert pages("acme_user").get(f"/knowledge/{article_id}").status_code == 404  # a draft
    page = agent.text(agent.get(f"/knowledge/{article_id}/edit"))
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    api.request("PATCH", f"{URL}/{article_id}", "agent2", json={"title": "Exporting (moved on)"},
                headers={"If-Match": f'"{version}"'})
    r = agent.post(f"/knowledge/{article_id}/edit", {"version": version, "title": "Exporting reports to Excel",
                                                     "body": "My new text", "language": "en", "status": "draft"})
    assert r.status_code == 409
    stale = agent.text(r)
    assert 'id="kb-notice"' in stale and ">My new text</textarea>" in stale  # the typed text stays
    fresh = re.search(r'name="version" value="(\d+)"', stale).group(1)
    r = agent.post(f"/knowledge/{article_id}/edit", {"version": fresh, "title": "Exporting reports to Excel",
                                                     "body": "My new text", "language": "en", "status": "draft"})
    assert r.status_code == 303
    page = agent.text(agent.get(f"/knowledge/{article_id}"))
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert agent.post(f"/knowledge/{article_id}/publish", {"version": version}).status_code == 303
    assert "Exporting reports to Excel" in pages("acme_user").text(pages("acme_user").get("/knowledge"))
    assert pages("acme_user").post("/knowledge/new", {"title": "x", "body": "y", "language": "en"}).status_code == 403


def test_staff_see_which_cases_an_article_closed(api, pages, kb):
    case = open_as_customer(api, "忘记密码", "我忘记了登录密码，怎么重置密码？")
    r = api.post(f"/api/v1/cases/{case['id']}/self-service", "acme_user", json={"article_id": kb["zh"]["id"]})
    assert r.status_code == 200
    assert get_case(api, case["id"])["status"] == "closed"
    agent = pages("agent1")
    assert "closed 1 case" in agent.text(agent.get("/knowledge"))
    page = agent.text(agent.get(f"/knowledge/{kb['zh']['id']}"))
    closed = page[page.index('id="kb-closed-cases"'):]
    assert case["number"] in closed


def test_supervisors_manage_canned_answers_others_read_them(pages):
    supervisor = pages("supervisor")
    r = supervisor.post("/canned-answers", {"name": "On it", "text_zh": "", "text_en": ""})
    assert r.status_code == 422 and "Write the text in at least one language." in supervisor.text(r)
    r = supervisor.post("/canned-answers", {"name": "On it", "text_zh": "我们正在处理，稍后回复您。",
                                            "text_en": "We are on it and will reply shortly."})
    assert r.status_code == 303
    r = supervisor.post("/canned-answers", {"name": "on it", "text_en": "again"})
    assert r.status_code == 422 and "Another canned answer has this name." in supervisor.text(r)
    agent = pages("agent1")
    text = agent.text(agent.get("/canned-answers"))
    assert "We are on it and will reply shortly." in text and 'id="canned-form"' not in text
    assert agent.post("/canned-answers", {"name": "Mine", "text_en": "x"}).status_code == 403
    assert pages("acme_user").get("/canned-answers").status_code == 403


def test_insert_a_canned_answer_and_an_article_into_a_reply_keeping_the_typed_text(api, pages, kb, acme_case):
    pages("supervisor").post("/canned-answers", {"name": "On it", "text_zh": "我们正在处理。",
                                                 "text_en": "We are on it."})
    case = acme_case()
    agent = pages("agent1")
    page = agent.text(agent.get(f"/cases/{case['id']}"))
    value = re.search(r'<option value="(\d+:en)">On it \(English\)</option>', page).group(1)
    r = agent.post(f"/cases/{case['id']}/replies/insert", {"text": "Dear Ms Li,", "canned": value,
                                                            "insert": "canned"})
    assert r.status_code == 200
    assert ">Dear Ms Li,\n\nWe are on it.</textarea>" in agent.text(r)
    r = agent.post(f"/cases/{case['id']}/replies/insert", {"text": "Hello", "canned": value, "kb_q": "password",
                                                            "find": "1"})
    hits = agent.text(r)
    assert 'id="reply-kb-hits"' in hits and "Resetting your password" in hits and ">Hello</textarea>" in hits
    assert "Printer offline" not in hits  # drafts are not offered
    r = agent.post(f"/cases/{case['id']}/replies/insert", {"text": "Hello", "article": str(kb["en"]["id"])})
    assert ">Hello\n\nResetting your password\n\nOn the log-in page" in agent.text(r)
    r = agent.post(f"/cases/{case['id']}/replies/insert", {"text": "Hello", "article": str(kb["draft"]["id"])})
    assert "Check the cable." not in agent.text(r)
    assert pages("acme_user").post(f"/cases/{case['id']}/replies/insert", {"text": "x"}).status_code == 403
