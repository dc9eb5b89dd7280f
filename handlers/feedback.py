"""Callbacks, satisfaction surveys and complaints (processes/support_case.bpmn,
complaint_handling.bpmn, customer_follow_up.bpmn)."""
from __future__ import annotations

from typing import Any, Literal, overload

from engine.errors import HandlerError
from handlers import Services, operation

SURVEY_KINDS = ("callback", "complaint", "follow_up")
COMPLAINT_ORIGINS = ("case", "low_score")


@overload
def _text(name: str, value: Any, required: Literal[True] = ...) -> str: ...
@overload
def _text(name: str, value: Any, required: bool) -> str | None: ...
def _text(name: str, value: Any, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise HandlerError("bad_parameter", f"the {name} must be {'non-empty ' if required else ''}text")
    return value


@operation("business_deadline")
def business_deadline(ctx: Services, working_days: Any = None) -> str:
    """The instant that many working days from now (default calendar), e.g. a callback's due time."""
    if type(working_days) is not int or not 0 < working_days <= 60:
        raise HandlerError("bad_parameter", "business_deadline: working_days must be a whole number from 1 to 60")
    return ctx.business_deadline(working_days)


@operation("send_survey")
def send_survey(ctx: Services, kind: Any = None, milestone: Any = None) -> dict[str, Any]:
    """Create a satisfaction survey for the case and mail its link (no log-in needed)."""
    if kind not in SURVEY_KINDS:
        raise HandlerError("bad_parameter", f"send_survey: kind must be one of {', '.join(SURVEY_KINDS)}")
    if milestone is not None and type(milestone) is not int:
        raise HandlerError("bad_parameter", "send_survey: milestone must be a whole number of months")
    return ctx.send_survey(kind, milestone)


@operation("open_complaint")
def open_complaint(ctx: Services, origin: Any = None, reason: Any = None) -> dict[str, Any]:
    """Open a complaint (complaint_handling.bpmn) as a case linked to this one."""
    if origin not in COMPLAINT_ORIGINS:
        raise HandlerError("bad_parameter", f"open_complaint: origin must be one of {', '.join(COMPLAINT_ORIGINS)}")
    return ctx.open_complaint(origin, _text("reason", reason, required=False))


@operation("send_complaint_response")
def send_complaint_response(ctx: Services, response: Any = None, outcome: Any = None) -> dict[str, Any]:
    return ctx.send_complaint_response(_text("response", response), _text("outcome", outcome, required=False))


@operation("report_complaint_outcome")
def report_complaint_outcome(ctx: Services, outcome: Any = None, response: Any = None,
                             satisfaction: Any = None) -> dict[str, Any]:
    """The complaint is closed: tell the original case (its process may wait for it)."""
    score = satisfaction.get("score") if isinstance(satisfaction, dict) else None
    return ctx.report_complaint_outcome({"outcome": _text("outcome", outcome, required=False),
                                         "response": _text("response", response, required=False),
                                         "satisfaction": score})
