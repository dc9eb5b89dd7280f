"""What every page module shares: the blueprint factory and rendering helpers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for

from cases.models import User

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"

#: names of the blueprints that serve pages (session log-in, CSRF, HTML errors)
PAGE_BLUEPRINTS: set[str] = set()


def page_blueprint(name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint whose views are pages: authenticated by the session cookie (or a bearer
    token), authorised by api/permissions.py MATRIX, POSTs checked for the CSRF token, errors
    shown as HTML pages."""
    blp = Blueprint(name, __name__, url_prefix=url_prefix, template_folder=str(TEMPLATE_DIR))
    PAGE_BLUEPRINTS.add(name)
    return blp


def is_page_request() -> bool:
    return request.blueprint in PAGE_BLUEPRINTS


def current_user() -> User:
    """The logged-in user of a page (set before the view runs; a page never runs without one)."""
    return g.user


def render(template: str, status: int = 200, **context: Any):
    return render_template(template, **context), status


def back_to(default_endpoint: str, **values: Any):
    """Redirect after a POST (post/redirect/get): to ``next`` if it is a local path, else the default."""
    target = request.form.get("next") or request.args.get("next")
    if target and target.startswith("/") and not target.startswith("//"):
        return redirect(target, 303)
    return redirect(url_for(default_endpoint, **values), 303)
