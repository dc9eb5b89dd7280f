"""Replies to chat customers go back to their conversation: posted to the platform's reply webhook
(a real HTTP server on 127.0.0.1), signed like the inbound webhook, retried with backoff."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import utcnow
from cases.outbox import chat_posts as chat_out
from cases.outbox.chat_posts import signature
from cases.outbox.models import ChatPost, Notification
from tests.api.test_channels import chat, to_waiting_for_reply
from tests.api.test_channels import webhook as channel_webhook
from tests.api.test_hq_webhook import Receiver
from tests.helpers import DATA, get_case, only_task

REPLY_SECRET = "reply-s3cret"
webhook = channel_webhook  # the fixture: the signed inbound chat webhook


@pytest.fixture
def platform(app, monkeypatch):
    """The chat platform's reply endpoint."""
    end = Receiver()
    monkeypatch.setitem(app.config, "CHAT_REPLY_URLS", f"wechat={end.url}, dingtalk=http://127.0.0.1:9/none")
    monkeypatch.setitem(app.config, "CHAT_REPLY_SECRET", REPLY_SECRET)
    monkeypatch.setitem(app.config, "CHAT_REPLY_TIMEOUT", 5)
    yield end
    end.close()


def posts(case_id: int | None = None) -> list[ChatPost]:
    db.session.rollback()
    db.session.expire_all()
    query = select(ChatPost).order_by(ChatPost.id)
    if case_id is not None:
        query = query.where(ChatPost.case_id == case_id)
    return list(db.session.scalars(query))


def verified(arrived: dict) -> dict:
    """The body, after checking the signature the way the platform's side would."""
    headers = arrived["headers"]
    assert headers["X-Caseflow-Signature"] == signature(REPLY_SECRET, headers["X-Caseflow-Timestamp"], arrived["raw"])
    assert headers["X-Caseflow-Signature"] != signature("wrong", headers["X-Caseflow-Timestamp"], arrived["raw"])
    return json.loads(arrived["raw"])


def test_a_staff_reply_is_posted_to_the_conversation_signed(api, webhook, platform):
    case_id = webhook(chat("m-1", "月末报表打不开")).json["case_id"]
    r = api.post(f"/api/v1/cases/{case_id}/replies", "agent1", json={"text": "请问是哪个版本？"})
    assert r.status_code == 201 and r.json == {"via": "chat", "to": "wechat:conv-1"}
    [row] = posts(case_id)
    assert (row.status, row.kind, row.url, row.attempts) == ("pending", "staff_reply", platform.url, 0)
    assert platform.received == []  # written with the step, posted afterwards

    assert chat_out.deliver_pending() == 1
    [arrived] = platform.received
    body = verified(arrived)
    assert arrived["headers"]["Idempotency-Key"] == f"caseflow-chat-{row.id}"
    assert {k: body[k] for k in ("post_id", "platform", "conversation_id", "kind")} == \
        {"post_id": row.id, "platform": "wechat", "conversation_id": "conv-1", "kind": "staff_reply"}
    assert body["case_number"] == get_case(api, case_id)["number"] and "请问是哪个版本？" in body["text"]
    [row] = posts(case_id)
    assert (row.status, row.response_status) == ("sent", 200)
    assert chat_out.deliver_pending() == 0 and len(platform.received) == 1  # nothing twice
    assert db.session.scalar(select(Notification.id)) is None  # and no mail


