"""Bearer-token authentication for every endpoint but the few that must be public."""
from __future__ import annotations

import logging

from flask import Flask, g, request

from cases.core.accounts import user_for_token
from cases.core.db import begin_write_request, db, end_write_request
from cases.core.errors import Unauthenticated
from cases.core.models import User
from gateway.session import is_page_request, page_user

log = logging.getLogger("caseflow.auth")

#: Endpoints reachable without a credential; each entry point declares its own with :func:`public`
#: (the API: getting a token, the liveness probe, its description, the chat webhook and the survey
#: link; the pages: the log-in page, the language switch, static files and the survey page).
PUBLIC_ENDPOINTS: set[str] = set()


def public(*endpoints: str) -> None:
    """Declare endpoints that need no token or session (their own check, if any, is theirs)."""
    PUBLIC_ENDPOINTS.update(endpoints)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate() -> None:
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return
    if is_page_request():  # pages: the session cookie (or a bearer token), see gateway/session.py
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
    except Exception as exc:
        log.warning("rollback at the end of the request failed (%s); dropping the connection", exc)
        try:
            db.session.close()
        except Exception:
            pass
    token = g.pop("write_token", None)
    if token is not None:
        end_write_request(token)


def register(app: Flask) -> None:
    app.before_request(_declare_writes)
    app.before_request(authenticate)
    app.teardown_request(_end_writes)
