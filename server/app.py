"""The Flask application factory: the API and the pages over one database, behind one gateway."""
from __future__ import annotations

import gc
from typing import Any

from flask import Flask
from flask_migrate import Migrate

import api
import cases.wiring
import web
from api import idempotency
from cases.core.db import db
from engine.isolation import sandbox as scripts
from engine.isolation.pool import Limits
from gateway import auth, logs, metrics, permissions, problems
from server import config

MIGRATIONS_DIR = str(config.ROOT / "migrations")
migrate = Migrate()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.ROOT / "instance"), static_folder=None)  # web/ serves /static
    app.config.update(config.DEFAULTS)
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    config.check_production(app.config)
    logs.configure(app.config.get("LOG_FORMAT", "json"))
    _configure_scripts(app)

    cases.wiring.install()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.register(app)
    logs.register(app)  # first: the request id exists before anything logs or fails
    metrics.register(app)  # then the clock: refusals are counted and timed too
    problems.register(app)
    app.before_request(problems.reject_unstorable_url)
    auth.register(app)
    permissions.register(app)  # after authentication: it needs the user
    idempotency.register(app)  # after the permission table: a refused call opens nothing
    web.register(app)  # the pages; their CSRF check runs after the permission table
    if not app.config.get("TESTING"):
        # What the start-up built (modules, schemas, the URL map: ~270k objects) lives as long as
        # the process: leave it out of the cyclic collector's full passes, which otherwise walk it
        # all and stall a request for 100-200 ms every few cases (bench/README.md). A test run
        # creates many apps and keeps collecting them.
        gc.freeze()
    return app


def _configure_scripts(app: Flask) -> None:
    """The script worker pool of this process (docs/operations.md, "Scripts"): started now in a
    served process, on first use in tests."""
    scripts.configure(
        enabled=bool(app.config.get("SCRIPT_ISOLATION", True)),
        limits=Limits(workers=int(app.config.get("SCRIPT_WORKERS", 2)),
                      memory_mb=int(app.config.get("SCRIPT_MEMORY_MB", 256)),
                      grace_seconds=float(app.config.get("SCRIPT_GRACE_SECONDS", 1.0))),
        start=not app.config.get("TESTING"))
