"""Schemas of the cases blueprint."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.fastdump import compile_dump
from api.pagination import PageArgs, page_schema
from api.resources.customer_schemas import CaseContractSchema
from api.resources.sla_schemas import SlaClockSchema
from api.schemas import CustomerSchema, TaskRefSchema, username_of
from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES, CaseKind, CaseStatus
from gateway.inputs import id_field


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    actor = username_of("actor")
    data = fields.Dict()


def _public_actor(event) -> str | None:
    """Customers see their own organisation's user names; staff appear as 'support'."""
    if event.actor is None:
        return None
    return event.actor.username if event.actor.customer_id is not None else "support"


class CustomerEventSchema(EventSchema):
    actor = fields.Function(_public_actor)


class EventList(fields.List[Any]):
    """``fields.List(fields.Nested(schema))`` of history events, each dumped by ``schema`` compiled
    once (api/fastdump.py): exactly what the schema dumps, without marshmallow's per-field machinery
    (a case reopened fifty times has hundreds of events). The OpenAPI document still describes the
    schema (tests/api/test_case_history_dump.py compares both)."""

    def __init__(self, schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(fields.Nested(schema), **kwargs)
        self._dump = compile_dump(schema())

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list[Any] | None:
        if value is None:
            return None
        dump = self._dump
        return [dump(event) for event in value]


class CustomerCaseSchema(Schema):
    """What a customer user sees of a case."""

    id = fields.Integer()
    number = fields.String()
    customer = fields.Nested(CustomerSchema)
    channel = fields.String()
    title = fields.String()
    description = fields.String()
    environment = fields.String(allow_none=True)
    steps_to_reproduce = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    solution = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    stage = fields.String()
    status = fields.String()
    kind = fields.String(metadata={"description": "support, complaint (complaint_handling), follow_up "
                                                  "(a customer's follow-ups after a deployment), risk_review "
                                                  "(a risk's reviews), training (a training session's process) "
                                                  "or major_incident (a major incident's lifecycle and ladder): "
                                                  "the last three internal, of the service's own organisation"})
    parent_case_id = fields.Integer(allow_none=True, metadata={
        "description": "the case this one is about (a complaint's original case)"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


class CaseSchema(CustomerCaseSchema):
    """What staff see of a case."""

    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    category_hint = fields.String(allow_none=True)
    priority_hint = fields.String(allow_none=True)
    classification_rule = fields.Dict(allow_none=True, metadata={
        "description": "The decision rule that proposed category and priority, and why."})
    owner = username_of("owner")
    due_at = fields.DateTime(allow_none=True)
    analysis = fields.String(allow_none=True)
    reopen_count = fields.Integer()


class SuggestedArticleSchema(Schema):
    id = fields.Function(lambda hit: hit.article.id)
    title = fields.Function(lambda hit: hit.article.title)
    language = fields.Function(lambda hit: hit.article.language)
    snippet = fields.String()


class ComplaintSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=20000), metadata={
        "description": "what the complaint is about"})


class SelfServiceSchema(Schema):
    article_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2147483647))


class LinkedCaseSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    title = fields.String()
    stage = fields.String()
    status = fields.String()


class CaseDetailSchema(CaseSchema):
    tasks = fields.List(fields.Nested(TaskRefSchema), metadata={"description": "Open tasks"})
    history = EventList(EventSchema)
    linked_cases = fields.List(fields.Nested(LinkedCaseSchema), metadata={
        "description": "cases about this one (its complaints)"})
    process_version = fields.String()
    sla = fields.Nested(SlaClockSchema, metadata={"description": "The SLA clock (docs/sla.md)"})
    suggested_articles = fields.List(fields.Nested(SuggestedArticleSchema), metadata={
        "description": "Only when the case was just opened: articles that may answer it"})
    contract = fields.Nested(CaseContractSchema, allow_none=True, metadata={
        "description": "the customer's contract in force (null: none)"})


class CustomerCaseDetailSchema(CustomerCaseSchema):
    tasks = fields.List(fields.Nested(TaskRefSchema))
    history = EventList(CustomerEventSchema)
    linked_cases = fields.List(fields.Nested(LinkedCaseSchema), metadata={
        "description": "cases about this one (its complaints)"})
    sla = fields.Nested(SlaClockSchema, metadata={"description": "The promises made on the case"})
    suggested_articles = fields.List(fields.Nested(SuggestedArticleSchema), metadata={
        "description": "Only when the case was just opened: articles that may answer it"})


class CaseListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in CaseStatus]))
    stage = fields.String()
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    customer_id = id_field(strict=False)
    kind = fields.String(validate=validate.OneOf([k.value for k in CaseKind]), metadata={
        "description": "support, complaint, follow_up, risk_review, training or major_incident (staff: the "
                       "service's internal cases)"})
    parent_case_id = id_field(strict=False, metadata={"description": "the cases about this case (its complaints)"})
    owner = fields.String(metadata={"description": "user name of the owner"})
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "text in the number, title, description, environment, contact (name, phone, e-mail), "
                       "or the customer's name or code (then all of its cases); case-insensitive"})
    product = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "cases about a product: the customer has it installed, or the environment names it"})


class MessageSchema(Schema):
    payload = fields.Dict(load_default=dict, metadata={
        "description": "Whatever the message carries (e.g. {'text': ..., 'attachments': [...]})"})


class ReplySchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000), metadata={
        "description": "the message to the customer, sent on the case's channel (docs/channels.md)"})


class ReplyRouteSchema(Schema):
    via = fields.String(metadata={"description": "mail | chat | call (a note to call the customer back)"})
    to = fields.String(allow_none=True, metadata={"description": "the address or platform:conversation"})


CasePageSchema = page_schema(CaseSchema, "CasePage")
