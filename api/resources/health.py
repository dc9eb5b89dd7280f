"""Liveness and database reachability (public, reveals no data)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.parsing import Blueprint
from cases.core.db import db

blp = Blueprint("health", __name__, url_prefix="/health", description="Health")


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """Is the service up and its database reachable?"""
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except SQLAlchemyError:
            db.session.rollback()
            return {"status": "degraded", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}
