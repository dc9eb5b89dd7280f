"""Service-task operations, registered by name; the engine calls them through the registry.

A handler is a plain function ``handler(ctx, **params)`` returning JSON-able data. ``ctx`` is
the service context the caller passes in (see ``cases.runtime.ServiceContext``): handlers never
import the database or Flask themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

REGISTRY: dict[str, Callable[..., Any]] = {}


def operation(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"operation {name!r} registered twice")
        REGISTRY[name] = fn
        return fn

    return register


from handlers import assignment, feedback, hq, sla  # noqa: F401  (register their operations)
