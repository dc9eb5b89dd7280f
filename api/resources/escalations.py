"""The supervisors' escalation queue, their actions on a case, and every case's SLA clock."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.fastdump import compile_dump, json_response
from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.resources.sla_schemas import SlaClockSchema, SlaTargetSchema
from api.responses import Overlay
from api.schemas import username_of
from cases.casework import escalations, queries
from cases.core.models import PRIORITIES, TIERS
from cases.sla import clock as sla
from cases.sla.policies import KINDS
from gateway.auth import current_user

blp = Blueprint("escalations", __name__, url_prefix="/api/v1",
                description="SLA clocks, the escalation queue and the supervisors' actions")

CASE = "/cases/<int(max=2147483647):case_id>"


def _clock(case):
    return Overlay(case, sla=sla.view(case))


class CaseClockSchema(Schema):
    case_id = fields.Integer(attribute="id")
    number = fields.String()
    priority = fields.String(allow_none=True)
    owner = username_of("owner")
    sla = fields.Nested(SlaClockSchema)


class EscalationSchema(Schema):
    level = fields.String(metadata={"description": "warning | breach | manager"})
    at = fields.DateTime()
    notified = fields.List(fields.String())
    acknowledged_at = fields.DateTime(allow_none=True)


class QueueEntrySchema(Schema):
    case_id = fields.Function(lambda e: e.case.id)
    number = fields.Function(lambda e: e.case.number)
    title = fields.Function(lambda e: e.case.title)
    priority = fields.Function(lambda e: e.case.priority)
    tier = fields.Function(lambda e: e.case.customer.tier)
    customer = fields.Function(lambda e: e.case.customer.name)
    owner = fields.Function(lambda e: e.case.owner.username if e.case.owner else None)
    team = fields.Function(lambda e: e.case.owner.team if e.case.owner else None)
    stage = fields.Function(lambda e: e.case.stage)
    target = fields.Nested(SlaTargetSchema)
    escalations = fields.List(fields.Nested(EscalationSchema))


QueuePageSchema = page_schema(QueueEntrySchema, "EscalationQueuePage")
#: the queue's page, dumped by the compiled schema (the same JSON; api/fastdump.py)
QUEUE_PAGE = compile_dump(QueuePageSchema())


class QueueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(escalations.STATUSES))
    team = fields.String(validate=validate.Length(max=60))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    tier = fields.String(validate=validate.OneOf(TIERS))
    kind = fields.String(validate=validate.OneOf(KINDS))


class ReassignSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReasonSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class ExtendSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=525600),
                             metadata={"description": "business minutes to add to the target"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CommentSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    public = fields.Boolean(load_default=False, metadata={
        "description": "shown to the customer; a public comment counts as a response"})


class AcknowledgeSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class PrioritySchema(Schema):
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReapplySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


@blp.route("/escalations")
class EscalationQueue(MethodView):
    @blp.arguments(QueueArgs, location="query")
    @blp.response(200, QueuePageSchema)
    def get(self, args):
        """Breached and at-risk targets of open cases, the earliest due first."""
        page, per_page = args.pop("page"), args.pop("per_page")
        return json_response(QUEUE_PAGE, escalations.queue(current_user(), args, page, per_page))


@blp.route(CASE + "/sla")
class SlaClock(MethodView):
    @blp.response(200, CaseClockSchema)
    def get(self, case_id):
        """The case's SLA clock: targets, due times, business time used and left, pauses."""
        return _clock(queries.case_view(current_user(), case_id).case)


@blp.route(CASE + "/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignSchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """Give the case and its open staff tasks to another staff member."""
        return _clock(escalations.reassign(current_user(), case_id, body["username"], body["reason"]))


@blp.route(CASE + "/take-over")
class TakeOver(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """The supervisor becomes the owner and assignee of the open staff tasks."""
        return _clock(escalations.take_over(current_user(), case_id, body["reason"]))


@blp.route(CASE + "/sla/extend")
class Extend(MethodView):
    @blp.arguments(ExtendSchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """Add business minutes to a running or paused target, with a reason."""
        return _clock(escalations.extend(current_user(), case_id, body["kind"], body["minutes"], body["reason"]))


@blp.route(CASE + "/sla/reapply")
class Reapply(MethodView):
    @blp.arguments(ReapplySchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """Recompute the targets from the case's start under the active policy version."""
        return _clock(escalations.reapply_policy(current_user(), case_id, body["reason"]))


@blp.route(CASE + "/priority")
class ChangePriority(MethodView):
    @blp.arguments(PrioritySchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """Change the priority; the targets are recomputed from the case's start."""
        return _clock(escalations.change_priority(current_user(), case_id, body["priority"], body["reason"]))


@blp.route(CASE + "/comments")
class Comment(MethodView):
    @blp.arguments(CommentSchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """A supervisor's comment on the case (internal, or public to the customer)."""
        return _clock(escalations.comment(current_user(), case_id, body["text"], body["public"]))


@blp.route(CASE + "/acknowledge")
class Acknowledge(MethodView):
    @blp.arguments(AcknowledgeSchema)
    @blp.response(200, CaseClockSchema)
    def post(self, body, case_id):
        """Take the case's breach in hand: the manager is not escalated to."""
        return _clock(escalations.acknowledge(current_user(), case_id, body["note"]))
