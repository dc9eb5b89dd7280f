"""Outbound mail through a real SMTP server on localhost: the outbox, delivery, retries, operators."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db, unit_of_work
from cases.core.models import AuditEvent, Case
from cases.outbox import notifications
from cases.outbox.mailer import MailSettings
from cases.outbox.models import Notification
from server.cli import main
from tests.helpers import open_case
from tests.smtp_server import LocalSmtp, free_port

SENDER = "caseflow 服务单 <support@caseflow.test>"
T0 = datetime(2030, 1, 7, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def smtp():
    server = LocalSmtp().start()
    yield server
    server.stop()


def settings_for(port: int, **overrides) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, sender=SENDER, timeout=10,
                        base_url="https://support.example.test", **overrides)


@pytest.fixture
def staff(world):
    """Staff with addresses: supervisor and agent1; agent2 has none."""
    world.user("supervisor").email = "supervisor@example.test"
    world.user("agent1").email = "agent1@example.test"
    db.session.commit()
    return world


def rows() -> list[Notification]:
    return list(db.session.scalars(select(Notification).order_by(Notification.id)
                                   .execution_options(populate_existing=True)))


def queue(recipients, subject="测试 / test", body="正文\nbody", **kw) -> list[Notification]:
    with unit_of_work():
        return notifications.enqueue("test", recipients, subject, body, **kw)


def test_an_escalation_mail_arrives_bilingual_with_its_headers(api, staff, smtp):
    case = db.session.get(Case, open_case(api, customer_id=staff.customers["ACME"].id)["id"])
    due = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)  # 17:00 in Shanghai
    with unit_of_work():
        names = notifications.notify_escalation("breach", case, "resolution", due, "Asia/Shanghai",
                                                [staff.user("supervisor"), staff.user("agent2")],
                                                settings=settings_for(smtp.port))
    assert names == ["supervisor"]  # agent2 has no address

    assert notifications.deliver_pending(settings=settings_for(smtp.port)) == 1
    [got] = smtp.messages()
    [row] = rows()
    assert got.mail_from == "support@caseflow.test" and got.rcpt_tos == ["supervisor@example.test"]
    mail = got.message
    assert mail["From"].addresses[0].display_name == "caseflow 服务单"
    assert mail["To"] == "supervisor@example.test"
    assert mail["Subject"] == row.subject and "SLA 超时" in mail["Subject"] and case.number in mail["Subject"]
    assert mail["X-Caseflow-Case"] == case.number and mail["X-Caseflow-Kind"] == "sla_breach"
    # a long Message-ID may be folded onto a continuation line (RFC 5322): compare the id itself
    assert mail["Message-ID"].strip() == row.message_id and row.message_id.endswith("@caseflow.test>")
    assert mail["Date"] is not None
    body = mail.get_content()
    assert f"服务单 {case.number}「{case.title}」" in body and f'Case {case.number} "{case.title}"' in body
    assert body.index("服务单") < body.index("Case ")  # Chinese first
    assert "2030-01-07 17:00 (Asia/Shanghai)" in body
    assert f"https://support.example.test/api/v1/cases/{case.id}" in body
    assert (row.status, row.attempts, row.case_id, row.kind) == ("sent", 1, case.id, "sla_breach")
    assert row.sent_at is not None

    assert notifications.deliver_pending(settings=settings_for(smtp.port)) == 0  # nothing twice
    assert len(smtp.messages()) == 1


def test_a_rolled_back_step_queues_and_sends_nothing(app_ctx, staff, smtp):
    with pytest.raises(RuntimeError), unit_of_work():
        assert len(notifications.enqueue("test", [staff.user("supervisor")], "s", "b")) == 1
        raise RuntimeError("the step failed")
    assert rows() == []
    assert notifications.deliver_pending(settings=settings_for(smtp.port)) == 0
    assert smtp.messages() == []


def test_users_without_an_address_inactive_users_and_bad_addresses_are_skipped(app_ctx, staff):
    inactive = staff.user("agent1")
    inactive.active = False
    db.session.commit()
    queued = queue([staff.user("supervisor"), staff.user("agent2"), inactive, "not an address",
                    "Customer <customer@example.test>", "SUPERVISOR@example.test"])
    assert [(r.recipient, r.user_id) for r in queued] == [
        ("supervisor@example.test", staff.user("supervisor").id), ("customer@example.test", None)]
    assert [r.status for r in rows()] == ["pending", "pending"]


def test_an_unreachable_server_backs_off_then_delivers_when_it_is_back(app_ctx, staff):
    server = LocalSmtp(free_port())  # not started: the port is closed
    settings = settings_for(server.port)
    with freeze_time(T0, real_asyncio=True) as clock:
        queue([staff.user("supervisor")])
        assert notifications.deliver_pending(settings=settings) == 0
        [row] = rows()
        assert (row.status, row.attempts, row.send_after) == ("pending", 1, T0 + timedelta(minutes=1))
        assert "refused" in row.last_error.lower()

        clock.move_to(T0 + timedelta(minutes=1))
        assert notifications.deliver_pending(settings=settings) == 0
        [row] = rows()
        assert (row.attempts, row.send_after) == (2, T0 + timedelta(minutes=3))  # 1, then 2 minutes

        server.start()
        try:
            clock.move_to(T0 + timedelta(minutes=2))
            assert notifications.deliver_pending(settings=settings) == 0  # still waiting
            assert server.messages() == []
            clock.move_to(T0 + timedelta(minutes=3))
            assert notifications.deliver_pending(settings=settings) == 1
        finally:
            server.stop()
    [row] = rows()
    assert (row.status, row.attempts) == ("sent", 3)
    assert [m.message["Message-ID"].strip() for m in server.messages()] == [row.message_id]


def test_after_the_last_attempt_the_message_fails(app_ctx, staff):
    settings = settings_for(free_port(), max_attempts=2)
    queue([staff.user("supervisor")])
    at = datetime.now(timezone.utc)
    notifications.deliver_pending(now=at, settings=settings)
    notifications.deliver_pending(now=at + timedelta(minutes=1), settings=settings)
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", 2)
    assert notifications.deliver_pending(now=at + timedelta(days=1), settings=settings) == 0


def test_a_permanent_refusal_fails_at_once_a_temporary_one_is_retried(app_ctx, staff, smtp):
    smtp.refuse = {"gone@example.test": "550 5.1.1 no such mailbox",
                   "busy@example.test": "451 4.3.0 try again later"}
    queue(["gone@example.test", "busy@example.test", staff.user("supervisor")])
    assert notifications.deliver_pending(settings=settings_for(smtp.port)) == 1
    gone, busy, ok = rows()
    assert (gone.status, gone.attempts) == ("failed", 1) and "550" in gone.last_error
    assert (busy.status, busy.attempts) == ("pending", 1) and "451" in busy.last_error
    assert busy.send_after > busy.created_at
    assert ok.status == "sent"
    assert [m.rcpt_tos for m in smtp.messages()] == [["supervisor@example.test"]]


def test_disabled_delivery_leaves_messages_pending(app_ctx, staff):
    queue([staff.user("supervisor")])
    assert notifications.deliver_pending(settings=MailSettings(host=None)) == 0
    assert [(r.status, r.attempts) for r in rows()] == [("pending", 0)]


def test_two_deliverers_at_once_send_every_message_exactly_once(app, app_ctx, staff, smtp):
    count = 30
    queue([f"user{i}@example.test" for i in range(count)])
    barrier = threading.Barrier(2)
    sent = [0, 0]
    errors: list[BaseException] = []

    def deliver(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                sent[i] = notifications.deliver_pending(settings=settings_for(smtp.port))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and sum(sent) == count
    received = [m.rcpt_tos[0] for m in smtp.messages()]
    assert sorted(received) == sorted(f"user{i}@example.test" for i in range(count))  # each once
    assert {(r.status, r.attempts) for r in rows()} == {("sent", 1)}
    assert len({m.message["Message-ID"].strip() for m in smtp.messages()}) == count


def test_operators_list_and_retry_failed_mail(api, staff, smtp):
    case_id = open_case(api, customer_id=staff.customers["ACME"].id)["id"]
    smtp.refuse = {"gone@example.test": "550 5.1.1 no such mailbox"}
    queue(["gone@example.test"], case=db.session.get(Case, case_id))
    queue([staff.user("supervisor")])
    notifications.deliver_pending(settings=settings_for(smtp.port))

    r = api.get("/api/v1/notifications?status=failed", "supervisor")
    assert r.status_code == 200 and r.json["total"] == 1
    [item] = r.json["items"]
    assert (item["recipient"], item["status"], item["attempts"], item["case_id"]) == \
        ("gone@example.test", "failed", 1, case_id)
    assert item["case_number"] and "550" in item["last_error"]
    assert api.get(f"/api/v1/notifications?case_id={case_id}", "admin").json["total"] == 1
    sent = api.get("/api/v1/notifications?status=sent", "admin").json["items"]
    assert [(i["user"], i["case_id"]) for i in sent] == [("supervisor", None)]
    assert api.get("/api/v1/notifications", "agent1").status_code == 403
    assert api.get("/api/v1/notifications?status=lost", "admin").status_code == 422

    url = f"/api/v1/notifications/{item['id']}/retry"
    assert api.post(url, "supervisor").status_code == 403
    r = api.post(url, "admin")
    assert r.status_code == 200 and (r.json["status"], r.json["attempts"]) == ("pending", 0)
    again = api.post(url, "admin")
    assert again.status_code == 409 and again.json["code"] == "notification_not_failed"
    assert api.post("/api/v1/notifications/999999/retry", "admin").status_code == 404
    assert db.session.scalar(select(AuditEvent.subject).where(AuditEvent.action == "retry_notification")) \
        == str(item["id"])

    smtp.refuse = {}  # the mailbox exists again
    assert notifications.deliver_pending(settings=settings_for(smtp.port)) == 1
    assert [m.rcpt_tos for m in smtp.messages()][-1] == ["gone@example.test"]


def test_cli_delivers_and_lists(app, app_ctx, staff, smtp, monkeypatch):
    queue([staff.user("supervisor")], subject="请处理 / please act")
    runner = app.test_cli_runner()
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    off = runner.invoke(main, args=["notifications", "deliver"])
    assert off.exit_code != 0 and "SMTP_HOST is not set" in off.output

    for key, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", smtp.port), ("MAIL_FROM", SENDER)):
        monkeypatch.setitem(app.config, key, value)
    result = runner.invoke(main, args=["notifications", "deliver"])
    assert result.exit_code == 0 and result.output.strip() == "sent 1", result.output
    assert smtp.messages()[0].message["Subject"] == "请处理 / please act"
    listed = runner.invoke(main, args=["notifications", "list", "--status", "sent"])
    assert listed.exit_code == 0 and "supervisor@example.test" in listed.output and "请处理" in listed.output
    assert runner.invoke(main, args=["notifications", "list", "--status", "failed"]).output == ""
