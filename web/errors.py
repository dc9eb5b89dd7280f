"""Errors on pages become pages: a log-in redirect, a 403/404/409 page, never a traceback.

A page requested with a bearer token is answered like the API (problem+json), so scripts
and the permission tests see the same machine-readable refusals everywhere.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from cases.core import errors as domain
from gateway import problems
from gateway.session import CsrfFailed, uses_bearer

log = logging.getLogger("caseflow.web")


def error_page(status: int, title: str, detail: str | None = None):
    return render_template("error.html", status=status, title=title, detail=detail), status


def _titles() -> dict[int, str]:
    return {400: _("The request is not valid"), 401: _("Please log in"), 403: _("You may not do this"),
            404: _("Not found"), 405: _("Not allowed here"), 409: _("Someone changed this in the meantime"),
            413: _("The file is too large"), 422: _("The input is not valid"),
            429: _("Too many attempts"), 500: _("Something went wrong"), 503: _("The service is not available")}


def _domain_error(error: domain.DomainError):
    if uses_bearer():
        return problems.handle_domain_error(error)
    if isinstance(error, domain.Unauthenticated):
        return redirect(url_for("web_auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    status = next((code for cls in type(error).__mro__ if (code := problems.STATUS.get(cls))), 400)
    if isinstance(error, CsrfFailed):
        return error_page(403, _("The form has expired"),
                          _("Reload the page and send the form again. Nothing was saved."))
    if isinstance(error, domain.NotFound):
        return error_page(404, _titles()[404], _("It does not exist, or it is not yours to see."))
    if isinstance(error, domain.Forbidden):
        return error_page(403, _titles()[403], _("Your roles do not allow this page or action."))
    return error_page(status, _titles().get(status, _titles()[400]), error.message)


def _http_error(error: HTTPException):
    if uses_bearer() or request.path.startswith("/api"):
        return problems.handle_http_exception(error)
    if isinstance(error, InternalServerError):
        log.exception("unhandled error on a page", exc_info=error.original_exception or error)
    status = error.code or 500
    return error_page(status, _titles().get(status, error.name))


def _stale(error: StaleDataError):
    if uses_bearer():
        return problems.handle_stale(error)
    return error_page(409, _titles()[409], _("Reload the page and try again. Nothing was saved."))


def _operational(error: OperationalError):
    if uses_bearer():
        return problems.handle_operational(error)
    busy = "locked" in str(error.orig).lower() or "could not serialize" in str(error.orig).lower()
    if not busy:
        log.exception("database error on a page", exc_info=error)
    return error_page(409 if busy else 503, _titles()[409 if busy else 503],
                      _("Reload the page and try again. Nothing was saved."))


def _unexpected(error: Exception):
    if current_app.testing:
        raise error  # a test sees the real failure
    if uses_bearer():
        return problems.handle_http_exception(InternalServerError(original_exception=error))
    log.exception("unhandled error on a page", exc_info=error)
    return error_page(500, _titles()[500], _("The error was logged. Nothing was saved."))


def _not_found_anywhere(error: HTTPException):
    """No route matched: a page for a browser, problem+json under /api."""
    return _http_error(error)


def attach(blp: Blueprint) -> None:
    """Give a page blueprint the HTML error pages (before it is registered). A blueprint's
    handlers win over the app's for its requests, also for errors raised before the view
    (authentication, the permission table, CSRF)."""
    for exc, handler in ((domain.DomainError, _domain_error), (HTTPException, _http_error),
                         (StaleDataError, _stale), (OperationalError, _operational), (Exception, _unexpected)):
        blp.register_error_handler(exc, handler)


def register(app: Flask) -> None:
    app.register_error_handler(404, _not_found_anywhere)
