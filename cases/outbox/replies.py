"""Replies reach the customer on the channel they used.

What goes out, and when, is drawn in the process: a user task or a catch event with the
property ``customerNotice`` tells the customer something when it is reached (the task opens, the
process begins to wait) — ``information_request`` (the process waits for the customer's answer;
``customerNoticeText`` names the variable holding the question) or ``resolution`` (the customer
is to confirm; the text is the case's solution, or the variable ``customerNoticeText`` names).
Staff write to the customer from the case with :func:`staff_reply`.

How it goes out depends on the case's channel (:func:`route`):

- ``email`` — a mail to the address the case came from, threaded into the customer's mail
  conversation (In-Reply-To / References, the case number in the subject), so their answer
  threads back (cases/channels/mail_in.py);
- ``chat`` / ``im`` — a post to the conversation on the chat platform (cases/outbox/chat_posts.py);
- ``phone`` — no mail the customer never asked for: a ``call_customer`` note on the case for
  the front line (call back, then log the call: ``POST /calls`` with ``customer_reply``);
- anything else (web, VIP) — a mail to the reporting user, else the contact address; with
  neither, the ``call_customer`` note.

Every notice is one public ``customer_notified`` event in the case history (what, how, to whom).
All of it is written in the caller's unit of work: a step that rolls back tells nobody.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import func, select

from cases.core import events
from cases.core.access import FRONT_LINE_ROLES, require_role, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict
from cases.core.models import Case, User, utcnow
from cases.outbox import chat_posts as chat_out
from cases.outbox import mail_templates, notifications
from cases.outbox.models import ChannelThread, Notification

NOTICE_PROPERTY = "customerNotice"
NOTICE_TEXT_PROPERTY = "customerNoticeText"
#: the notices a diagram may name, and the variable each reads by default
NOTICE_KINDS = {"information_request": "question", "resolution": "solution"}
MAIL, CHAT, CALL = "mail", "chat", "call"
MAX_REFERENCES = 10


@dataclass(frozen=True)
class Route:
    via: str  # mail | chat | call
    address: str | None = None
    conversation: chat_out.Conversation | None = None

    @property
    def to(self) -> str | None:
        if self.conversation is not None:
            return f"{self.conversation.platform}:{self.conversation.conversation_id}"
        return self.address


def route(case: Case) -> Route:
    """How a reply on ``case`` reaches its customer (see the module's docstring)."""
    if case.channel in chat_out.CHAT_CHANNELS:
        conversation = chat_out.conversation_of(case)
        if conversation is not None:
            return Route(CHAT, conversation=conversation)
    if case.channel == "phone":
        return Route(CALL)
    address = case.contact_email if case.channel == "email" else None
    if address is None and case.reporter_id is not None:
        reporter = db.session.get(User, case.reporter_id)
        address = reporter.email if reporter is not None and reporter.active else None
    address = address or case.contact_email
    return Route(MAIL, address=address) if address else Route(CALL)


def thread_headers(case: Case, address: str) -> tuple[str | None, str | None]:
    """(In-Reply-To, References) for a mail on ``case`` to ``address``: the customer's mails on
    the case and caseflow's earlier mails to them, oldest first; the reply answers the latest
    mail of the customer, else caseflow's latest. Ours count from when they were sent."""
    inbound = db.session.execute(select(ChannelThread.created_at, ChannelThread.external_id).where(
        ChannelThread.case_id == case.id, ChannelThread.channel == "email")).all()
    outbound = db.session.execute(select(func.coalesce(Notification.sent_at, Notification.created_at),
                                         Notification.message_id).where(
        Notification.case_id == case.id, Notification.recipient == address,
        Notification.message_id.is_not(None))).all()
    ids = [mid for _at, mid in sorted(inbound + outbound, key=lambda row: row[0])][-MAX_REFERENCES:]
    if not ids:
        return None, None
    parent = sorted(inbound)[-1][1] if inbound else ids[-1]
    return parent, " ".join(ids)


def _values(case: Case, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {"case_number": case.number, "title": case.title,
            "link": notifications.case_link(case, notifications.app_settings().base_url), **extra}


def notify(case: Case, kind: str, values: Mapping[str, Any], actor: User | None) -> Route:
    """Tell the customer of ``case`` (a ``kind`` of notice, filled with ``values``) on their channel."""
    values = _values(case, values)
    way = route(case)
    if way.via == MAIL:
        subject, body = mail_templates.render(kind, values)
        notifications.enqueue(kind, [way.address], subject, body, case=case,
                              thread=thread_headers(case, way.address))
    elif way.via == CHAT:
        chat_out.enqueue(way.conversation, kind, mail_templates.render_chat(kind, values), case=case)
    else:
        events.record(case, "call_customer", actor, public=False, notice=kind, phone=case.contact_phone,
                      contact=case.contact_name, text=mail_templates.render_chat(kind, values))
    events.record(case, "customer_notified", actor, public=True, notice=kind, via=way.via, to=way.to)
    case.updated_at = utcnow()
    return way


# -- notices drawn in the process ----------------------------------------------------------------

def _days(duration: Any, default: int = 7) -> int:
    match = re.fullmatch(r"P(\d+)D", str(duration or ""))
    return int(match.group(1)) if match else default


def on_step(case: Case, reached: Iterable[Mapping[str, str]], data: Mapping[str, Any], actor: User | None) -> None:
    """The elements a step reached, by their properties: send the notices they name."""
    for properties in reached:
        kind = properties.get(NOTICE_PROPERTY)
        if kind not in NOTICE_KINDS:
            continue
        variable = properties.get(NOTICE_TEXT_PROPERTY) or NOTICE_KINDS[kind]
        text = data.get(variable)
        if kind == "resolution":
            text = text or case.solution or "-"
            notify(case, kind, {"solution": text, "confirm_days": _days(data.get("confirm_wait"))}, actor)
        else:
            notify(case, kind, {"request": text or "-"}, actor)


# -- staff write to the customer -------------------------------------------------------------------

@use_case
def staff_reply(user: User, case_id: int, text: str) -> Route:
    """A staff member's message to the customer of an open case, sent on the case's channel."""
    require_role(user, *FRONT_LINE_ROLES)
    case = visible_case(user, case_id)
    if not case.is_open:
        raise Conflict(f"case {case.number} is closed", code="case_closed")
    events.record(case, "staff_reply", user, public=True, text=text)
    return notify(case, "staff_reply", {"text": text, "author": user.display_name}, user)
