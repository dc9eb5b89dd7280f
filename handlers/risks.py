"""The risk review process's steps (processes/risk_review.bpmn): making a review due on its date and
applying the owner's review to the register. The register (cases/service/risks.py) does both."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation


def _risk_id(risk_id: Any) -> int:
    if not isinstance(risk_id, int) or isinstance(risk_id, bool):
        raise HandlerError("bad_parameter", "the risk review steps need the process variable 'risk_id' (a number)")
    return risk_id


@operation("risk_review_due")
def risk_review_due(ctx: Services, risk_id: Any = None) -> dict[str, Any]:
    """The review date has come: ``open`` says whether the risk is still open (then its owner has the
    review task and a mail); a risk closed meanwhile ends the process."""
    return ctx.risk_review_due(_risk_id(risk_id))


@operation("apply_risk_review")
def apply_risk_review(ctx: Services, risk_id: Any = None, outcome: Any = None, level: Any = None, note: Any = None,
                      next_review_on: Any = None) -> dict[str, Any]:
    """Record the review form's outcome (keep, change_level, close) in the register: ``closed``, and
    otherwise ``review_due``, the moment of the next review, and the ``level`` now."""
    if outcome not in ("keep", "change_level", "close"):
        raise HandlerError("bad_parameter", "apply_risk_review: 'outcome' must be keep, change_level or close")
    return ctx.apply_risk_review(_risk_id(risk_id), outcome, level, note, next_review_on)
