"""Process instances in trouble, and retrying them (operators: admin, process owner, supervisor)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.parsing import Blueprint
from cases.process import incidents
from gateway.auth import current_user

blp = Blueprint("instances", __name__, url_prefix="/api/v1/instances",
                description="Process instances in trouble (failed or stuck)")


class TroubleSchema(Schema):
    instance_id = fields.Function(lambda t: t.instance.id)
    kind = fields.String(metadata={"description": "error: a step failed; stuck: nothing can move it"})
    status = fields.Function(lambda t: t.instance.status)
    error_message = fields.Function(lambda t: t.instance.error_message)
    error_element = fields.Function(lambda t: t.instance.error_element)
    error_at = fields.Function(lambda t: t.instance.error_at.isoformat() if t.instance.error_at else None)
    process_version = fields.Function(lambda t: t.instance.version.content_hash)
    case_id = fields.Function(lambda t: t.case.id)
    case_number = fields.Function(lambda t: t.case.number)
    case_stage = fields.Function(lambda t: t.case.stage)


class RetriedSchema(Schema):
    case_id = fields.Integer(attribute="id")
    number = fields.String()
    stage = fields.String()
    status = fields.String()


@blp.route("/trouble")
class Trouble(MethodView):
    @blp.response(200, TroubleSchema(many=True))
    def get(self):
        """Instances whose scheduled step failed, and stuck instances."""
        return incidents.in_trouble(current_user())


@blp.route("/<int(max=2147483647):instance_id>/retry")
class Retry(MethodView):
    @blp.response(200, RetriedSchema)
    def post(self, instance_id):
        """Run the instance's automatic steps and due timers again (after fixing the cause)."""
        return incidents.retry(current_user(), instance_id)
