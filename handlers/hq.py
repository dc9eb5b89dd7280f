"""Reporting a software bug to the HQ product team, and recording the release that fixes it."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation


@operation("report_to_hq")
def report_to_hq(ctx: Services, category: Any = None, priority: Any = None, note: Any = None) -> dict[str, Any]:
    """Record the report (posted to the HQ webhook after the step commits); returns its id and status.
    ``category`` and ``priority`` are the process's (the case's fields follow after the step)."""
    for name, value in (("category", category), ("priority", priority), ("note", note)):
        if value is not None and not isinstance(value, str):
            raise HandlerError("bad_parameter", f"report_to_hq: the {name} must be text")
    return ctx.report_to_hq(category, priority, note)


@operation("record_fixed_version")
def record_fixed_version(ctx: Services, version: Any = None, notes: Any = None) -> dict[str, Any]:
    """HQ's answer (the ``fixed_version`` message) noted on the case's report."""
    if not isinstance(version, str) or not version.strip():
        raise HandlerError("bad_parameter", "the fixed_version message needs a 'version' (text)")
    return ctx.record_fixed_version(version, notes)
