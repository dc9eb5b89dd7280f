"""The web application for people: server-rendered pages over the same use cases as the API.

Each page blueprint is made with :func:`web.pages.page_blueprint` and listed in ``BLUEPRINTS``;
``register`` wires them, Flask-Babel, the session cookie, CSRF and the HTML error pages into the
app that ``api.create_app`` builds. docs/web.md tells how to add a page.
"""
from __future__ import annotations

from flask import Blueprint, Flask

from . import (announcements, board, case_actions, case_pages, customer_pages, customers, display, errors, i18n, inbox,
               kpi, login, nav, owner, portal, session, staffing_pages, task_pages)
from .pages import STATIC_DIR, secure_headers

#: every page blueprint, in registration order (another page module adds its blueprint here)
BLUEPRINTS = (login.blp, inbox.blp, task_pages.blp, case_pages.blp, board.blp, portal.blp, owner.blp, kpi.blp,
              case_actions.blp, announcements.blp, customers.blp, customer_pages.blp, staffing_pages.blp)
for _blp in BLUEPRINTS:  # once, before any app registers them
    errors.attach(_blp)


def register(app: Flask) -> None:
    i18n.register(app)
    session.register(app)
    nav.register(app)
    display.register(app)
    case_actions.register(app)
    app.register_blueprint(Blueprint("web_static", __name__, static_folder=str(STATIC_DIR),
                                     static_url_path="/static"))
    for blp in BLUEPRINTS:
        app.register_blueprint(blp)
    errors.register(app)
    app.before_request(session.check_csrf)
    app.after_request(secure_headers)
