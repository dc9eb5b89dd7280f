"""Channels: the chat / instant-messaging webhook and the hotline call log.

The webhook is reached without a bearer token: a chat platform authenticates each request with
an HMAC-SHA256 signature of ``<timestamp>.<raw body>`` under the shared secret
``CHAT_WEBHOOK_SECRET``, sent as ``X-Caseflow-Signature: sha256=<hex>`` with
``X-Caseflow-Timestamp: <unix seconds>``. The signature is checked before the body is even
parsed; a wrong, missing or stale signature is a 401 and nothing is created.
"""
from __future__ import annotations

import hmac
import time

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.parsing import Blueprint
from cases.channels import inbound as channels
from cases.core.errors import Unauthenticated
from cases.core.models import CATEGORIES, PRIORITIES
from cases.outbox.chat_posts import signature
from gateway.auth import current_user

blp = Blueprint("channels", __name__, url_prefix="/api/v1",
                description="Chat and instant-messaging webhook; hotline calls")

SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Caseflow-Signature", "X-Caseflow-Timestamp"
WEBHOOK_ENDPOINT = "channels.ChatWebhook"


@blp.before_request
def _verify_signature() -> None:
    if request.endpoint != WEBHOOK_ENDPOINT:
        return
    secret = current_app.config.get("CHAT_WEBHOOK_SECRET")
    sent, stamp = request.headers.get(SIGNATURE_HEADER, ""), request.headers.get(TIMESTAMP_HEADER, "")
    if not secret:
        raise Unauthenticated("the chat webhook is not configured (CHAT_WEBHOOK_SECRET)")
    if not sent or not stamp.isdigit():
        raise Unauthenticated(f"send {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}")
    if abs(time.time() - int(stamp)) > current_app.config["CHAT_WEBHOOK_MAX_SKEW_SECONDS"]:
        raise Unauthenticated("the timestamp is too far from now (replayed or clock skew)")
    if not hmac.compare_digest(sent, signature(secret, stamp, request.get_data(cache=True))):
        raise Unauthenticated("the signature does not match")


class SenderSchema(Schema):
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    phone = fields.String(load_default=None, validate=validate.Length(max=50))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))


class ChatMessageSchema(Schema):
    platform = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,30}$"), metadata={
        "description": "wechat, qq, wecom, dingtalk, feishu (channel 'im') or e.g. web_chat (channel 'chat')"})
    conversation_id = fields.String(required=True, validate=validate.Length(min=1, max=150))
    message_id = fields.String(required=True, validate=validate.Length(min=1, max=150), metadata={
        "description": "the platform's id of this message: a retry with the same id changes nothing"})
    customer_code = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "the customer organisation the platform's account belongs to"})
    sender = fields.Nested(SenderSchema, load_default=dict)
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    title = fields.String(load_default=None, validate=validate.Length(max=200))
    sent_at = fields.AwareDateTime(load_default=None)


class DeliverySchema(Schema):
    case_id = fields.Function(lambda d: d.case.id)
    number = fields.Function(lambda d: d.case.number)
    stage = fields.Function(lambda d: d.case.stage)
    outcome = fields.String(metadata={"description": "opened | replied (answered the waiting process) | "
                                                     "confirmed / rejected (the resolution) | appended | duplicate"})


class CallSchema(Schema):
    case_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2147483647), metadata={
        "description": "continue this case; without it the call opens a case for customer_id"})
    customer_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2147483647))
    direction = fields.String(load_default="inbound", validate=validate.OneOf(("inbound", "outbound")))
    caller_name = fields.String(load_default=None, validate=validate.Length(max=200))
    number = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9+()\- ]{3,50}$"))
    started_at = fields.AwareDateTime(load_default=None)
    duration_seconds = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=86400))
    notes = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    title = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    category_hint = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    priority_hint = fields.String(load_default=None, validate=validate.OneOf(PRIORITIES))
    customer_reply = fields.Boolean(load_default=False, metadata={
        "description": "deliver the notes as the customer's answer when the case waits for one "
                       "(customer_reply or customer_data)"})


class CallLogSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    agent = fields.Function(lambda c: c.agent.username)
    direction = fields.String()
    caller_name = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    started_at = fields.DateTime()
    duration_seconds = fields.Integer()
    notes = fields.String()


class CallbackSchema(Schema):
    case_id = fields.Function(lambda c: c.case.id)
    case_number = fields.Function(lambda c: c.case.number)
    customer = fields.Function(lambda c: c.case.customer.name)
    contact_name = fields.Function(lambda c: c.case.contact_name)
    contact_phone = fields.Function(lambda c: c.case.contact_phone)
    notice = fields.Function(lambda c: c.note.data.get("notice"), metadata={
        "description": "information_request | resolution | staff_reply | …"})
    text = fields.Function(lambda c: c.note.data.get("text"), metadata={"description": "what to tell them"})
    requested_at = fields.Function(lambda c: c.note.at.isoformat())


class CallResultSchema(Schema):
    call = fields.Nested(CallLogSchema)
    case = fields.Nested(DeliverySchema)


@blp.route("/channels/chat/messages")
class ChatWebhook(MethodView):
    @blp.arguments(ChatMessageSchema)
    @blp.response(200, DeliverySchema)
    @blp.doc(security=[{"webhookSignature": []}], parameters=[
        {"in": "header", "name": TIMESTAMP_HEADER, "required": True, "schema": {"type": "string"},
         "description": "unix seconds; more than CHAT_WEBHOOK_MAX_SKEW_SECONDS away is refused"}])
    def post(self, message):
        """A customer's chat message: opens a case, or continues the conversation's open case."""
        return channels.chat_message(message)


@blp.route("/calls")
class Calls(MethodView):
    @blp.arguments(CallSchema)
    @blp.response(201, CallResultSchema)
    def post(self, call):
        """Log a hotline call: it continues a case or opens one."""
        row, delivery = channels.log_call(current_user(), call)
        return {"call": row, "case": delivery}


@blp.route("/calls/callbacks")
class Callbacks(MethodView):
    @blp.response(200, CallbackSchema(many=True))
    def get(self):
        """Customers to call back, oldest first: replies on hotline cases (requests for information,
        resolutions, staff replies) wait here until an outbound call is logged on the case."""
        return channels.pending_callbacks(current_user())


@blp.route("/cases/<int(max=2147483647):case_id>/calls")
class CaseCalls(MethodView):
    @blp.response(200, CallLogSchema(many=True))
    def get(self, case_id):
        """The calls logged on a case."""
        return channels.calls_of(current_user(), case_id)
