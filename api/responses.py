"""Responses built by hand when the schema depends on who asks."""
from __future__ import annotations

from typing import Any

from flask import Response, json
from marshmallow import Schema


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
