"""Authentication: tokens, their end, and that no endpoint but the public few answers without one."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from cases.core.accounts import _digest
from cases.core.db import db
from cases.core.models import ApiToken, utcnow
from gateway.auth import PUBLIC_ENDPOINTS
from tests.conftest import PASSWORD

PROBLEM = "application/problem+json"


def assert_unauthenticated(response, context: str = "") -> None:
    assert response.status_code == 401, (context, response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM, context
    body = response.get_json(force=True)
    assert body["code"] == "unauthenticated", context
    assert body["status"] == 401 and body["title"], context
    assert body["type"].endswith("/unauthenticated"), context
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), context


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(api, username: str, password: str = PASSWORD):
    return api.post("/api/v1/auth/token", json={"username": username, "password": password})


# --- issuing tokens -------------------------------------------------------------------------

def test_token_is_issued_and_identifies_the_user_with_roles(api, world):
    r = login(api, "agent1")
    assert r.status_code == 201, r.json
    body = r.json
    assert body["token_type"] == "Bearer"
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert body["user"]["username"] == "agent1" and body["user"]["roles"] == ["agent"]
    assert "password" not in body and "password_hash" not in body["user"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11) < expires - datetime.now(timezone.utc) <= timedelta(hours=12)

    me = api.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200, me.json
    assert me.json["username"] == "agent1"
    assert me.json["roles"] == ["agent"]
    assert me.json["customer"] is None

    # only the hash of the token is stored
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == world.user("agent1").id)).all()
    assert [row.token_hash for row in rows] == [_digest(body["token"])]


def test_customer_token_carries_the_organisation(api, world):
    token = login(api, "acme_user").json["token"]
    me = api.get("/api/v1/me", headers=bearer(token)).json
    assert me["roles"] == ["customer"]
    assert me["customer"]["code"] == "ACME" and me["customer"]["id"] == world.customers["ACME"].id


def test_every_login_gets_its_own_token(api, world):
    first, second = login(api, "agent1").json["token"], login(api, "agent1").json["token"]
    assert first != second
    for token in (first, second):
        assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("username, password", [
    ("agent1", "wrong-password"),
    ("agent1", PASSWORD.upper()),
    ("nobody", PASSWORD),
    ("AGENT1", PASSWORD),
])
def test_wrong_credentials_are_refused(api, world, username, password):
    r = login(api, username, password)
    assert_unauthenticated(r)
    assert "token" not in r.get_json(force=True)
    assert db.session.scalar(select(ApiToken.id).limit(1)) is None


def test_wrong_password_and_unknown_user_answer_alike(api, world):
    wrong = login(api, "agent1", "nope").get_json(force=True)
    unknown = login(api, "ghost", "nope").get_json(force=True)
    assert wrong.pop("request_id") != unknown.pop("request_id")  # each request its own id
    assert wrong == unknown


def test_token_request_without_credentials_is_invalid(api, world):
    r = api.post("/api/v1/auth/token", json={})
    assert r.status_code == 422
    assert r.mimetype == PROBLEM
    assert {e["field"] for e in r.json["errors"]} == {"username", "password"}


# --- the end of a token ------------------------------------------------------------------------

def test_revoked_token_is_refused_afterwards(api, world):
    token = login(api, "agent1").json["token"]
    other = login(api, "agent1").json["token"]
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200

    r = api.client.delete("/api/v1/auth/token", headers=bearer(token))
    assert r.status_code == 204

    assert_unauthenticated(api.get("/api/v1/me", headers=bearer(token)))
    assert_unauthenticated(api.get("/api/v1/cases", headers=bearer(token)))
    # revoking one token leaves the user's other tokens alone
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    db.session.refresh(row)
    assert row.revoked_at is not None


def test_revoking_twice_is_harmless_and_the_token_stays_revoked(api, world):
    token = login(api, "agent2").json["token"]
    assert api.client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    assert api.client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    assert_unauthenticated(api.get("/api/v1/me", headers=bearer(token)))


def test_expired_token_is_refused(api, world):
    token = login(api, "agent1").json["token"]
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert_unauthenticated(api.get("/api/v1/me", headers=bearer(token)))
    assert_unauthenticated(api.get("/api/v1/tasks", headers=bearer(token)))


def test_token_of_a_deactivated_user_is_refused(api, world):
    token = login(api, "agent1").json["token"]
    user = world.user("agent1")
    user.active = False
    db.session.commit()
    assert_unauthenticated(api.get("/api/v1/me", headers=bearer(token)))
    assert_unauthenticated(login(api, "agent1"))


@pytest.mark.parametrize("header", [
    "",
    "Bearer",
    "Bearer ",
    "Bearer    ",
    "Basic YWdlbnQxOnNlY3JldC1wdw==",
    "Token {token}",
    "{token}",
    "Bearer{token}",
    "Bearer {token}x",
    "Bearer x{token}",
    "Bearer {token} extra",
    "Bearer not-a-real-token",
    "Bearer " + "a" * 5000,
    "Bearer é-ünïcode-✓",
])
def test_malformed_authorization_headers_are_refused(api, world, header):
    token = login(api, "agent1").json["token"]
    value = header.format(token=token)
    r = api.client.get("/api/v1/me", headers={"Authorization": value})
    assert_unauthenticated(r, value[:40])


def test_scheme_is_case_insensitive(api, world):
    token = login(api, "agent1").json["token"]
    for scheme in ("bearer", "BEARER", "Bearer"):
        assert api.client.get("/api/v1/me", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


# --- every endpoint needs a token, except the public ones ---------------------------------------------

def _dummy_url(app, rule, method: str) -> str:
    values = dict.fromkeys(rule.arguments, 1)  # valid for int and string converters alike
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def _protected_calls(app) -> list[tuple[str, str]]:
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((method, _dummy_url(app, rule, method)))
    return calls


def test_every_non_public_endpoint_requires_a_token(app, api, world):
    calls = _protected_calls(app)
    # the check is not vacuous: every resource of the API is in it
    urls = {url for _, url in calls}
    assert {"/api/v1/me", "/api/v1/cases", "/api/v1/cases/1", "/api/v1/cases/1/messages/1",
            "/api/v1/tasks", "/api/v1/tasks/1", "/api/v1/tasks/1/claim", "/api/v1/tasks/1/release",
            "/api/v1/tasks/1/complete", "/api/v1/process-versions"} <= urls
    assert len(calls) >= 11
    for method, url in calls:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            for body in ({}, {"json": {"version": 1, "data": {}}}):
                r = api.client.open(url, method=method, headers=headers, **body)
                if not url.startswith("/api/") and not headers:  # a page: to the log-in form
                    assert r.status_code in (302, 303) and r.headers["Location"].startswith("/login"), (method, url)
                else:
                    assert_unauthenticated(r, f"{method} {url} {headers}")


def test_no_endpoint_became_public_unnoticed(app):
    """Only the token, health and API-description endpoints, the pages' log-in, language switch
    and style sheet are reachable without a token (and two that carry their own credential: the chat
    webhook's signature, a survey link's token)."""
    public = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint in PUBLIC_ENDPOINTS}
    assert public <= {"auth.TokenResource", "health.Health", "api-docs.openapi_json",
                      "api-docs.openapi_swagger_ui", "docs_static.static",
                      "health.Ready",  # readiness: states only, no data (tests/api/test_operations.py)
                      "metrics",  # its own gate: allowed networks or its token (tests/api/test_operations.py)
                      "channels.ChatWebhook",  # signed by the platform (tests/api/test_channels.py)
                      "surveys.SurveyByToken", "survey_page.survey_page",  # tests/api/test_surveys.py
                      "web_auth.login", "web_auth.language", "web_static.static"}
    assert {"auth.TokenResource", "health.Health", "api-docs.openapi_json",
            "api-docs.openapi_swagger_ui", "docs_static.static"} <= public


def test_public_endpoints_work_without_a_token(api, world):
    assert api.post("/api/v1/auth/token", json={"username": "agent1", "password": PASSWORD}).status_code == 201

    health = api.get("/health")
    assert health.status_code == 200 and health.json == {"status": "ok"}

    spec = api.get("/api/openapi.json")
    assert spec.status_code == 200 and spec.mimetype == "application/json"

    docs = api.get("/api/docs")
    assert docs.status_code == 200 and docs.mimetype == "text/html"

    static = api.get("/api/docs/static/swagger-ui-bundle.js")
    assert static.status_code == 200 and len(static.data) > 10_000
    static.close()

    # logging out without a token is a no-op, not an error
    assert api.client.delete("/api/v1/auth/token").status_code == 204


def test_unknown_url_is_a_problem_404_without_a_token(api, world):
    r = api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.mimetype == PROBLEM
    assert r.get_json(force=True)["code"] == "not_found"


# --- the API description ---------------------------------------------------------------------------

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PATH_ITEM_KEYS = HTTP_METHODS | {"parameters", "summary", "description", "servers", "$ref"}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def _validate_openapi(doc: dict) -> None:
    try:
        from openapi_spec_validator import validate  # optional: used when installed
    except ImportError:
        validate = None
    if validate is not None:
        validate(doc)
    # the structure, checked here either way
    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert isinstance(doc["info"]["title"], str) and isinstance(doc["info"]["version"], str)
    assert isinstance(doc["paths"], dict) and doc["paths"]
    for path, item in doc["paths"].items():
        assert path.startswith("/"), path
        assert set(item) <= PATH_ITEM_KEYS, (path, set(item) - PATH_ITEM_KEYS)
        templated = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation["responses"]
            assert responses, (path, method)
            for status, response in responses.items():
                assert status == "default" or re.fullmatch(r"[1-5](\d\d|XX)", status), (path, status)
                assert "$ref" in response or "description" in response, (path, method, status)
            params = [_resolve(doc, p["$ref"]) if "$ref" in p else p
                      for p in item.get("parameters", []) + operation.get("parameters", [])]
            for param in params:
                assert param["in"] in ("query", "header", "path", "cookie"), param
                assert "schema" in param or "content" in param, param
            declared = {p["name"] for p in params if p["in"] == "path"}
            assert declared == templated, (path, method, declared, templated)
            assert all(p["required"] for p in params if p["in"] == "path"), (path, method)
    for ref in _refs(doc):
        _resolve(doc, ref)


def test_openapi_document_is_valid_and_declares_bearer_auth(api, world):
    r = api.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json
    _validate_openapi(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/cases", "/api/v1/cases/{case_id}",
                 "/api/v1/cases/{case_id}/messages/{name}", "/api/v1/tasks", "/api/v1/tasks/{task_id}",
                 "/api/v1/tasks/{task_id}/claim", "/api/v1/tasks/{task_id}/release",
                 "/api/v1/tasks/{task_id}/complete", "/api/v1/process-versions", "/health"):
        assert path in doc["paths"], path
    assert set(doc["paths"]["/api/v1/cases"]) >= {"get", "post"}
    assert "post" in doc["paths"]["/api/v1/tasks/{task_id}/complete"]
    complete_body = doc["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]["requestBody"]
    schema = _resolve(doc, complete_body["content"]["application/json"]["schema"]["$ref"])
    assert "data" in schema["properties"] and "data" in schema["required"]
    # the public operations say so; every other one inherits the bearer requirement
    assert doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert doc["paths"]["/health"]["get"]["security"] == []
    webhook = ("/api/v1/channels/chat/messages", "post")
    assert doc["paths"][webhook[0]][webhook[1]]["security"] == [{"webhookSignature": []}]
    assert doc["components"]["securitySchemes"]["webhookSignature"]["name"] == "X-Caseflow-Signature"
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and (path, method) not in (("/api/v1/auth/token", "post"),
                                                                 ("/health", "get"), ("/ready", "get"), webhook):
                assert operation.get("security", doc["security"]) == [{"bearerAuth": []}], (path, method)


def test_docs_page_loads_swagger_ui_from_the_app_itself(api, world):
    r = api.get("/api/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/api/docs/static/"), asset  # no CDN
        served = api.get(asset)
        assert served.status_code == 200, asset
        assert served.data, asset
        served.close()
    assert "/api/openapi.json" in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
