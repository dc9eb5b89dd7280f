"""Cases from outside channels: chat and instant-messaging platforms, and the hotline.

A chat platform posts each customer message to one webhook (the API checks its HMAC signature
before anything here runs). A conversation is a *thread*: its first message opens a case in the
same support process as every other channel; later messages continue it — as the customer's
reply when the process waits for one, else as a public message in the case's history. A message
in a conversation whose case is closed opens a new case. A platform that posts the same message
again (a retry after a timeout) changes nothing: message ids are remembered.

Agents log hotline calls: a call opens a case or continues one (delivered as the customer's answer
when the process waits for it and the agent says so). Replies on hotline cases are not mailed: they
become call-backs (``pending_callbacks``) until an outbound call is logged on the case.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from cases.casework.intake import start_case
from cases.casework.tasks import answer_for_customer, deliver_message
from cases.channels.models import CallLog
from cases.core import events
from cases.core.access import FRONT_LINE_ROLES, require_role, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, ValidationFailed
from cases.core.models import Case, CaseEvent, CaseStatus, Customer, User, utcnow
from cases.outbox.models import ChannelMessage, ChannelThread

REPLY_MESSAGE = "customer_reply"
WAITING_FOR_REPLY = f"waiting:{REPLY_MESSAGE}"
#: the messages a customer's mail or chat message answers when the process waits for one
CUSTOMER_MESSAGES = (REPLY_MESSAGE, "customer_data")
#: the customer's confirmation task (the resolution notice asks for it); a reply whose first line
#: is one of these words answers it
CONFIRM_FORM = "confirm.schema.json"
CONFIRM_WORDS = frozenset({"已解决", "解决了", "已经解决", "确认", "确认解决", "是", "好", "好的", "yes",
                           "solved", "resolved", "confirm", "confirmed", "ok", "okay"})
REJECT_WORDS = frozenset({"未解决", "没解决", "没有解决", "还没解决", "不行", "否", "no", "not solved",
                          "not resolved", "unsolved", "reject", "rejected"})
PUNCTUATION = " \t.。!！,，;；:：~～"
#: chat platforms whose conversations are instant messaging (the case's channel "im")
IM_PLATFORMS = frozenset({"wechat", "qq", "wecom", "dingtalk", "feishu"})


@dataclass(frozen=True)
class Delivery:
    case: Case
    outcome: str  # opened | replied | confirmed | rejected | appended | duplicate


def _title(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return (first_line[:80] + "…") if len(first_line) > 80 else (first_line or "Chat conversation")


def _customer(code: str) -> Customer:
    customer = db.session.scalar(select(Customer).where(Customer.code == code))
    if customer is None or customer.internal:
        raise ValidationFailed("unknown customer", [{"field": "customer_code", "message": f"no customer {code!r}"}])
    return customer


def confirmation(text: str) -> bool | None:
    """A reply to the resolution notice: True if its first line says solved, False if it says not
    solved, None if it says neither (then it is an ordinary message)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    word = " ".join(first.strip().strip(PUNCTUATION).lower().split())
    if word in REJECT_WORDS:
        return False
    if word in CONFIRM_WORDS:
        return True
    return None


def _continue(case: Case, actor: User | None, text: str, payload: dict[str, Any]) -> str:
    """A further message on an open case: the customer's answer if the process waits for one
    (``customer_reply``, ``customer_data``), their confirmation or rejection if the case waits for
    it and the first line says so, else a message in the case's public history."""
    waiting = case.stage.removeprefix("waiting:") if case.stage.startswith("waiting:") else None
    if waiting in CUSTOMER_MESSAGES:
        deliver_message(case, actor, waiting, payload)
        return "replied"
    verdict = confirmation(text)
    if verdict is not None:
        comment = "\n".join(text.strip().splitlines()[1:]).strip() or text.strip()
        answer = {"confirmed": verdict, "confirmation_comment": comment[:5000]}
        if answer_for_customer(case, actor, CONFIRM_FORM, answer, payload["channel"]) is not None:
            return "confirmed" if verdict else "rejected"
    events.record(case, "customer_message", actor, public=True, **payload)
    case.updated_at = utcnow()
    return "appended"


