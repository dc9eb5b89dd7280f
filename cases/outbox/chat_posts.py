"""Messages back to chat platforms: a reply or a notice for a conversation, posted to the
platform's reply webhook.

Writing. ``enqueue`` adds a ``chat_posts`` row in the caller's unit of work (an outbox, like the
mail's and the HQ reports'): a step that rolls back posts nothing, one that commits cannot lose
its post. The URL is the platform's entry of ``CHAT_REPLY_URLS`` when the row is written; a
platform without one gets its rows ``recorded`` only (visible to operators, never posted).

Delivering. ``deliver_pending`` posts due rows through the webhook outbox (cases/outbox/webhooks.py:
claim, POST outside any transaction, mark; backoff; at least once with
``Idempotency-Key: caseflow-chat-<post id>``). Every post is signed like the inbound webhook:
``X-Caseflow-Timestamp: <unix seconds>`` and ``X-Caseflow-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>.<raw body>">`` under ``CHAT_REPLY_SECRET`` (by default ``CHAT_WEBHOOK_SECRET``), so
the platform's side checks it with the code it would use to sign its own posts to caseflow.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import select

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound
from cases.core.models import Case, Role, User, utcnow
from cases.core.paging import Page, paginate
from cases.outbox import webhooks
from cases.outbox.models import ChannelThread, ChatPost
from cases.outbox.webhooks import FAILED, PENDING, RECORDED, SENT

STATUSES = (PENDING, SENT, FAILED, RECORDED)
READERS = (Role.ADMIN.value, Role.SUPERVISOR.value)
RETRIERS = (Role.ADMIN.value,)

#: the channels whose conversations are chat threads (cases/channels/inbound.py)
CHAT_CHANNELS = ("chat", "im")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of ``<timestamp>.<body>`` (both directions of chat)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def parse_urls(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``CHAT_REPLY_URLS``: ``platform=url`` pairs separated by commas (or a mapping)."""
    if isinstance(value, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in value.items() if str(v).strip()}
    urls = {}
    for pair in (value or "").split(","):
        platform, _, url = pair.partition("=")
        if platform.strip() and url.strip():
            urls[platform.strip()] = url.strip()
    return urls


@dataclass(frozen=True)
class ChatSettings:
    urls: dict[str, str] = field(default_factory=dict)
    secret: str | None = None
    timeout: float = 10.0
    max_attempts: int = 8


def app_settings() -> ChatSettings:
    config = current_app.config
    return ChatSettings(parse_urls(config.get("CHAT_REPLY_URLS")),
                        config.get("CHAT_REPLY_SECRET") or config.get("CHAT_WEBHOOK_SECRET") or None,
                        float(config.get("CHAT_REPLY_TIMEOUT", 10)), int(config.get("CHAT_REPLY_MAX_ATTEMPTS", 8)))


@dataclass(frozen=True)
class Conversation:
    platform: str
    conversation_id: str


def conversation_of(case: Case) -> Conversation | None:
    """The chat conversation feeding ``case`` (its latest), if it came in or continued by chat."""
    thread = db.session.scalar(select(ChannelThread).where(
        ChannelThread.case_id == case.id, ChannelThread.channel.in_(CHAT_CHANNELS))
        .order_by(ChannelThread.updated_at.desc(), ChannelThread.id.desc()).limit(1))
    return _conversation(thread)


def latest_conversation_of_customer(customer_id: int) -> Conversation | None:
    """The conversation of the customer's most recent chat case (for notices not about a case)."""
    thread = db.session.scalar(select(ChannelThread).join(Case, Case.id == ChannelThread.case_id).where(
        Case.customer_id == customer_id, ChannelThread.channel.in_(CHAT_CHANNELS))
        .order_by(ChannelThread.updated_at.desc(), ChannelThread.id.desc()).limit(1))
    return _conversation(thread)


def _conversation(thread: ChannelThread | None) -> Conversation | None:
    if thread is None:
        return None
    platform, _, conversation_id = thread.external_id.partition(":")
    return Conversation(platform, conversation_id)


def enqueue(conversation: Conversation, kind: str, text: str, case: Case | None = None,
            extra: dict[str, Any] | None = None, settings: ChatSettings | None = None) -> ChatPost:
    """Queue a message for a conversation in the caller's unit of work (no commit)."""
    settings = settings or app_settings()
    url = settings.urls.get(conversation.platform)
    now = utcnow()
    row = ChatPost(case_id=case.id if case is not None else None, kind=kind, platform=conversation.platform,
                   conversation_id=conversation.conversation_id, payload={}, url=url,
                   status=PENDING if url else RECORDED, attempts=0, created_at=now, send_after=now)
    db.session.add(row)
    db.session.flush()
    row.payload = {"post_id": row.id, "platform": conversation.platform,
                   "conversation_id": conversation.conversation_id, "kind": kind,
                   "case_number": case.number if case is not None else None, "text": text,
                   "created_at": now.isoformat(), **(extra or {})}
    return row


def outbox(settings: ChatSettings | None = None) -> webhooks.Outbox:
    settings = settings or app_settings()
    secret = settings.secret

    def sign(body: bytes) -> dict[str, str]:
        if not secret:
            return {}
        stamp = str(int(time.time()))
        return {"X-Caseflow-Timestamp": stamp, "X-Caseflow-Signature": signature(secret, stamp, body)}

    return webhooks.Outbox(ChatPost, "caseflow-chat", settings.timeout, settings.max_attempts, sign)


def deliver_pending(now: datetime | None = None, limit: int = 100, settings: ChatSettings | None = None) -> int:
    """Post up to ``limit`` due chat posts; returns how many the platforms accepted (call it
    outside a unit of work)."""
    return webhooks.deliver_pending(outbox(settings), now, limit)


def posts_of(case_id: int) -> list[ChatPost]:
    return list(db.session.scalars(select(ChatPost).where(ChatPost.case_id == case_id).order_by(ChatPost.id)))


# -- operators -------------------------------------------------------------------------------

def outbox_page(user: User, status: str | None = None, case_id: int | None = None,
                page: int = 1, per_page: int = 20) -> Page:
    """Chat posts, newest first (admin, supervisor): what was posted, what failed, what waits."""
    require_role(user, *READERS)
    query = select(ChatPost)
    if status is not None:
        query = query.where(ChatPost.status == status)
    if case_id is not None:
        query = query.where(ChatPost.case_id == case_id)
    return paginate(query.order_by(ChatPost.created_at.desc(), ChatPost.id.desc()), page, per_page)


@use_case
def retry(user: User, post_id: int) -> ChatPost:
    """Post a failed (or only recorded) message again, to the platform's reply URL as configured
    now, with a fresh budget of attempts (admin)."""
    require_role(user, *RETRIERS)
    row = db.session.scalar(select(ChatPost).where(ChatPost.id == post_id).with_for_update()
                            .execution_options(populate_existing=True))
    if row is None:
        raise NotFound(f"chat post {post_id} not found", resource="chat_post", id=post_id)
    if row.status not in (FAILED, RECORDED):
        raise Conflict(f"chat post {post_id} is {row.status}; only a failed or recorded one can be retried",
                       code="chat_post_not_failed")
    url = app_settings().urls.get(row.platform)
    if not url:
        raise Conflict(f"no reply URL is configured for {row.platform} (CHAT_REPLY_URLS)", code="no_reply_url",
                       platform=row.platform)
    audit.record(user, "retry_chat_post", row.id, platform=row.platform, status=row.status,
                 attempts=row.attempts, last_error=row.last_error)
    row.url, row.status, row.attempts, row.send_after = url, PENDING, 0, utcnow()
    return row
