"""Query parameters and the response envelope shared by the list endpoints."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A schema for {items, total, page, per_page} around ``item_schema``."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema)),
        "total": fields.Integer(), "page": fields.Integer(), "per_page": fields.Integer(),
    }, name=name)
