"""Chat / IM webhook (HMAC-signed) and hotline calls: they open and continue cases in the same
process as every other channel."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from api.resources.channels import signature
from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.outbox.models import ChannelThread
from tests.api.dbstate import db_snapshot
from tests.helpers import get_case, only_task, step

SECRET = "s3cret-for-tests"
URL = "/api/v1/channels/chat/messages"


@pytest.fixture
def webhook(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CHAT_WEBHOOK_SECRET", SECRET)
    client = app.test_client()

    def post(message: dict | bytes, *, secret: str | None = SECRET, stamp: int | None = None, headers=None):
        body = message if isinstance(message, bytes) else json.dumps(message, ensure_ascii=False).encode()
        stamp = int(time.time()) if stamp is None else stamp
        sent = {"Content-Type": "application/json", "X-Caseflow-Timestamp": str(stamp)}
        if secret is not None:
            sent["X-Caseflow-Signature"] = signature(secret, str(stamp), body)
        sent.update(headers or {})
        return client.post(URL, data=body, headers=sent)

    return post


def chat(message_id: str, text: str, conversation: str = "conv-1", **extra) -> dict:
    return {"platform": "wechat", "conversation_id": conversation, "message_id": message_id,
            "customer_code": "ACME", "sender": {"name": "张伟", "phone": "+86 138 0000 0000"},
            "text": text, **extra}


def case_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def history_kinds(case_id: int) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def to_waiting_for_reply(api, case_id: int) -> None:
    step(api, case_id, "classify", {"category": "data_problem", "priority": "medium"})
    step(api, case_id, "assign", {"owner": "consultant1", "due_at": "2030-01-01T09:00:00+00:00"}, as_user="agent1")
    task = only_task(api, case_id)
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "consultant1",
                 json={"version": task["version"], "data": {**_resolve_data(task), "outcome": "need_info",
                                                           "question": "Which version?"}})
    assert r.status_code == 200, r.json
    assert get_case(api, case_id)["stage"] == "waiting:customer_reply"


def _resolve_data(task: dict) -> dict:
    from tests.helpers import DATA
    return dict(DATA[task["element_id"]])


def test_a_chat_message_opens_a_case_and_a_retry_changes_nothing(api, webhook):
    r = webhook(chat("m-1", "月末报表打不开\n提示对象引用未设置"))
    assert r.status_code == 200, r.json
    assert r.json["outcome"] == "opened" and r.json["stage"] == "classifying"
    case = get_case(api, r.json["case_id"])
    assert (case["channel"], case["title"], case["contact_name"]) == ("im", "月末报表打不开", "张伟")
    assert case["description"].startswith("月末报表打不开")
    assert case["customer"]["code"] == "ACME"

    again = webhook(chat("m-1", "月末报表打不开"))
    assert again.status_code == 200 and again.json == {**r.json, "outcome": "duplicate"}
    assert case_count() == 1


def test_further_messages_continue_the_case_and_answer_a_waiting_process(api, webhook):
    case_id = webhook(chat("m-1", "Export fails")).json["case_id"]
    r = webhook(chat("m-2", "It also fails on Tuesdays"))
    assert (r.json["case_id"], r.json["outcome"]) == (case_id, "appended")
    [appended] = [e for e in get_case(api, case_id, "acme_user")["history"] if e["kind"] == "customer_message"]
    assert appended["data"]["text"] == "It also fails on Tuesdays"

    to_waiting_for_reply(api, case_id)
    r = webhook(chat("m-3", "Version 7.2, log attached"))
    assert (r.json["case_id"], r.json["outcome"], r.json["stage"]) == (case_id, "replied", "in_progress")
    resolve = only_task(api, case_id)
    assert resolve["element_id"] == "resolve"
    assert "message_received" in history_kinds(case_id)


def test_a_message_after_the_case_closed_opens_a_new_case_on_the_same_conversation(api, webhook):
    first = webhook(chat("m-1", "Printer offline")).json["case_id"]
    db.session.execute(db.update(Case).where(Case.id == first).values(status="closed"))
    db.session.commit()
    r = webhook(chat("m-2", "Printer offline again"))
    assert r.json["outcome"] == "opened" and r.json["case_id"] != first
    thread = db.session.scalar(select(ChannelThread).execution_options(populate_existing=True))
    assert thread.case_id == r.json["case_id"] and thread.external_id == "wechat:conv-1"


@pytest.mark.parametrize("how", ["missing", "wrong_secret", "stale", "tampered", "unconfigured"])
def test_a_bad_signature_is_refused_and_creates_nothing(app, webhook, monkeypatch, how):
    before = db_snapshot()
    message = chat("m-1", "hello")
    if how == "missing":
        r = webhook(message, secret=None)
    elif how == "wrong_secret":
        r = webhook(message, secret="guess")
    elif how == "stale":
        r = webhook(message, stamp=int(time.time()) - 3600)
    elif how == "tampered":
        stamp = int(time.time())
        body = json.dumps(message).encode()
        r = app.test_client().post(URL, data=body.replace(b"hello", b"HELLO"), headers={
            "Content-Type": "application/json", "X-Caseflow-Timestamp": str(stamp),
            "X-Caseflow-Signature": signature(SECRET, str(stamp), body)})
    else:
        monkeypatch.setitem(app.config, "CHAT_WEBHOOK_SECRET", None)
        r = webhook(message)
    assert r.status_code == 401 and r.json["code"] == "unauthenticated", r.json
    assert db_snapshot() == before


def test_signed_bad_input_is_named(webhook):
    before = db_snapshot()
    r = webhook(chat("m-1", "hello", customer_code="NOPE"))
    assert r.status_code == 422 and "customer_code" in str(r.json)
    r = webhook({"platform": "wechat", "conversation_id": "c", "message_id": "m", "customer_code": "ACME"})
    assert r.status_code == 422 and "text" in str(r.json)
    r = webhook(b'{"platform": "wechat", ')
    assert r.status_code == 400 and r.json["code"] == "invalid_json"
    assert db_snapshot() == before


def test_an_agent_logs_calls_that_open_and_continue_cases(api, world):
    acme = world.customers["ACME"].id
    r = api.post("/api/v1/calls", "agent1", json={
        "customer_id": acme, "caller_name": "李雷", "number": "+86 10 1234 5678", "duration_seconds": 240,
        "notes": "客户反映：月末报表打不开。", "title": "月末报表打不开", "priority_hint": "high"})
    assert r.status_code == 201, r.json
    case_id = r.json["case"]["case_id"]
    assert r.json["case"]["outcome"] == "opened" and r.json["call"]["agent"] == "agent1"
    case = get_case(api, case_id)
    assert (case["channel"], case["contact_phone"], case["priority"]) == ("phone", "+86 10 1234 5678", "high")

    to_waiting_for_reply(api, case_id)
    r = api.post("/api/v1/calls", "agent2", json={
        "case_id": case_id, "duration_seconds": 60, "notes": "Customer says it is version 7.2",
        "customer_reply": True})
    assert r.status_code == 201 and r.json["case"]["outcome"] == "replied"
    assert only_task(api, case_id)["element_id"] == "resolve"
    calls = api.get(f"/api/v1/cases/{case_id}/calls", "supervisor").json
    assert [(c["agent"], c["duration_seconds"]) for c in calls] == [("agent1", 240), ("agent2", 60)]
    assert history_kinds(case_id).count("call_logged") == 2


def test_call_input_and_permissions(api, world):
    acme = world.customers["ACME"].id
    before = db_snapshot()
    cases = [
        ({"customer_id": acme, "duration_seconds": 10, "notes": "x"}, 422, "title"),
        ({"customer_id": 999999, "duration_seconds": 10, "notes": "x", "title": "t"}, 422, "customer_id"),
        ({"customer_id": acme, "duration_seconds": -1, "notes": "x", "title": "t"}, 422, "duration_seconds"),
        ({"customer_id": acme, "duration_seconds": 10, "notes": "x", "title": "t", "number": "<script>"}, 422, "number"),
        ({"case_id": 999999, "duration_seconds": 10, "notes": "x"}, 404, "case"),
    ]
    for body, status, named in cases:
        r = api.post("/api/v1/calls", "agent1", json=body)
        assert r.status_code == status and named in str(r.json), (body, r.json)
    for user in ("acme_user", "owner", "bizmanager"):
        r = api.post("/api/v1/calls", user, json={"customer_id": acme, "duration_seconds": 1, "notes": "x", "title": "t"})
        assert r.status_code == 403, user
    assert db_snapshot() == before
