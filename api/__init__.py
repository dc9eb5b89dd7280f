"""The REST API: one blueprint per resource (``api/resources/``), documented by flask-smorest.

A peer of the pages (``web/``): both sit on the same use cases in ``cases/`` and share only what is
below them in ``gateway/`` (authentication, the permission table, problem bodies).
"""
from __future__ import annotations

from flask import Blueprint, Flask
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from api import idempotency
from api.resources import (
    announcements,
    attachments,
    audit,
    calendars,
    cases,
    channels,
    chat_posts,
    customers,
    escalations,
    health,
    instances,
    knowledge,
    kpis,
    major_incidents,
    me,
    migrations,
    notifications,
    quality,
    recurring_problems,
    risks,
    service_review,
    service_work,
    sla_policies,
    staffing,
    surveys,
    tasks,
    training,
    users,
    versions,
    visits,
    whatif,
)
from api.resources import auth as auth_resource
from gateway import auth, problems

#: every blueprint of the API, in the order the OpenAPI document lists them
BLUEPRINTS = (auth_resource, me, cases, tasks, versions, migrations, instances, audit, users, health,
              notifications, calendars, sla_policies, escalations, channels, kpis, attachments, knowledge,
              surveys, customers, announcements, chat_posts, staffing, whatif, service_review,
              major_incidents, recurring_problems, training, risks, quality, visits, service_work)

#: reachable without a token: getting a token, the liveness probe (it reveals no data; load balancers
#: cannot carry credentials), the API description with its docs page; the chat webhook is signed by
#: the platform instead (HMAC, checked in api/resources/channels.py); a survey link's unguessable,
#: single-use, expiring token is its credential (unknown tokens are rate-limited per address)
PUBLIC = ("auth.TokenResource", "health.Health", "health.Ready", "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
          "docs_static.static", "channels.ChatWebhook", "surveys.SurveyByToken")


class CaseflowApi(Api):
    """flask-smorest's Api documenting errors as they are: problem+json bodies."""

    ERROR_SCHEMA = problems.ProblemSchema

    def _register_responses(self):
        json_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
        self.DEFAULT_RESPONSE_CONTENT_TYPE = "application/problem+json"
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = json_type


def register(app: Flask) -> None:
    api = CaseflowApi(app)
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp)
    idempotency.document(app, api.spec)
    # Swagger UI's files come from a Python package: no CDN at run time.
    app.register_blueprint(Blueprint("docs_static", __name__, static_folder=swagger_ui_path,
                                     static_url_path="/api/docs/static"))
    auth.public(*PUBLIC)
