"""The outbox of replies to chat platforms, for operators: list it (admin, supervisor), post a
failed or only recorded message again (admin)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from cases.outbox import chat_posts as chat_out
from gateway.auth import current_user
from gateway.inputs import MAX_ID, id_field

blp = Blueprint("chat_posts", __name__, url_prefix="/api/v1/chat-posts",
                description="Replies and notices posted to chat platforms: pending, sent, failed, recorded")


class ChatPostSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"description": "information_request, resolution, staff_reply, update_announcement"})
    platform = fields.String()
    conversation_id = fields.String()
    text = fields.Function(lambda p: p.payload.get("text"))
    url = fields.String(allow_none=True, metadata={"description": "none: no reply URL for the platform (recorded)"})
    status = fields.String(metadata={"enum": list(chat_out.STATUSES)})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    response_status = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    send_after = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


class ChatPostArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(chat_out.STATUSES))
    case_id = id_field(strict=False)


@blp.route("")
class ChatPostCollection(MethodView):
    @blp.arguments(ChatPostArgs, location="query")
    @blp.response(200, page_schema(ChatPostSchema, "ChatPostPage"))
    def get(self, args):
        """Posts to chat platforms, the newest first (e.g. ``?status=failed``)."""
        return chat_out.outbox_page(current_user(), args.get("status"), args.get("case_id"),
                                    args["page"], args["per_page"])


@blp.route(f"/<int(max={MAX_ID}):post_id>/retry")
class ChatPostRetry(MethodView):
    @blp.response(200, ChatPostSchema)
    def post(self, post_id):
        """Post a failed or recorded message again, to the platform's URL as configured now (409
        unless it failed or was recorded, or when the platform still has no URL)."""
        return chat_out.retry(current_user(), post_id)
