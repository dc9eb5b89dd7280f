"""Bearer-token authentication for every endpoint but the few that must be public."""
from __future__ import annotations

import logging

from flask import Flask, g, request

from cases.accounts import user_for_token
from cases.db import begin_write_request, db, end_write_request
from cases.errors import Unauthenticated
from cases.models import User
from web.login import PUBLIC as PUBLIC_PAGES
from web.pages import is_page_request
from web.session import page_user

log = logging.getLogger("caseflow.auth")

#: Endpoints reachable without a token: getting a token, the liveness probe (it reveals no
#: data; load balancers cannot carry credentials) and the API description with its docs page.
PUBLIC_ENDPOINTS = frozenset({
    "auth.TokenResource", "health.Health", "health.Ready", "metrics", "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
    "docs_static.static",
    # signed by the chat platform instead (HMAC, checked in api/resources/channels.py)
    "channels.ChatWebhook",
    # a survey link: its unguessable, single-use, expiring token is the credential; unknown tokens
    # are rate-limited per address (cases/surveys.py)
    "surveys.SurveyByToken", "survey_page.survey_page",
    # the web application's log-in page, language switch and static files
    *PUBLIC_PAGES, "web_static.static",
})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate() -> None:
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return
    if is_page_request():  # pages: the session cookie (or a bearer token), see web/session.py
        g.user = page_user()
        return
    token = bearer_token()
    if token is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>'; get a token from POST /api/v1/auth/token")
    user = user_for_token(token)
    if user is None:
        raise Unauthenticated("the token is unknown, expired or revoked")
    g.user = user


def current_user() -> User:
    return g.user


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


#: Writes that must not take SQLite's write lock up front (a log-in hashes a password first).
LATE_WRITERS = frozenset({("POST", "auth.TokenResource"), ("POST", "web_auth.login")})


def _declare_writes() -> None:
    if request.method in WRITE_METHODS and (request.method, request.endpoint) not in LATE_WRITERS:
        g.write_token = begin_write_request()


def _end_writes(_exc: BaseException | None) -> None:
    # Whatever the request left open ends with it (a write lock on SQLite, above all), also
    # when the app context outlives the request. On a connection that died meanwhile (the
    # database restarted) the rollback fails: the connection is dropped instead, and the answer
    # already sent stays what it was (never an HTML 500 from the teardown).
    try:
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001 - nothing left to roll back on a dead connection
        log.warning("rollback at the end of the request failed (%s); dropping the connection", exc)
        try:
            db.session.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass
    token = g.pop("write_token", None)
    if token is not None:
        end_write_request(token)


def register(app: Flask) -> None:
    app.before_request(_declare_writes)
    app.before_request(authenticate)
    app.teardown_request(_end_writes)
