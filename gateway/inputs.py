"""Input both entry points check the same way: ids within the columns' range, and a new case (the API's
``POST /cases`` body and the page's form are validated by one schema)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES

MAX_ID = 2**31 - 1


def id_field(strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An id: a whole number (strictly an integer in JSON bodies) within the column's range."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class CaseCreateSchema(Schema):
    customer_id = id_field(load_default=None, allow_none=True, metadata={
        "description": "Required for staff; customers open cases for their own organisation."})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    environment = fields.String(load_default=None, validate=validate.Length(max=10000))
    steps_to_reproduce = fields.String(load_default=None, validate=validate.Length(max=10000))
    category_hint = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    priority_hint = fields.String(load_default=None, validate=validate.OneOf(PRIORITIES))
    contact_name = fields.String(load_default=None, validate=validate.Length(max=200))
    contact_phone = fields.String(load_default=None, validate=validate.Length(max=50))
    contact_email = fields.Email(load_default=None, validate=validate.Length(max=254))
