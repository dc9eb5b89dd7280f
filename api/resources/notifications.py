"""The outbox of outbound mail, for operators: list it (admin, supervisor), retry a failed
message (admin)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from cases.outbox import notifications
from gateway.auth import current_user
from gateway.inputs import MAX_ID, id_field

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                description="Outbound mail: what was queued, sent or failed")


def _n(field: type[fields.Field], name: str, **kwargs) -> fields.Field:
    return field(attribute=f"notification.{name}", **kwargs)


class NotificationSchema(Schema):
    id = _n(fields.Integer, "id")
    case_id = _n(fields.Integer, "case_id", allow_none=True)
    case_number = fields.String(allow_none=True)
    user = fields.String(attribute="username", allow_none=True,
                         metadata={"description": "the user it is for (none: an address only)"})
    kind = _n(fields.String, "kind", metadata={
        "description": "e.g. sla_warning, sla_breach, sla_manager, case_acknowledged, information_request, resolution, "
                       "staff_reply, update_announcement"})
    recipient = _n(fields.String, "recipient")
    subject = _n(fields.String, "subject")
    status = _n(fields.String, "status", metadata={"enum": list(notifications.STATUSES)})
    attempts = _n(fields.Integer, "attempts")
    last_error = _n(fields.String, "last_error", allow_none=True)
    message_id = _n(fields.String, "message_id", allow_none=True)
    created_at = _n(fields.DateTime, "created_at")
    send_after = _n(fields.DateTime, "send_after", metadata={"description": "not sent before this time"})
    sent_at = _n(fields.DateTime, "sent_at", allow_none=True)


class NotificationArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(notifications.STATUSES))
    case_id = id_field(strict=False)
    kind = fields.String(validate=validate.Length(max=40))


@blp.route("")
class NotificationCollection(MethodView):
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, page_schema(NotificationSchema, "NotificationPage"))
    def get(self, args):
        """Outbound messages, the newest first (e.g. ``?status=failed``)."""
        return notifications.outbox(current_user(), args.get("status"), args.get("case_id"), args.get("kind"),
                                    args["page"], args["per_page"])


@blp.route(f"/<int(max={MAX_ID}):notification_id>/retry")
class NotificationRetry(MethodView):
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Queue a failed message again with a fresh set of attempts (409 unless it failed)."""
        return notifications.retry(current_user(), notification_id)
