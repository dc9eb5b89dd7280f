"""Liveness (``/health``: the process answers) and readiness (``/ready``: the database answers,
its schema is at the migrations' head, a scheduler holds a fresh lease). Public, reveal no data
beyond the scheduler's host name and epoch."""
from __future__ import annotations

from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import SQLAlchemyError

from api.parsing import Blueprint
from cases.core.db import db
from cases.process import observability

blp = Blueprint("health", __name__, url_prefix="", description="Health")


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok: the process answers (it does not ask the database)"})


class ReadyArgs(Schema):
    scope = fields.String(load_default="all", validate=validate.OneOf(["all", "web"]), metadata={
        "description": "all: the database, the migrations and the scheduler lease; web: the first two only "
                       "(what a load balancer should ask: a web replica serves without a scheduler)"})


class ChecksSchema(Schema):
    database = fields.String(metadata={"description": "ok / unreachable"})
    migrations = fields.String(metadata={"description": "ok / behind / unknown"})
    scheduler = fields.String(metadata={"description": "ok / stale (lease expired) / none (never held) / unknown"})


class LeaseSchema(Schema):
    holder = fields.String(allow_none=True)
    epoch = fields.Integer(allow_none=True)
    age_seconds = fields.Float(allow_none=True, metadata={"description": "since the last renewal"})
    expires_in_seconds = fields.Float(allow_none=True)


class ReadySchema(Schema):
    status = fields.String(metadata={"description": "ready / not_ready"})
    checks = fields.Nested(ChecksSchema)
    scheduler = fields.Nested(LeaseSchema)


@lru_cache(maxsize=4)
def _heads(directory: str) -> frozenset[str]:
    return frozenset(ScriptDirectory(directory).get_heads())


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """Liveness: is the process up? (Never asks the database: restarting a web replica does not
        bring a database back.)"""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.arguments(ReadyArgs, location="query")
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="not ready: a check failed")
    @blp.doc(security=[])
    def get(self, args):
        """Readiness: the database answers, its schema is at the head of the migrations, and (scope
        ``all``) a scheduler holds a lease that has not expired."""
        checks = {"database": "ok", "migrations": "unknown", "scheduler": "unknown"}
        lease = {}
        try:
            connection = db.session.connection()
            current = set(MigrationContext.configure(connection).get_current_heads())
            checks["migrations"] = "ok" if current == _heads(current_app.extensions["migrate"].directory) else "behind"
            figures = observability.figures()
            checks["scheduler"] = ("ok" if figures.lease_fresh else
                                   "none" if figures.lease_epoch is None else "stale")
            lease = {"holder": figures.lease_holder, "epoch": figures.lease_epoch,
                     "age_seconds": figures.lease_age_seconds, "expires_in_seconds": figures.lease_expires_in_seconds}
        except SQLAlchemyError:
            db.session.rollback()
            checks["database"] = "unreachable"
        finally:
            db.session.rollback()
        needed = ("database", "migrations") if args["scope"] == "web" else ("database", "migrations", "scheduler")
        ready = all(checks[name] == "ok" for name in needed)
        return {"status": "ready" if ready else "not_ready", "checks": checks, "scheduler": lease}, 200 if ready else 503
