"""What a diagram's service tasks may ask of the application, registered by the rooms that own it.

A handler (``handlers/``) is called with a :class:`ServiceContext` and calls ``ctx.<operation>(...)``.
Each operation is a plain function ``fn(ctx, ...)`` that its room registers with :func:`operation`
(the SLA ladder in ``cases/sla/clock.py``, surveys and complaints in ``cases/casework/``, HQ reports in
``cases/outbox/hq.py`` ...); ``cases/wiring.py`` imports every registering module once, and
``cases/process/runs.py`` hands each engine run a context for its case. So the process room, which
runs the engine, never imports the rooms above it whose operations a step may call.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cases.core.models import Case, User

Operation = Callable[..., Any]

#: operation name -> the function that does it (its first argument is the context)
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    """Register ``fn(ctx, ...)`` as the service operation ``name``."""
    def register(fn: Operation) -> Operation:
        if OPERATIONS.get(name, fn) is not fn:
            raise ValueError(f"service operation {name!r} registered twice")
        OPERATIONS[name] = fn
        return fn

    return register


@dataclass
class ServiceContext:
    """The case being run and who runs it; ``ctx.<name>(...)`` calls the operation ``name``."""

    case: Case
    actor: User | None

    @property
    def case_id(self) -> int:
        return self.case.id

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            fn = OPERATIONS[name]
        except KeyError:
            raise AttributeError(f"no service operation {name!r}") from None
        return functools.partial(fn, self)
