"""Logging in and out of the pages, CSRF, the permission table and HTML error pages."""
from __future__ import annotations

from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import ApiToken, LoginFailure


def test_a_page_without_a_session_sends_to_the_login_page(browser):
    r = browser.get("/inbox?scope=all")
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?next=/inbox?scope%3Dall"


def test_login_sets_a_safe_cookie_and_lands_on_the_inbox(browser):
    r = browser.login("agent1")
    assert r.headers["Location"] == "/inbox"
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("caseflow_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    inbox = browser.get("/inbox")
    assert inbox.status_code == 200 and "<h1>Inbox</h1>" in browser.text(inbox)


def test_login_goes_back_to_the_page_asked_for_but_never_elsewhere(browser):
    browser.get("/login")
    r = browser.post("/login", {"username": "agent1", "password": "secret-pw", "next": "/cases"})
    assert r.headers["Location"] == "/cases"
    browser.post("/logout")
    browser.get("/login")
    r = browser.post("/login", {"username": "agent1", "password": "secret-pw", "next": "//evil.example/x"})
    assert r.headers["Location"] == "/inbox"
    browser.post("/logout")
    browser.get("/login")
    r = browser.post("/login", {"username": "agent1", "password": "secret-pw", "next": "/\\evil.example/x"})
    assert r.headers["Location"] == "/inbox"


def test_each_role_starts_on_its_own_page(pages):
    assert pages("acme_user").get("/").headers["Location"] == "/portal"
    assert pages("supervisor").get("/").headers["Location"] == "/board"
    assert pages("consultant1").get("/").headers["Location"] == "/inbox"


def test_a_wrong_password_is_refused_on_the_form_and_counted(browser, app_ctx):
    browser.get("/login")
    r = browser.post("/login", {"username": "agent1", "password": "wrong"})
    assert r.status_code == 401
    assert "Unknown user name or wrong password." in browser.text(r)
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 1
    assert browser.get("/inbox").status_code == 302


def test_the_login_rate_limit_applies_to_the_form(browser):
    browser.get("/login")
    for _ in range(10):
        assert browser.post("/login", {"username": "agent1", "password": "wrong"}).status_code == 401
    r = browser.post("/login", {"username": "agent1", "password": "secret-pw"})
    assert r.status_code == 429 and "Too many failed log-ins" in browser.text(r)


def test_logout_revokes_the_session_token(browser, app_ctx):
    browser.login("agent1")
    with browser.client.session_transaction() as stored:
        copied = dict(stored)
    assert browser.post("/logout").headers["Location"] == "/login"
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0
    # the old cookie replayed is worthless
    with browser.client.session_transaction() as stored:
        stored.update(copied)
    assert browser.get("/inbox").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(pages):
    agent = pages("agent1")
    r = agent.post("/logout", csrf=False)
    assert r.status_code == 403 and "The form has expired" in agent.text(r)
    r = agent.post("/logout", {"csrf_token": "forged"}, csrf=False)
    assert r.status_code == 403
    assert agent.get("/inbox").status_code == 200  # still logged in


def test_the_login_form_needs_the_csrf_token_too(browser):
    r = browser.post("/login", {"username": "agent1", "password": "secret-pw"}, csrf=False)
    assert r.status_code == 403


def test_a_role_the_table_does_not_allow_gets_a_403_page(pages):
    agent = pages("agent1")
    r = agent.get("/board")
    assert r.status_code == 403 and r.mimetype == "text/html"
    assert "You may not do this" in agent.text(r)
    r = pages("acme_user").get("/inbox")
    assert r.status_code == 403 and r.mimetype == "text/html"


def test_a_bearer_token_gets_problem_json_from_pages(api):
    r = api.get("/board", "agent1")
    assert r.status_code == 403 and r.json["code"] == "role_not_allowed"


def test_unknown_pages_are_html_and_unknown_api_urls_problem_json(browser):
    r = browser.get("/no-such-page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    r = browser.get("/api/v1/no-such")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_the_navigation_shows_what_the_roles_allow(pages):
    agent = pages("agent1").text(pages("agent1").get("/inbox"))
    assert 'href="/inbox"' in agent and 'href="/board"' not in agent and 'href="/portal"' not in agent
    supervisor = pages("supervisor").text(pages("supervisor").get("/inbox"))
    assert 'href="/board"' in supervisor
    customer = pages("acme_user").text(pages("acme_user").get("/portal"))
    assert 'href="/portal"' in customer and 'href="/inbox"' not in customer


def test_the_language_follows_the_browser_then_the_switch(browser):
    r = browser.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in browser.text(r) and "登录" in browser.text(r)
    r = browser.post("/language", {"lang": "en", "next": "/login"})
    assert r.headers["Location"] == "/login"
    r = browser.get("/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in browser.text(r) and "Log in to caseflow" in browser.text(r)
    browser.post("/language", {"lang": "zh_CN"})
    assert "登录" in browser.text(browser.get("/login"))


def test_the_chosen_language_survives_logging_in(browser):
    browser.get("/login")
    browser.post("/language", {"lang": "zh_CN"})
    browser.login("agent1")
    r = browser.get("/inbox")
    assert '<html lang="zh-CN">' in browser.text(r) and "待办" in browser.text(r)


def test_pages_forbid_framing_and_foreign_scripts(pages):
    r = pages("agent1").get("/inbox")
    assert r.headers["X-Frame-Options"] == "DENY"
    policy = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
