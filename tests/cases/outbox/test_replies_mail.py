"""Replies reach an e-mail customer by mail, over a real SMTP conversation on localhost, threaded
so that the customer's answer comes back into the case and moves the waiting process on."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.core.db import db
from cases.core.errors import InvalidDefinition
from cases.core.models import CaseEvent
from cases.outbox import notifications
from cases.outbox.models import Notification
from cases.process.deploy import deploy, read_directory
from tests.api.dbstate import db_snapshot
from tests.cases.channels import test_mail_in
from tests.cases.channels.test_mail_in import cases, mail, send
from tests.cases.outbox.test_notifications import settings_for
from tests.helpers import DATA, get_case, only_task, open_case, process_files, step
from tests.smtp_server import LocalSmtp

CUSTOMER = "li.lei@acme.example"


listener = test_mail_in.listener  # the fixture: caseflow's inbound SMTP listener


@pytest.fixture
def outbound():
    server = LocalSmtp().start()
    yield server
    server.stop()


def deliver(outbound: LocalSmtp) -> list:
    """Send what is queued to the local server; the messages it received by this call."""
    before = len(outbound.messages())
    db.session.rollback()
    notifications.deliver_pending(settings=settings_for(outbound.port))
    return [r.message for r in outbound.messages()[before:]]


def ids(header) -> list[str]:
    """The message ids in a header (a long one may be folded onto a continuation line)."""
    return re.findall(r"<[^<>\s]+>", str(header or ""))


def history(case_id: int, kind: str) -> list[CaseEvent]:
    db.session.rollback()
    db.session.expire_all()  # the API shares this session in tests: nothing it holds is stale
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                                   .order_by(CaseEvent.id)))


def to_resolve(api, case_id: int) -> dict:
    step(api, case_id, "classify", {"category": "data_problem", "priority": "medium"})
    step(api, case_id, "assign", {"owner": "consultant1", "due_at": "2030-01-01T09:00:00+00:00"})
    return only_task(api, case_id)


def resolve(api, case_id: int, **data) -> None:
    task = only_task(api, case_id)
    assert task["element_id"] == "resolve"
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "consultant1",
                 json={"version": task["version"], "data": {**DATA["resolve"], **data}})
    assert r.status_code == 200, r.json


def test_a_request_for_information_is_mailed_in_the_thread_and_the_reply_resumes_the_process(
        api, listener, outbound):
    first = mail()
    send(listener, first)
    [case] = cases()
    [ack] = deliver(outbound)
    assert ids(ack["In-Reply-To"]) == ids(ack["References"]) == ids(first["Message-ID"])
    to_resolve(api, case.id)
    resolve(api, case.id, outcome="need_info", question="请问您使用的是哪个版本？Which version do you run?")
    assert get_case(api, case.id)["stage"] == "waiting:customer_reply"

    [request] = deliver(outbound)
    assert request["To"] == CUSTOMER
    assert request["Subject"].startswith(f"[{case.number}] 需要您补充信息")
    assert request["X-Caseflow-Kind"] == "information_request"
    assert "Which version do you run?" in request.get_content() and "需要您补充以下信息" in request.get_content()
    # threaded: it answers the customer's own mail and refers to the acknowledgement too
    assert ids(request["In-Reply-To"]) == ids(first["Message-ID"])
    assert ids(request["References"]) == ids(first["Message-ID"]) + ids(ack["Message-ID"])
    [noted] = history(case.id, "customer_notified")
    assert noted.public and noted.data == {"notice": "information_request", "via": "mail", "to": CUSTOMER}

    # the customer's mail client answers the request: In-Reply-To names it, the subject keeps "Re:"
    send(listener, mail(subject=f"Re: {request['Subject']}", body="版本 7.2.1\n\n> 请问您使用的是哪个版本？",
                        In_Reply_To=request["Message-ID"], References=request["References"] + " " + request["Message-ID"]))
    assert len(cases()) == 1
    assert get_case(api, case.id)["stage"] == "in_progress"
    assert only_task(api, case.id)["element_id"] == "resolve"
    [received] = history(case.id, "message_received")
    assert received.data["message"] == "customer_reply" and received.data["payload"]["text"].startswith("版本 7.2.1")


def test_the_resolution_is_mailed_and_a_reply_confirms_or_rejects_it(api, listener, outbound):
    send(listener, mail())
    [case] = cases()
    deliver(outbound)
    to_resolve(api, case.id)
    resolve(api, case.id, solution="报表查询已修复，请重新打开月末报表。")
    assert get_case(api, case.id)["stage"] == "awaiting_confirmation"
    [resolution] = deliver(outbound)
    assert resolution["Subject"].startswith(f"[{case.number}] 已处理，请确认")
    body = resolution.get_content()
    assert "报表查询已修复" in body and "「已解决」" in body and '"not solved"' in body and "7 days" in body

    # "not solved" on the first line: the confirmation is answered no, with the rest as the reason
    send(listener, mail(subject=f"Re: {resolution['Subject']}", body="未解决\n打开报表仍然报错。",
                        In_Reply_To=resolution["Message-ID"]))
    [completed] = [e for e in history(case.id, "task_completed") if e.data["element"] == "confirm"]
    assert completed.data["data"] == {"confirmed": False, "confirmation_comment": "打开报表仍然报错。"}
    assert completed.data["channel"] == "email" and completed.actor.username == "acme_user"
    assert only_task(api, case.id)["element_id"] == "resolve"  # back to its owner

    resolve(api, case.id, solution="Rebuilt the report cache.")
    [again] = deliver(outbound)
    send(listener, mail(subject=f"Re: {again['Subject']}", body="Solved!\nThanks.", In_Reply_To=again["Message-ID"]))
    assert [e.data["data"]["confirmed"] for e in history(case.id, "task_completed")
            if e.data["element"] == "confirm"] == [False, True]
    assert get_case(api, case.id)["stage"] == "callback"


def test_a_reply_that_says_neither_is_kept_as_a_message_and_the_confirmation_stays_open(api, listener, outbound):
    send(listener, mail())
    [case] = cases()
    to_resolve(api, case.id)
    resolve(api, case.id)
    send(listener, mail(subject=f"Re: [{case.number}]", body="Is this also fixed for the yearly report?"))
    assert get_case(api, case.id)["stage"] == "awaiting_confirmation"
    [message] = history(case.id, "customer_message")
    assert message.public and message.data["text"] == "Is this also fixed for the yearly report?"


def test_a_web_case_is_answered_by_mail_to_the_reporter_and_a_phone_case_gets_a_call_back_note(
        api, world, outbound):
    world.user("acme_user").email = "reporter@acme.example"
    db.session.commit()
    web = open_case(api, as_user="acme_user")
    to_resolve(api, web["id"])
    resolve(api, web["id"], outcome="need_info", question="Send a screenshot, please.")
    [request] = deliver(outbound)
    assert request["To"] == "reporter@acme.example" and "Send a screenshot, please." in request.get_content()
    assert request["In-Reply-To"] is None  # nothing to answer: the first mail of the thread

    phone = open_case(api, customer_id=world.customers["ACME"].id, channel="phone", contact_name="王先生",
                      contact_phone="+86 10 1234 5678", contact_email="wang@acme.example")
    to_resolve(api, phone["id"])
    resolve(api, phone["id"], outcome="need_info", question="Which printer model?")
    assert deliver(outbound) == []  # no mail the caller never asked for
    [note] = history(phone["id"], "call_customer")
    assert not note.public and note.data["phone"] == "+86 10 1234 5678"
    assert note.data["notice"] == "information_request" and "Which printer model?" in note.data["text"]
    [noted] = history(phone["id"], "customer_notified")
    assert noted.data["via"] == "call"


def test_a_request_for_data_is_mailed_and_the_answer_brings_the_advice_back(api, listener, outbound):
    send(listener, mail(subject="数据库无法启动", body="SQL Server 服务启动失败"))
    [case] = cases()
    deliver(outbound)
    step(api, case.id, "classify", {"category": "environment_problem", "priority": "high"})
    step(api, case.id, "advise", {"advice_outcome": "need_data", "data_request": "请发送数据库错误日志 ERRORLOG。"},
         as_user="consultant1")
    [request] = deliver(outbound)
    assert "ERRORLOG" in request.get_content()
    send(listener, mail(subject=f"Re: {request['Subject']}", body="日志见附件", In_Reply_To=request["Message-ID"]))
    assert only_task(api, case.id)["element_id"] == "advise"
    [received] = history(case.id, "message_received")
    assert received.data["message"] == "customer_data"


def test_staff_write_to_the_customer_in_the_mail_thread(api, listener, outbound):
    first = mail()
    send(listener, first)
    [case] = cases()
    r = api.post(f"/api/v1/cases/{case.id}/replies", "consultant1", json={"text": "我们正在排查，今天下午回复您。"})
    assert r.status_code == 201, r.json
    assert r.json == {"via": "mail", "to": CUSTOMER}
    mails = deliver(outbound)
    [reply] = [m for m in mails if m["X-Caseflow-Kind"] == "staff_reply"]
    assert reply["Subject"].startswith(f"[{case.number}] 回复")
    assert "我们正在排查" in reply.get_content() and ids(reply["In-Reply-To"]) == ids(first["Message-ID"])
    public = [e["kind"] for e in get_case(api, case.id, as_user="acme_user")["history"]]
    assert "staff_reply" in public and "customer_notified" in public


def test_staff_replies_refuse_wrong_roles_bad_input_and_closed_cases(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    before = db_snapshot()
    for user in ("acme_user", "bizmanager", "owner"):
        r = api.post(f"/api/v1/cases/{case['id']}/replies", user, json={"text": "hello"})
        assert r.status_code == 403, (user, r.json)
    r = api.post(f"/api/v1/cases/{case['id']}/replies", "agent1", json={"text": ""})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "text"
    r = api.post(f"/api/v1/cases/{case['id']}/replies", "agent1", json={"txt": "hello"})
    assert r.status_code == 422
    r = api.post("/api/v1/cases/999999/replies", "agent1", json={"text": "hello"})
    assert r.status_code == 404
    assert db_snapshot() == before
    assert db.session.scalar(select(Notification.id)) is None



def test_deploy_refuses_a_notice_caseflow_does_not_send(app_ctx, tmp_path):
    def change(diagram: str) -> str:
        diagram = diagram.replace('name="customerNotice" value="information_request" />\n          '
                                  '<spiffworkflow:property name="customerNoticeText" value="question"',
                                  'name="customerNotice" value="survey" />\n          '
                                  '<spiffworkflow:property name="customerNoticeText" value="question"')
        return diagram.replace('name="customerNotice" value="resolution"', 'name="customerNotice" value="Resolution"')

    with pytest.raises(InvalidDefinition) as refused:
        deploy(*read_directory(*process_files(tmp_path, change)))
    named = {(p["element"], p["message"]) for p in refused.value.problems}
    assert ("wait_customer_reply", "customerNotice 'survey' is not one of information_request, resolution; "
            "choose one of them.") in named
    assert ("confirm", "customerNotice 'Resolution' is not one of information_request, resolution; "
            "choose one of them.") in named
