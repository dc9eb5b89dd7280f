"""Software update notices reach the affected customers before the update — by mail over a real
SMTP conversation, or on their chat conversation — and the cases waiting for the fix note it;
nobody else hears of it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from cases.core import accounts
from cases.core.db import db
from cases.core.models import CaseEvent, utcnow
from cases.customers.models import UpdateAnnouncement
from cases.outbox import chat_posts as chat_out
from cases.outbox import notifications
from cases.outbox.models import ChatPost, Notification
from tests.api.dbstate import db_snapshot
from tests.api.test_channels import chat
from tests.api.test_channels import webhook as channel_webhook
from tests.api.test_hq_webhook import Receiver
from tests.cases.outbox.test_notifications import settings_for
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import get_case, open_case, step
from tests.smtp_server import LocalSmtp

URL = "/api/v1/announcements"
webhook = channel_webhook  # the fixture: the signed inbound chat webhook


@pytest.fixture
def customers(world):
    """ACME and OTHER talk to us by mail (two ACME users, one without an address); VIPCO by chat."""
    accounts.create_user("acme_noaddress", PASSWORD, ["customer"], customer_code="ACME", hash_method=FAST_HASH)
    accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
    world.user("acme_user").email = "li.lei@acme.example"
    world.user("other_user").email = "han@other.example"
    world.user("vip_user").email = "vip@vipco.example"
    db.session.commit()
    return world


@pytest.fixture
def platform(app, monkeypatch):
    end = Receiver()
    monkeypatch.setitem(app.config, "CHAT_REPLY_URLS", f"wechat={end.url}")
    yield end
    end.close()


def waiting_for_the_fix(api, customer_id: int) -> dict:
    case = open_case(api, customer_id=customer_id, title="保存凭证时报错")
    step(api, case["id"], "classify", {"category": "software_bug", "priority": "high"})
    assert get_case(api, case["id"])["stage"] == "waiting:fixed_version"
    return case


def body(**overrides) -> dict:
    start = utcnow() + timedelta(days=3)
    return {"product": "财务软件", "version": "7.3.0", "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(), "timezone": "Asia/Shanghai",
            "notes_zh": "修复月末报表错误。", "notes_en": "Fixes the month-end report error.", **overrides}


def announced_events(case_id: int) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                           CaseEvent.kind == "update_announced")))


def test_an_update_reaches_the_named_customers_on_their_channel_and_no_one_else(api, customers, webhook, platform):
    acme_bug = waiting_for_the_fix(api, customers.customers["ACME"].id)
    other_bug = waiting_for_the_fix(api, customers.customers["OTHER"].id)
    webhook(chat("v-1", "报表打不开", conversation="vip-conv", customer_code="VIPCO"))

    r = api.post(URL, "supervisor", json=body(customer_codes=["VIPCO", "ACME"]))
    assert r.status_code == 201, r.json
    assert r.json["audience"] == "customers" and r.json["customer_codes"] == ["ACME", "VIPCO"]
    assert r.json["reached"] == {"customers": ["ACME", "VIPCO"], "mails": 1, "chat_posts": 1,
                                 "cases": [acme_bug["number"]], "unreachable": []}
    assert r.json["created_by"] == "supervisor"

    smtp = LocalSmtp().start()
    try:
        db.session.rollback()
        notifications.deliver_pending(settings=settings_for(smtp.port))
        mails = [m for m in smtp.messages() if m.message["X-Caseflow-Kind"] == "update_announcement"]
    finally:
        smtp.stop()
    [mail] = mails
    assert mail.rcpt_tos == ["li.lei@acme.example"]
    assert mail.message["Subject"] == "软件更新通知：财务软件 7.3.0 / Software update: 财务软件 7.3.0"
    content = mail.message.get_content()
    assert "尊敬的 Acme Ltd" in content and "修复月末报表错误。" in content and "Fixes the month-end" in content
    assert "(Asia/Shanghai)" in content

    assert chat_out.deliver_pending() == 1
    [arrived] = platform.received
    assert arrived["body"]["conversation_id"] == "vip-conv" and arrived["body"]["kind"] == "update_announcement"
    assert arrived["body"]["announcement_id"] == r.json["id"] and "7.3.0" in arrived["body"]["text"]

    [event] = announced_events(acme_bug["id"])
    assert event.public and event.data["version"] == "7.3.0" and event.data["announcement_id"] == r.json["id"]
    assert any(e["kind"] == "update_announced" for e in get_case(api, acme_bug["id"], "acme_user")["history"])
    assert announced_events(other_bug["id"]) == []
    listed = api.get(URL, "manager1")
    assert listed.status_code == 200 and [a["id"] for a in listed.json["items"]] == [r.json["id"]]


def test_all_customers_and_the_unreachable_ones(api, customers):
    r = api.post(URL, "manager1", json=body(all_customers=True))
    assert r.status_code == 201, r.json
    assert r.json["audience"] == "all" and r.json["customer_codes"] == []
    assert r.json["reached"]["customers"] == ["ACME", "OTHER", "VIPCO"]
    recipients = set(db.session.scalars(select(Notification.recipient).where(Notification.kind == "update_announcement")))
    assert recipients == {"li.lei@acme.example", "han@other.example", "vip@vipco.example"}

    customers.user("other_user").email = None
    db.session.commit()
    r = api.post(URL, "admin", json=body(customer_codes=["OTHER"]))
    assert r.status_code == 201 and r.json["reached"]["unreachable"] == ["OTHER"]
    assert r.json["reached"]["customers"] == []


def _written() -> tuple:
    with db.engine.connect() as conn:
        counts = tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                       for t in ("update_announcements", "notifications", "chat_posts", "audit_events"))
    return db_snapshot(), counts


@pytest.mark.parametrize("user", ["agent1", "consultant1", "owner", "acme_user"])
def test_other_roles_may_not_announce(api, customers, user):
    before = _written()
    r = api.post(URL, user, json=body(all_customers=True))
    assert r.status_code == 403 and r.json["code"] == "role_not_allowed"
    assert api.get(URL, user).status_code == 403
    assert _written() == before


@pytest.mark.parametrize("change, field", [
    ({"window_start": (utcnow() - timedelta(hours=1)).isoformat()}, "window_start"),
    ({"window_end": (utcnow() + timedelta(days=1)).isoformat()}, "window_end"),
    ({"window_start": "2030-01-01T09:00:00"}, "window_start"),  # no zone: ambiguous
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"customer_codes": ["ACME", "NOPE"]}, "customer_codes"),
    ({"customer_codes": []}, "customer_codes"),
    ({"customer_codes": ["ACME"], "all_customers": True}, "customer_codes"),
    ({"notes_zh": ""}, "notes_zh"),
    ({"version": None}, "version"),
])
def test_bad_announcements_are_refused_naming_the_field_and_nothing_is_written(api, customers, change, field):
    sent = {"customer_codes": ["ACME"], **body(), **change}
    before = _written()
    r = api.post(URL, "supervisor", json=sent)
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json["errors"]}, r.json
    assert _written() == before
    assert db.session.scalar(select(func.count()).select_from(UpdateAnnouncement)) == 0
    assert db.session.scalar(select(func.count()).select_from(ChatPost)) == 0


def test_the_chat_text_of_an_announcement_is_json_safe(api, customers, webhook, platform):
    webhook(chat("v-1", "hi", conversation="vip-conv", customer_code="VIPCO"))
    r = api.post(URL, "supervisor", json=body(customer_codes=["VIPCO"], notes_en='Quote " and \\ backslash'))
    assert r.status_code == 201
    assert chat_out.deliver_pending() == 1
    assert 'Quote " and \\ backslash' in json.loads(platform.received[0]["raw"])["text"]
