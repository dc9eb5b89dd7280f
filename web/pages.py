"""What every page module shares: the blueprint factory and rendering helpers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for

from cases.core.models import User
from gateway.session import PAGE_BLUEPRINTS, is_page_request

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"

def page_blueprint(name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint whose views are pages: authenticated by the session cookie (or a bearer
    token), authorised by gateway/permissions.py MATRIX, POSTs checked for the CSRF token, errors
    shown as HTML pages."""
    blp = Blueprint(name, __name__, url_prefix=url_prefix, template_folder=str(TEMPLATE_DIR))
    PAGE_BLUEPRINTS.add(name)
    return blp


#: sent with every page: scripts and styles from our own files only (page data goes in data-
#: attributes, never inline scripts), no framing, forms post only to us
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
                               "object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def secure_headers(response):
    if is_page_request() and response.mimetype == "text/html":
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


def current_user() -> User:
    """The logged-in user of a page (set before the view runs; a page never runs without one)."""
    return g.user


def render(template: str, status: int = 200, **context: Any):
    return render_template(template, **context), status


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host: no ``//`` or ``/\\``)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return None


def back_to(default_endpoint: str, **values: Any):
    """Redirect after a POST (post/redirect/get): to ``next`` if it is a local path, else the default."""
    target = local_path(request.form.get("next") or request.args.get("next"))
    if target:
        return redirect(target, 303)
    return redirect(url_for(default_endpoint, **values), 303)
