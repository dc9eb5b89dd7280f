"""Page log-in: a session cookie holding an API token of the user's own.

Logging in through the form issues a token with the same password check and rate limit as
``POST /api/v1/auth/token`` (cases/core/accounts.py); the signed, HttpOnly, SameSite cookie carries it.
Every page request looks the token up again, so logging out (the token is revoked), an expired
token or a deactivated user ends the session at once. A request with an ``Authorization: Bearer``
header is authenticated by that instead (and needs no CSRF token: browsers never send one
on their own).

CSRF: a random token per session, sent back in every POST form as ``csrf_token``.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Flask, current_app, request, session

from cases.core import accounts
from cases.core.errors import Forbidden, Unauthenticated
from cases.core.models import User

TOKEN_KEY, CSRF_KEY = "token", "csrf"
CSRF_FIELD = "csrf_token"


#: names of the blueprints that serve pages (session log-in, CSRF, HTML errors); web/pages.py adds them
PAGE_BLUEPRINTS: set[str] = set()


def is_page_request() -> bool:
    return request.blueprint in PAGE_BLUEPRINTS


class LoginRequired(Unauthenticated):
    code = "login_required"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def uses_bearer() -> bool:
    return _bearer() is not None


def page_user() -> User:
    """The user of a page request, or LoginRequired."""
    bearer = _bearer()
    if bearer is not None:  # a script: answered like the API
        user = accounts.user_for_token(bearer)
        if user is None:
            raise Unauthenticated("the token is unknown, expired or revoked")
        return user
    token = session.get(TOKEN_KEY)
    user = accounts.user_for_token(token) if token else None
    if user is None or not user.active:
        session.pop(TOKEN_KEY, None)
        raise LoginRequired("log in to see this page")
    return user


def log_in(username: str, password: str) -> User:
    """Check the password (rate-limited like the API's), start a fresh session holding a new token."""
    lifetime = timedelta(hours=current_app.config["TOKEN_LIFETIME_HOURS"])
    token, row = accounts.issue_token(username, password, lifetime, current_app.config["PASSWORD_HASH_METHOD"],
                                      request.remote_addr)
    language = session.get("lang")
    session.clear()  # no session fixation: nothing from before the log-in survives but the language
    if language:
        session["lang"] = language
    session[TOKEN_KEY] = token
    session.permanent = True
    return row.user


def log_out() -> None:
    token = session.get(TOKEN_KEY)
    if token:
        accounts.revoke_token(token)
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def csrf_token() -> str:
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def check_csrf() -> None:
    """Every POST of a page carries the session's CSRF token (bearer-token calls excepted)."""
    if not is_page_request() or request.method in ("GET", "HEAD", "OPTIONS") or uses_bearer():
        return
    sent, expected = request.form.get(CSRF_FIELD, ""), session.get(CSRF_KEY, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed("the form is out of date or was not sent from caseflow's pages; reload the page and retry")


def register(app: Flask) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["TOKEN_LIFETIME_HOURS"])
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD
