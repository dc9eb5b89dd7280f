"""The audit trail (admin, process owner, supervisor)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.schemas import username_of
from cases.core import audit
from gateway.auth import current_user

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                description="Who deployed, migrated, reverted or retried what")


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = username_of("actor")
    action = fields.String(metadata={"description": "deploy, reactivate, migrate, revert_migration, retry"})
    subject = fields.String(allow_none=True)
    details = fields.Dict()


class AuditArgs(PageArgs):
    action = fields.String()


@blp.route("")
class AuditTrail(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, page_schema(AuditEventSchema, "AuditPage"))
    def get(self, args):
        """The newest first."""
        return audit.events(current_user(), args.get("action"), args["page"], args["per_page"])
