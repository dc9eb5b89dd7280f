"""The Flask application factory: the API and the pages over one database, behind one gateway."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_migrate import Migrate

import api
import cases.wiring
import web
from cases.core.db import db
from gateway import auth, permissions, problems
from server import config

MIGRATIONS_DIR = str(config.ROOT / "migrations")
migrate = Migrate()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.ROOT / "instance"), static_folder=None)  # web/ serves /static
    app.config.update(config.DEFAULTS)
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    cases.wiring.install()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.register(app)
    problems.register(app)
    app.before_request(problems.reject_unstorable_url)
    auth.register(app)
    permissions.register(app)  # after authentication: it needs the user
    web.register(app)  # the pages; their CSRF check runs after the permission table
    return app
