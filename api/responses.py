"""Responses built by hand when the schema depends on who asks."""
from __future__ import annotations

from typing import Any

from flask import Response, json, request
from marshmallow import Schema

from cases.core.errors import ValidationFailed


def dumped(schema: Schema, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(schema.dump(obj)), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class Overlay:
    """``base`` read with a few attributes added, for schemas that combine an object with more."""

    def __init__(self, base: Any, **extra: Any):
        self._base = base
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def if_match_version(what: str) -> int | None:
    """The version the client saw, from ``If-Match: "<version>"`` (None without the header);
    422 naming ``If-Match`` when it is not a version of ``what``, or a weak tag (``W/"2"``: a
    weak tag says "about the same", never enough to guard a write, RFC 9110 13.1.1)."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    if header.strip().startswith("W/"):
        raise ValidationFailed("weak If-Match", [{"field": "If-Match",
                                                  "message": f"a weak tag cannot guard a write: send the {what}'s "
                                                             "ETag as it came, without W/"}])
    value = header.strip().strip('"')
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise ValidationFailed("bad If-Match", [{"field": "If-Match", "message": f"expected a {what} version"}])
    return int(value)
