"""The escalation step of an SLA ladder drawn in a diagram.

A non-interrupting cycle timer on ``sla_alarm`` leads to a service task calling
``sla_escalate``; its parameters say who hears of each rung (``case_owner``, ``supervisor``,
``manager`` or any role name). The application decides which rungs are due.
"""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation

LEVELS = ("warning", "breach", "manager")


@operation("sla_escalate")
def sla_escalate(ctx: Services, warning_to: str = "case_owner", breach_to: str = "supervisor",
                 manager_to: str = "manager") -> list[dict[str, Any]]:
    recipients = dict(zip(LEVELS, (warning_to, breach_to, manager_to), strict=False))
    for level, who in recipients.items():
        if not isinstance(who, str) or not who:
            raise HandlerError("bad_parameter", f"sla_escalate needs a recipient for the {level} rung")
    return ctx.escalate(recipients)


@operation("deadline_missed")
def deadline_missed(ctx: Services, step: Any = None) -> dict[str, Any]:
    """A task drawn with a deadline (a non-interrupting timer) is still open: note it on the case."""
    if not isinstance(step, str) or not step:
        raise HandlerError("bad_parameter", "deadline_missed needs the step's name")
    return ctx.deadline_missed(step)
