"""E-mail in and out over real SMTP on localhost: the listener opens and threads cases, the
acknowledgement goes out through the outbox to a real SMTP server."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.outbox import notifications
from cases.outbox.models import Notification
from tests.api.dbstate import db_snapshot
from tests.cases.outbox.test_notifications import settings_for
from tests.helpers import get_case, only_task, step
from tests.smtp_server import LocalSmtp, free_port
from workers.mail_listener import controller


@pytest.fixture
def listener(app, world):
    world.user("acme_user").email = "li.lei@acme.example"
    world.user("other_user").email = "han@other.example"
    db.session.commit()
    smtp = controller(app, "127.0.0.1", free_port())
    smtp.start()
    yield smtp
    smtp.stop()


def mail(sender="Li Lei <li.lei@acme.example>", subject="月末报表打不开", body="打开月末报表时报错。",
         **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@caseflow.test", subject
    message["Message-ID"] = headers.pop("message_id", make_msgid(domain="acme.example"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(listener, message: EmailMessage) -> None:
    db.session.rollback()  # nothing of ours open while the listener writes
    with smtplib.SMTP(listener.hostname, listener.port, timeout=10) as client:
        client.send_message(message)


def cases() -> list[Case]:
    return list(db.session.scalars(select(Case).order_by(Case.id).execution_options(populate_existing=True)))


def test_a_mail_opens_a_case_and_the_acknowledgement_arrives(api, listener):
    send(listener, mail())
    [case] = cases()
    assert (case.channel, case.title, case.contact_email, case.customer.code) == \
        ("email", "月末报表打不开", "li.lei@acme.example", "ACME")
    assert case.description == "打开月末报表时报错。"
    [ack] = db.session.scalars(select(Notification)).all()
    assert (ack.kind, ack.recipient) == ("case_acknowledged", "li.lei@acme.example")
    assert ack.subject.startswith(f"[{case.number}]")

    outbound = LocalSmtp().start()
    try:
        assert notifications.deliver_pending(settings=settings_for(outbound.port)) == 1
        [got] = outbound.messages()
    finally:
        outbound.stop()
    assert got.rcpt_tos == ["li.lei@acme.example"]
    assert case.number in got.message["Subject"] and "服务单号" in got.message.get_content()


def test_replies_thread_by_message_id_or_by_the_case_number(api, listener):
    first = mail()
    send(listener, first)
    [case] = cases()
    ack_id = db.session.scalar(select(Notification.message_id))
    assert ack_id is None  # not sent yet: a reply can still thread on the customer's own first mail

    send(listener, mail(subject="Re: 月末报表打不开", body="补充：版本 7.2", In_Reply_To=first["Message-ID"]))
    send(listener, mail(subject=f"更多信息 [{case.number}]", body="日志见附件"))
    assert len(cases()) == 1
    texts = [e.data["text"] for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.kind == "customer_message").order_by(CaseEvent.id))]
    assert texts == ["补充：版本 7.2", "日志见附件"]


def test_a_reply_answers_the_waiting_process(api, listener):
    send(listener, mail())
    [case] = cases()
    step(api, case.id, "classify", {"category": "data_problem", "priority": "medium"})
    step(api, case.id, "assign", {"owner": "consultant1", "due_at": "2030-01-01T09:00:00+00:00"}, as_user="agent1")
    task = only_task(api, case.id)
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "consultant1", json={"version": task["version"], "data": {
        "analysis": "?", "solution": "?", "outcome": "need_info", "question": "Which version?"}})
    assert r.status_code == 200, r.json
    send(listener, mail(subject=f"Re: [{case.number}] Which version?", body="Version 7.2"))
    assert only_task(api, case.id)["element_id"] == "resolve"
    assert get_case(api, case.id)["stage"] == "in_progress"


def test_a_stranger_cannot_thread_into_another_customers_case(api, listener):
    send(listener, mail())
    [case] = cases()
    send(listener, mail(sender="han@other.example", subject=f"Re: [{case.number}] hijack", body="me too"))
    first, second = cases()
    assert second.customer.code == "OTHER" and second.id != first.id
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == first.id, CaseEvent.kind == "customer_message")) == 0


@pytest.mark.parametrize("headers", [
    {"sender": "nobody@unknown.example"},
    {"Auto_Submitted": "auto-replied"},
    {"Precedence": "bulk"},
])
def test_unknown_senders_and_automatic_mail_are_refused_with_550(api, listener, headers):
    before = db_snapshot()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(listener, mail(**headers))
    assert refused.value.smtp_code == 550
    assert db_snapshot() == before


def test_a_redelivered_message_changes_nothing_and_html_becomes_text(api, listener):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "li.lei@acme.example", "support@caseflow.test", "Printer"
    message["Message-ID"] = "<fixed-1@acme.example>"
    message.set_content("<p>The printer is <b>offline</b></p><script>alert(1)</script>", subtype="html")
    send(listener, message)
    send(listener, message)
    [case] = cases()
    assert case.description == "The printer is offline"


def test_attachments_are_kept_and_a_refused_one_is_noted(api, listener):
    message = mail(body="日志和截图见附件")
    message.add_attachment("2026-11-23 09:00 ERROR 报表查询失败\n".encode(), maintype="text", subtype="plain",
                           filename="错误日志.log")
    message.add_attachment(b"<html><script>alert(1)</script></html>", maintype="text", subtype="plain",
                           filename="readme.txt")
    send(listener, message)
    [case] = cases()
    files = api.get(f"/api/v1/cases/{case.id}/attachments", "acme_user").json
    assert [(f["filename"], f["content_type"].split(";")[0]) for f in files] == [("错误日志.log", "text/plain")]
    [refused] = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "attachment_refused")).all()
    assert refused.data["filename"] == "readme.txt" and refused.public


def test_the_mail_listener_command_serves_until_stopped(app, world):
    """`caseflow mail-listener` in its own process: it answers SMTP and stops on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", "")}
    process = subprocess.Popen([str(Path(sys.executable).parent / "caseflow"), "mail-listener", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []  # aiosmtpd logs its own start-up check first
        while len(lines) < 20 and not any(f"listening for mail on 127.0.0.1:{port}" in line for line in lines):
            lines.append(process.stdout.readline())
        assert f"listening for mail on 127.0.0.1:{port}" in lines[-1], lines
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.noop()[0] == 250
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        process.stdout.close()
