"""The SLA clock as the API shows it (a case's detail, its clock, the escalation queue)."""
from __future__ import annotations

from marshmallow import Schema, fields


class SlaTargetSchema(Schema):
    kind = fields.String(metadata={"description": "first_response | next_update | resolution"})
    cycle = fields.Integer(metadata={"description": "next_update starts again after each wait on the customer"})
    status = fields.String(metadata={"description": "running | paused | at_risk | breached | met | cancelled"})
    state = fields.String(metadata={"description": "the clock itself: running | paused | met | cancelled"})
    calendar = fields.String()
    target_minutes = fields.Integer(metadata={"description": "business minutes the policy promised"})
    extended_minutes = fields.Integer(metadata={"description": "business minutes supervisors added"})
    started_at = fields.DateTime()
    warning_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    manager_at = fields.DateTime(allow_none=True)
    ladder = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": "the policy's drawn ladder: each rung with its instant 'at' (null: warning, breach, manager)"})
    met_at = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime(allow_none=True)
    elapsed_seconds = fields.Integer(metadata={"description": "business time used (pauses excluded)"})
    remaining_seconds = fields.Integer(metadata={"description": "negative once breached"})


class SlaPauseSchema(Schema):
    reason = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


class SlaClockSchema(Schema):
    paused = fields.Boolean()
    policy_version = fields.Integer(allow_none=True, metadata={"description": "0: the built-in policy"})
    targets = fields.List(fields.Nested(SlaTargetSchema))
    pauses = fields.List(fields.Nested(SlaPauseSchema))