def test_a_failing_platform_is_retried_with_backoff_and_a_fresh_signature(api, webhook, platform):
    platform.statuses = [503, 200]
    case_id = webhook(chat("m-1", "Printer offline")).json["case_id"]
    api.post(f"/api/v1/cases/{case_id}/replies", "agent1", json={"text": "Restart the spooler, please."})
    now = utcnow()
    assert chat_out.deliver_pending(now=now) == 0
    [row] = posts(case_id)
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, 503)
    assert row.send_after == now + timedelta(minutes=1)
    assert chat_out.deliver_pending(now=now + timedelta(seconds=30)) == 0  # not due yet
    assert chat_out.deliver_pending(now=now + timedelta(minutes=2)) == 1
    first, second = platform.received
    assert verified(first) == verified(second)  # the same post, each signed when it went
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    [row] = posts(case_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_refusal_fails_the_post_and_a_platform_without_a_url_is_recorded_only(api, webhook, platform):
    platform.statuses = [400]
    case_id = webhook(chat("m-1", "Printer offline")).json["case_id"]
    api.post(f"/api/v1/cases/{case_id}/replies", "agent1", json={"text": "hello"})
    assert chat_out.deliver_pending() == 0
    [row] = posts(case_id)
    assert (row.status, row.last_error) == ("failed", "HTTP 400 Bad Request")

    other = webhook(chat("m-2", "Printer offline", conversation="c-9", platform="feishu")).json["case_id"]
    api.post(f"/api/v1/cases/{other}/replies", "agent1", json={"text": "hello"})
    [row] = posts(other)
    assert (row.status, row.url) == ("recorded", None)
    assert chat_out.deliver_pending() == 0 and len(platform.received) == 1


def test_the_process_notices_go_to_the_chat_and_chat_answers_move_the_process(api, webhook, platform):
    case_id = webhook(chat("m-1", "Export fails")).json["case_id"]
    to_waiting_for_reply(api, case_id)  # the consultant asks "Which version?"
    assert chat_out.deliver_pending() == 1
    request = verified(platform.received[-1])
    assert request["kind"] == "information_request" and "Which version?" in request["text"]

    r = webhook(chat("m-2", "Version 7.2"))
    assert (r.json["outcome"], r.json["stage"]) == ("replied", "in_progress")
    task = only_task(api, case_id)
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", "consultant1",
                    json={"version": task["version"], "data": {**DATA["resolve"], "solution": "升级到 7.2.1 即可。"}})
    assert done.status_code == 200, done.json
    assert chat_out.deliver_pending() == 1
    resolution = verified(platform.received[-1])
    assert resolution["kind"] == "resolution" and "升级到 7.2.1 即可。" in resolution["text"]

    r = webhook(chat("m-3", "已解决"))
    assert (r.json["outcome"], r.json["stage"]) == ("confirmed", "callback")
    assert [e["data"]["via"] for e in get_case(api, case_id, "acme_user")["history"]
            if e["kind"] == "customer_notified"] == ["chat", "chat"]


def test_operators_see_failed_posts_and_retry_them(api, app, webhook, platform, monkeypatch):
    platform.statuses = [400, 200]
    case_id = webhook(chat("m-1", "Printer offline")).json["case_id"]
    api.post(f"/api/v1/cases/{case_id}/replies", "agent1", json={"text": "hello"})
    chat_out.deliver_pending()
    r = api.get("/api/v1/chat-posts?status=failed", "supervisor")
    assert r.status_code == 200
    [failed] = r.json["items"]
    assert (failed["case_id"], failed["status"], failed["last_error"]) == (case_id, "failed", "HTTP 400 Bad Request")
    assert "hello" in failed["text"]

    assert api.post(f"/api/v1/chat-posts/{failed['id']}/retry", "supervisor").status_code == 403
    r = api.post(f"/api/v1/chat-posts/{failed['id']}/retry", "admin")
    assert r.status_code == 200 and (r.json["status"], r.json["attempts"]) == ("pending", 0)
    assert api.post(f"/api/v1/chat-posts/{failed['id']}/retry", "admin").json["code"] == "chat_post_not_failed"
    assert chat_out.deliver_pending() == 1
    assert [p.status for p in posts(case_id)] == ["sent"]

    # a post recorded for a platform without a URL goes out once the URL is configured
    other = webhook(chat("m-2", "hi", conversation="c-9", platform="feishu")).json["case_id"]
    api.post(f"/api/v1/cases/{other}/replies", "agent1", json={"text": "hello feishu"})
    [recorded] = posts(other)
    r = api.post(f"/api/v1/chat-posts/{recorded.id}/retry", "admin")
    assert r.status_code == 409 and r.json["code"] == "no_reply_url"
    monkeypatch.setitem(app.config, "CHAT_REPLY_URLS", f"feishu={platform.url}")
    assert api.post(f"/api/v1/chat-posts/{recorded.id}/retry", "admin").status_code == 200
    assert chat_out.deliver_pending() == 1 and verified(platform.received[-1])["text"].endswith("hello feishu")
    for user in ("agent1", "acme_user", "owner"):
        assert api.get("/api/v1/chat-posts", user).status_code == 403
    assert api.get("/api/v1/chat-posts?status=nonsense", "admin").status_code == 422
