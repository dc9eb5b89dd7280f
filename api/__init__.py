"""The Flask application factory."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from flask_migrate import Migrate
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

import web
from cases.db import db

from . import auth, config, errors, idempotency, logs, metrics, permissions
from .resources import (
    announcements, attachments, audit, calendars, cases, channels, chat_posts, customers, escalations, health,
    instances, knowledge, kpis, me, migrations, notifications, sla_policies, surveys, tasks, users, versions,
)
from .resources import auth as auth_resource

#: every blueprint of the API, in the order the OpenAPI document lists them
BLUEPRINTS = (auth_resource, me, cases, tasks, versions, migrations, instances, audit, users, health,
              notifications, calendars, sla_policies, escalations, channels, kpis, attachments, knowledge,
              surveys, customers, announcements, chat_posts)

migrate = Migrate()


class CaseflowApi(Api):
    """flask-smorest's Api documenting errors as they are: problem+json bodies."""

    ERROR_SCHEMA = errors.ProblemSchema

    def _register_responses(self):
        json_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
        self.DEFAULT_RESPONSE_CONTENT_TYPE = "application/problem+json"
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = json_type
MIGRATIONS_DIR = str(config.ROOT / "migrations")


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.ROOT / "instance"), static_folder=None)  # web/ serves /static
    app.config.update(config.DEFAULTS)
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    config.check_production(app.config)
    logs.configure(app.config.get("LOG_FORMAT", "json"))

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api = CaseflowApi(app)
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp)
    idempotency.document(app, api.spec)
    # Swagger UI's files come from a Python package: no CDN at run time.
    app.register_blueprint(Blueprint("docs_static", __name__, static_folder=swagger_ui_path,
                                     static_url_path="/api/docs/static"))
    app.register_blueprint(surveys.page_blp)  # the survey link's HTML page (not part of the API)
    logs.register(app)  # first: the request id exists before anything logs or fails
    metrics.register(app)  # then the clock: refusals are counted and timed too
    errors.register(app)
    app.before_request(errors.reject_unstorable_url)
    auth.register(app)
    permissions.register(app)  # after authentication: it needs the user
    idempotency.register(app)  # after the permission table: a refused call opens nothing
    web.register(app)  # the pages; their CSRF check runs after the permission table

    from . import cli
    cli.register(app)
    return app
