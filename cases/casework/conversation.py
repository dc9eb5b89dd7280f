"""The conversation of a case in the customer's words: what they reported, what support asked and
what they answered, the solution, replies both ways — and the customer writing to support at any
time.

Staff and customers read the same thread (``thread``): it is built from the history, so a question
stays readable after it was answered. ``write_to_support`` is the customer's message: when the
case waits for the customer (a request for information or for data) it is the answer and wakes the
waiting step; otherwise it is a message on the timeline for the case's owner, who hears of it by
mail. One transaction either way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cases.casework.queries import HistoryEvent
from cases.casework.tasks import deliver_message
from cases.core import events
from cases.core.access import FRONT_LINE_ROLES, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Forbidden, ValidationFailed
from cases.core.models import Case, CaseEvent, User
from cases.outbox import notifications

#: a step's form fields that ask the customer something
QUESTION_FIELDS = ("question", "data_request")
#: what the case waits for, by stage: the message a customer's text answers
WAITING_FOR = {"waiting:customer_reply": "customer_reply", "waiting:customer_data": "customer_data"}
MAX_TEXT = 20000


@dataclass(frozen=True)
class Said:
    """One message of the thread: ``by`` is ``customer`` or ``support``; ``kind`` is ``report``,
    ``question``, ``answer``, ``solution``, ``reply`` or ``message``."""

    at: datetime
    by: str
    kind: str
    text: str
    author: User | None


def _text(payload: Any) -> str | None:
    if isinstance(payload, dict):
        payload = payload.get("text")
    return payload if isinstance(payload, str) and payload.strip() else None


def _said(event: CaseEvent | HistoryEvent) -> Said | None:
    data = event.data or {}
    if event.kind == "task_completed":
        raw = data.get("data")
        done: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for name in QUESTION_FIELDS:
            if isinstance(done.get(name), str) and done[name].strip():
                return Said(event.at, "support", "question", done[name], event.actor)
        if done.get("outcome") in ("resolved", "advised") and isinstance(done.get("solution"), str) and done["solution"]:
            return Said(event.at, "support", "solution", done["solution"], event.actor)
        return None
    if event.kind in ("message_received", "customer_message"):
        text = _text(data.get("payload")) or _text(data.get("text"))
        if text is None:
            return None
        kind = "answer" if data.get("message") in WAITING_FOR.values() else "message"
        return Said(event.at, "customer", kind, text, event.actor)
    if event.kind == "staff_reply" and isinstance(data.get("text"), str):
        return Said(event.at, "support", "reply", data["text"], event.actor)
    return None


#: the kinds of event ``_said`` reads (the others say nothing in the thread)
SAID_KINDS = ("task_completed", "message_received", "customer_message", "staff_reply")


def thread(user: User, case_id: int, history: Sequence[CaseEvent | HistoryEvent] | None = None) -> list[Said]:
    """The case's conversation, oldest first (the report first). ``history``: the case's whole
    history in its order (``CaseEvent.at, id``) when the caller has read it already (the staff case
    page); else the events of the kinds that say something are read."""
    case = visible_case(user, case_id)
    if history is None:
        history = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                             CaseEvent.kind.in_(SAID_KINDS))
                                     .order_by(CaseEvent.at, CaseEvent.id)).all()
    said = [Said(case.created_at, "customer", "report", case.description, None)]
    said += [s for s in map(_said, history) if s is not None]
    return said


def waiting_message(case: Case) -> str | None:
    """The message the case waits for from its customer now (None: it waits for nothing of theirs)."""
    return WAITING_FOR.get(case.stage)


@use_case
def write_to_support(user: User, case_id: int, text: str) -> tuple[Case, bool]:
    """The customer (or front-line staff for them) writes to support. Returns (case, answered):
    ``answered`` when the text answered what the case was waiting for."""
    if not (user.is_customer or user.has_role(*FRONT_LINE_ROLES)):
        raise Forbidden("only the customer, or front-line staff for them, write as the customer")
    case = visible_case(user, case_id)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("the message is empty", [{"field": "text", "message": "write a message"}])
    if len(text) > MAX_TEXT:
        raise ValidationFailed("the message is too long", [{"field": "text", "message": f"at most {MAX_TEXT} characters",
                                                            "rule": "maxLength", "limit": MAX_TEXT}])
    message = waiting_message(case)
    if message is not None:
        return deliver_message(case, user, message, {"text": text}), True
    if not case.is_open:
        raise ValidationFailed("the case is closed", [{"field": "text", "message": "the case is closed"}])
    events.record(case, "customer_message", user, public=True, text=text)
    if case.owner is not None:
        notifications.enqueue("customer_message", [case.owner],
                              f"[{case.number}] 客户来信 / The customer wrote: {case.title}",
                              f"{user.display_name}:\n\n{text}\n", case=case)
    return case, False
