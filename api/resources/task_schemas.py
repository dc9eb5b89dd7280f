"""Schemas of the tasks blueprint."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.schemas import TaskRefSchema, username_of
from cases.casework.queries import TASK_SCOPES
from cases.core.models import CATEGORIES, PRIORITIES, TaskState
from gateway.inputs import id_field


class CaseSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    customer = fields.Function(lambda c: c.customer.name)
    category = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    stage = fields.String()
    status = fields.String()


class TaskSchema(Schema):
    id = fields.String()
    element_id = fields.String(metadata={"description": "the BPMN element of the task"})
    name = fields.String()
    lane = fields.String(allow_none=True, metadata={"description": "the role that works on it"})
    state = fields.String()
    assignee = username_of("assignee")
    form = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "send it back with claim/release/complete"})
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    case = fields.Nested(CaseSummarySchema)


class CompletedSchema(TaskSchema):
    next_tasks = fields.List(fields.Nested(TaskRefSchema), metadata={
        "description": "the case's open tasks after this step (that you may see)"})


class TaskDetailSchema(TaskSchema):
    form_schema = fields.Dict(metadata={"description": "JSON schema the completion data must match"})
    values = fields.Dict(metadata={"description": "the values the form starts with"})


class TaskListArgs(PageArgs):
    scope = fields.String(load_default="all", validate=validate.OneOf(TASK_SCOPES), metadata={
        "description": "mine: assigned to me; claimable: unassigned in my roles' lanes; all: every open task I may see"})
    state = fields.String(load_default=TaskState.OPEN.value, validate=validate.OneOf([s.value for s in TaskState]))
    element_id = fields.String()
    lane = fields.String()
    case_id = id_field(strict=False)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    customer_id = id_field(strict=False)
    assignee = fields.String(metadata={"description": "user name"})


class VersionSchema(Schema):
    version = id_field(load_default=None, allow_none=True, metadata={
        "description": "the task version you saw; or send it as the If-Match header"})


class CompleteSchema(VersionSchema):
    data = fields.Dict(required=True, metadata={"description": "the form's fields"})


TaskPageSchema = page_schema(TaskSchema, "TaskPage")
