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


# -- the training session's process (processes/training_session.bpmn) ----------------------------
def _session_id(session_id: Any) -> int:
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        raise HandlerError("bad_parameter", "the training steps need the process variable 'session_id' (a number)")
    return session_id


@operation("training_invitations")
def training_invitations(ctx: Services, session_id: Any = None, invite: Any = True) -> dict[str, Any]:
    """The session is planned: its invitations are mailed (``invite`` false: they went out already)."""
    return ctx.training_invitations(_session_id(session_id), bool(invite))


@operation("training_reminder")
def training_reminder(ctx: Services, session_id: Any = None) -> dict[str, Any]:
    """The reminder moment: the reminder is mailed once; ``cancelled``, and ``session_end`` for the next timer."""
    return ctx.training_reminder(_session_id(session_id))


@operation("training_attendance_due")
def training_attendance_due(ctx: Services, session_id: Any = None) -> dict[str, Any]:
    """The session's end: "Record attendance" is the trainer's; ``cancelled`` ends the process."""
    return ctx.training_attendance_due(_session_id(session_id))


@operation("apply_training_attendance")
def apply_training_attendance(ctx: Services, session_id: Any = None, entries: Any = None) -> dict[str, Any]:
    """The attendance task's entries written to the session; ``absentees`` waiting for a follow-up."""
    if not isinstance(entries, list):
        raise HandlerError("bad_parameter", "apply_training_attendance: 'entries' must be a list")
    return ctx.apply_training_attendance(_session_id(session_id), entries)


@operation("apply_training_follow_up")
def apply_training_follow_up(ctx: Services, session_id: Any = None, decisions: Any = None) -> dict[str, Any]:
    """The follow-up decisions written: each absentee moved to a later session or excused."""
    if not isinstance(decisions, list):
        raise HandlerError("bad_parameter", "apply_training_follow_up: 'decisions' must be a list")
    return ctx.apply_training_follow_up(_session_id(session_id), decisions)
