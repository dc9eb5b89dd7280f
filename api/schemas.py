"""Schemas shared by several blueprints."""
from __future__ import annotations

from marshmallow import Schema, fields


def username_of(attribute: str) -> fields.Function:
    """The user name of a user-valued attribute (or None)."""
    return fields.Function(lambda obj: getattr(getattr(obj, attribute), "username", None))


class CustomerSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    tier = fields.String()


class TaskRefSchema(Schema):
    """A task as listed with a case or after a completion."""

    id = fields.String()
    element_id = fields.String()
    name = fields.String()
    lane = fields.String(allow_none=True)
    assignee = username_of("assignee")
    version = fields.Integer()
    created_at = fields.DateTime()
