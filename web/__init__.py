"""The web application for people: server-rendered pages over the same use cases as the API.

Each page blueprint is made with :func:`web.pages.page_blueprint` and listed in ``BLUEPRINTS``;
``register`` wires them, Flask-Babel, the session cookie, CSRF and the HTML error pages into the
app that ``server.create_app`` builds. docs/web.md tells how to add a page.
"""
from __future__ import annotations

from flask import Blueprint, Flask, request

from gateway import auth, session
from web import (
    announcements,
    board,
    case_actions,
    case_pages,
    customer_pages,
    customers,
    display,
    errors,
    i18n,
    inbox,
    intake_form,
    knowledge_pages,
    kpi,
    list_views,
    live,
    login,
    major_incidents,
    nav,
    owner,
    portal,
    problems,
    quality_pages,
    risk_pages,
    service_pages,
    service_review,
    sla_pages,
    staffing_pages,
    survey_page,
    task_pages,
    training_pages,
    whatif,
)
from web.pages import STATIC_DIR, secure_headers

#: every page blueprint, in registration order (another page module adds its blueprint here)
BLUEPRINTS = (login.blp, inbox.blp, task_pages.blp, case_pages.blp, board.blp, portal.blp, owner.blp, kpi.blp,
              case_actions.blp, announcements.blp, customers.blp, customer_pages.blp, staffing_pages.blp, whatif.blp,
              service_review.blp, sla_pages.blp, major_incidents.blp, problems.blp, knowledge_pages.blp,
              list_views.blp, live.blp, training_pages.blp, risk_pages.blp, quality_pages.blp, service_pages.blp)
#: reachable without logging in: the log-in page, the language switch, the static files, and the page a
#: survey mail links to (its unguessable, single-use, expiring token is the credential)
PUBLIC = ("web_auth.login", "web_auth.language", "web_static.static", "survey_page.survey_page")
for _blp in BLUEPRINTS:  # once, before any app registers them
    errors.attach(_blp)


#: forms whose too large bodies are still read, so that they come back with what was typed
LARGE_FORMS = ("portal.new_case", "case_pages.new_case")
LONG_TEXT_FORMS = ("case_pages.write", "case_pages.answer", "task_pages.complete", "case_actions.reply",
                   "knowledge_pages.reply_insert", "knowledge_pages.new", "knowledge_pages.edit", "case_actions.complain")


def _body_limits() -> None:
    if request.method != "POST":
        return
    if request.endpoint in LARGE_FORMS:
        intake_form.allow_large_bodies()
    elif request.endpoint in LONG_TEXT_FORMS:
        request.max_content_length = intake_form.MAX_FORM_TEXT + 64 * 1024
        request.max_form_memory_size = intake_form.MAX_FORM_TEXT


def register(app: Flask) -> None:
    app.request_class = intake_form.FormRequest  # a too large file is counted, not stored
    i18n.register(app)
    session.register(app)
    nav.register(app)
    display.register(app)
    case_actions.register(app)
    major_incidents.register(app)
    problems.register_globals(app)
    knowledge_pages.register(app)
    live.register_globals(app)
    training_pages.register(app)
    risk_pages.register(app)
    service_pages.register(app)
    app.register_blueprint(Blueprint("web_static", __name__, static_folder=str(STATIC_DIR),
                                     static_url_path="/static"))
    for blp in BLUEPRINTS:
        app.register_blueprint(blp)
    app.register_blueprint(survey_page.blp)  # no log-in, no session: not a page blueprint
    auth.public(*PUBLIC)
    errors.register(app)
    app.before_request(_body_limits)  # before anything reads the form (the CSRF check does)
    app.before_request(session.check_csrf)
    app.after_request(secure_headers)
