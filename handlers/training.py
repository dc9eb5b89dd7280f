"""Enrolling a re-trained user in the customer's next user training (the support process's
``enrol_in_training`` step after ``retrain_user``)."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation


@operation("enrol_for_training")
def enrol_for_training(ctx: Services, wanted: Any = False) -> dict[str, Any]:
    """When the re-training step asked for it (``wanted``), enrol the case's user in the customer's next
    planned user training; says whether it did and, if not, why (the step never fails for it)."""
    if not isinstance(wanted, bool):
        raise HandlerError("bad_parameter", "enrol_for_training: 'wanted' must be true or false")
    return ctx.enrol_for_training(wanted)
