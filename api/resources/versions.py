"""Deployed process versions (read-only here; deploy with ``caseflow deploy``)."""
from __future__ import annotations

from flask.views import MethodView
from api.parsing import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from api.auth import current_user
from cases.access import require_role
from cases.db import db
from cases.models import ProcessVersion, Role

blp = Blueprint("versions", __name__, url_prefix="/api/v1/process-versions",
                description="Deployed process versions")

READERS = (Role.PROCESS_OWNER.value, Role.ADMIN.value, Role.SUPERVISOR.value)


class ProcessVersionSchema(Schema):
    id = fields.Integer()
    content_hash = fields.String()
    process_ids = fields.List(fields.String())
    forms = fields.Function(lambda v: sorted(v.forms))
    serializer_version = fields.String()
    created_at = fields.DateTime()
    activated_at = fields.DateTime()


@blp.route("")
class VersionCollection(MethodView):
    @blp.response(200, ProcessVersionSchema(many=True))
    def get(self):
        """Every deployed version, the active one first."""
        require_role(current_user(), *READERS)
        return db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.activated_at.desc(),
                                                                  ProcessVersion.id.desc())).all()
