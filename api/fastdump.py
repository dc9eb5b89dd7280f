"""A schema's dump compiled once into plain Python: the same dict as ``Schema.dump``, faster.

Marshmallow serialises each field through several calls (``serialize`` → ``get_value`` →
``get_attribute`` → ``utils.get_value`` → ``_serialize``): for a page of 50 tasks with their case
that is most of the request's CPU (bench/volume-explain.md). ``compile_dump(schema)`` reads the
schema's fields once and returns a function that does, per field, what that field's
``serialize`` does, for the fields whose serialisation is plain:

- ``String``: None stays None, bytes are decoded, anything else ``str()``;
- ``Integer`` (not ``as_string``): None stays None, else ``int()``;
- ``DateTime`` in the ISO format (the default): None stays None, else ``datetime.isoformat``;
- ``Function``: the function of the object;
- ``Nested`` and ``List`` of ``Nested``: the nested schema compiled the same way;

reading the attribute as marshmallow does (a ``dict``'s key first, else the attribute; a missing
one takes the field's ``dump_default`` or leaves the key out). Any other field, a subclass of
these, a dotted attribute, a schema with ``pre_dump``/``post_dump`` hooks or its own
``get_attribute``, or an object marshmallow would index (other than a ``dict``) goes through
marshmallow itself: the result is the same dict either way (tests/api/test_fastdump.py holds the
two against each other). The schema stays what the OpenAPI document describes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from flask import current_app
from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Dump = Callable[[Any], Any]
_ISO = (None, "iso", "iso8601")


def compile_dump(schema: Schema) -> Dump:
    """A function giving ``schema.dump(obj)`` for one object (``schema.many`` is not compiled)."""
    if schema.many or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] \
            or type(schema).get_attribute is not Schema.get_attribute or schema.dict_class is not dict:
        return cast(Dump, schema.dump)
    steps = [(field.data_key if field.data_key is not None else name, _compile_field(schema, name, field))
             for name, field in schema.dump_fields.items()]

    def dump(obj: Any) -> Any:
        if hasattr(obj, "__getitem__") and type(obj) is not dict:
            return schema.dump(obj)  # marshmallow indexes such objects first: leave it to do so
        result = {}
        for key, step in steps:
            value = step(obj)
            if value is not missing:
                result[key] = value
        return result

    return dump


def _compile_field(schema: Schema, name: str, field: fields.Field[Any]) -> Dump:
    def generic(obj: Any) -> Any:
        return field.serialize(name, obj, accessor=schema.get_attribute)

    if isinstance(field, fields.Function) and type(field) is fields.Function and field.serialize_func is not None:
        return cast(Dump, field.serialize_func)
    attribute = name if field.attribute is None else field.attribute
    if "." in attribute:
        return generic
    convert = _converter(field)
    if convert is None:
        return generic
    default = field.dump_default

    def step(obj: Any) -> Any:
        if type(obj) is dict:
            value = obj[attribute] if attribute in obj else getattr(obj, attribute, missing)
        else:
            value = getattr(obj, attribute, missing)
        if value is missing:
            value = default() if callable(default) else default
            if value is missing:
                return missing
        return None if value is None else convert(value)

    return step


def _converter(field: fields.Field[Any]) -> Dump | None:
    """What the field's ``_serialize`` does to a value that is not None (None: not compiled);
    only these classes themselves, not their subclasses (which may serialise otherwise)."""
    kind = type(field)
    if kind is fields.String:
        return lambda value: value if type(value) is str else \
            value.decode("utf-8") if isinstance(value, bytes) else str(value)
    if isinstance(field, fields.Integer) and kind is fields.Integer and not field.as_string:
        return lambda value: value if type(value) is int else int(value)
    if isinstance(field, fields.DateTime) and kind is fields.DateTime and field.format in _ISO:
        return dt.datetime.isoformat
    if isinstance(field, fields.Nested) and kind is fields.Nested and isinstance(field.nested, type | Schema) \
            and not field.many:
        nested = field.schema
        if nested.many:
            return None
        return compile_dump(nested)
    if isinstance(field, fields.List) and kind is fields.List:
        inner = field.inner
        if type(inner) is fields.Nested:
            each = _converter(inner)
            if each is None:
                return None
            return lambda value: [None if item is None else each(item) for item in value]
        return None
    return None


def json_response(dump: Dump, obj: Any) -> Any:
    """The response flask-smorest builds from a dump (``jsonify``: the app's JSON provider)."""
    return current_app.json.response(dump(obj))