@use_case
def chat_message(message: dict[str, Any]) -> Delivery:
    """One message from a chat platform (already authenticated by its signature)."""
    platform = message["platform"]
    channel = "im" if platform in IM_PLATFORMS else "chat"
    conversation = f"{platform}:{message['conversation_id']}"
    message_key = f"{platform}:{message['message_id']}"
    seen = db.session.scalar(select(ChannelMessage).where(ChannelMessage.channel == channel,
                                                          ChannelMessage.external_id == message_key))
    if seen is not None:
        return Delivery(db.session.get(Case, seen.case_id), "duplicate")
    sender = message.get("sender") or {}
    text = message["text"]
    payload = {"text": text, "channel": channel, "platform": platform, "sender": sender.get("name"),
               "sent_at": message["sent_at"].isoformat() if message.get("sent_at") else None}
    thread = db.session.scalar(select(ChannelThread).where(ChannelThread.channel == channel,
                                                           ChannelThread.external_id == conversation)
                               .with_for_update())
    case = db.session.get(Case, thread.case_id) if thread is not None else None
    if case is not None and case.is_open:
        customer = _customer(message["customer_code"])
        if customer.id != case.customer_id:
            raise Conflict("the conversation belongs to another customer's case", code="conversation_customer")
        outcome = _continue(case, None, text, payload)
    else:
        case = start_case(_customer(message["customer_code"]), None, {
            "channel": channel, "title": message.get("title") or _title(text), "description": text,
            "contact_name": sender.get("name"), "contact_phone": sender.get("phone"),
            "contact_email": sender.get("email")})
        events.record(case, "channel_conversation", None, platform=platform,
                      conversation_id=message["conversation_id"])
        outcome = "opened"
        if thread is None:
            db.session.add(ChannelThread(channel=channel, external_id=conversation, case_id=case.id))
        else:  # the earlier case was closed: the conversation now feeds the new one
            thread.case_id, thread.updated_at = case.id, utcnow()
    db.session.add(ChannelMessage(channel=channel, external_id=message_key, case_id=case.id))
    try:
        db.session.flush()
    except IntegrityError:  # the same conversation's first message, twice at once (PostgreSQL)
        raise Conflict("another message of this conversation is being taken in; send it again",
                       code="concurrent_message") from None
    return Delivery(case, outcome)


@use_case
def log_call(agent: User, call: dict[str, Any]) -> tuple[CallLog, Delivery]:
    """An agent logs a hotline call: it continues ``case_id`` or opens a case for ``customer_id``."""
    require_role(agent, *FRONT_LINE_ROLES)
    started_at: datetime = call.get("started_at") or utcnow()
    summary = {"caller": call.get("caller_name"), "number": call.get("number"),
               "direction": call["direction"], "duration_seconds": call["duration_seconds"]}
    if call.get("case_id") is not None:
        case = visible_case(agent, call["case_id"])
        if not case.is_open:
            raise Conflict(f"case {case.number} is closed; log the call on a new case", code="case_closed")
        waiting = case.stage.removeprefix("waiting:")
        if call.get("customer_reply") and waiting in CUSTOMER_MESSAGES:
            deliver_message(case, agent, waiting, {"text": call["notes"], "channel": "phone", **summary})
            outcome = "replied"
        else:
            outcome = "appended"
    else:
        if not call.get("title"):
            raise ValidationFailed("a call that opens a case needs a title",
                                   [{"field": "title", "message": "required when no case_id is given"}])
        customer = db.session.get(Customer, call["customer_id"]) if call.get("customer_id") else None
        if customer is None:
            raise ValidationFailed("unknown customer", [{"field": "customer_id", "message": "required: an existing customer"}])
        case = start_case(customer, agent, {
            "channel": "phone", "title": call["title"], "description": call["notes"],
            "contact_name": call.get("caller_name"), "contact_phone": call.get("number"),
            "category_hint": call.get("category_hint"), "priority_hint": call.get("priority_hint")})
        outcome = "opened"
    row = CallLog(case_id=case.id, agent_id=agent.id, agent=agent, direction=call["direction"],
                  caller_name=call.get("caller_name"), number=call.get("number"), started_at=started_at,
                  duration_seconds=call["duration_seconds"], notes=call["notes"])
    db.session.add(row)
    events.record(case, "call_logged", agent, **summary, notes=call["notes"])
    db.session.flush()
    return row, Delivery(case, outcome)


def calls_of(user: User, case_id: int) -> list[CallLog]:
    require_role(user, *FRONT_LINE_ROLES)
    case = visible_case(user, case_id)
    return list(db.session.scalars(select(CallLog).where(CallLog.case_id == case.id)
                                   .order_by(CallLog.started_at, CallLog.id)))


@dataclass(frozen=True)
class Callback:
    """A customer to call back: a reply on a hotline case (cases/outbox/replies.py ``call_customer``)."""

    case: Case
    note: CaseEvent


def pending_callbacks(user: User, limit: int = 200) -> list[Callback]:
    """The call-backs still to make, oldest first: ``call_customer`` notes on open cases with no
    outbound call logged on the case since."""
    require_role(user, *FRONT_LINE_ROLES)
    last_outbound = (select(CallLog.case_id, func.max(CallLog.created_at).label("at"))
                     .where(CallLog.direction == "outbound").group_by(CallLog.case_id).subquery())
    rows = db.session.execute(
        select(CaseEvent, Case).join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(last_outbound, last_outbound.c.case_id == CaseEvent.case_id)
        .where(CaseEvent.kind == "call_customer", Case.status == CaseStatus.OPEN.value,
               or_(last_outbound.c.at.is_(None), last_outbound.c.at < CaseEvent.at))
        .order_by(CaseEvent.at, CaseEvent.id).limit(limit)).all()
    return [Callback(case, note) for note, case in rows]
