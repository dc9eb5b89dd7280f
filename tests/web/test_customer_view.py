"""Customers see their case in their words: no lanes, claims, stages or internal SLA events; what
support asked and what they answered stays readable; they write to support at any time (the answer
when the case waits for one, else a message to the owner); "waiting for you" lists it all, one line
each."""
from __future__ import annotations

import re

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.outbox.models import Notification
from tests.api.test_surveys import online_survey
from tests.helpers import DATA, get_case, only_task, step

#: words of the workflow's inside, in both languages
INSIDE = ("Lane", "Claim", "Stage", "SLA clock", "泳道", "领取", "阶段", "SLA 计时", "Take over", "unassigned",
          "Task created", "Task taken", "Escalated", "in progress", "classifying", "assigning")


def _need_info(api, case_id: int) -> None:
    step(api, case_id, "classify")
    step(api, case_id, "assign", DATA["assign"])
    step(api, case_id, "resolve", {"analysis": "Internal: looks like the cache.", "outcome": "need_info",
                                   "question": "Which report, and at what time?"})


def _visible(text: str) -> str:
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def test_customer_pages_show_nothing_of_the_workflow_inside(api, pages, acme_case):
    asked, resolved = acme_case(), acme_case()
    _need_info(api, asked["id"])
    step(api, resolved["id"], "classify")
    step(api, resolved["id"], "assign", DATA["assign"])
    step(api, resolved["id"], "resolve")
    confirm = only_task(api, resolved["id"])
    customer = pages("acme_user")
    staff_case = pages("agent1").text(pages("agent1").get(f"/cases/{asked['id']}"))
    assert "Internal: looks like the cache." in staff_case and 'data-kind="stage_changed"' in staff_case
    for lang in ("en", "zh_CN"):
        customer.post("/language", {"lang": lang})
        for url in ("/portal", f"/cases/{asked['id']}", f"/cases/{resolved['id']}", f"/tasks/{confirm['id']}"):
            text = customer.text(customer.get(url))
            shown = _visible(text)
            assert [w for w in INSIDE if w in shown] == [], (lang, url)
            assert "Internal: looks like the cache." not in text
            for kind in ("stage_changed", "sla_paused", "sla_resumed", "task_created", "task_claimed", "sla_escalated"):
                assert f'data-kind="{kind}"' not in text, (lang, url, kind)


def test_the_question_stays_readable_after_the_answer(api, pages, acme_case):
    case = acme_case()
    _need_info(api, case["id"])
    customer = pages("acme_user")
    text = customer.text(customer.get(f"/cases/{case['id']}"))
    assert "Which report, and at what time?" in text and 'id="answer"' in text
    r = customer.post(f"/cases/{case['id']}/answer", {"text": "The month-end report, at 9:00."})
    assert r.status_code == 303
    assert get_case(api, case["id"])["stage"] != "waiting:customer_reply"
    for who in ("acme_user", "consultant1"):
        client = pages(who)
        page = client.text(client.get(f"/cases/{case['id']}"))
        thread = page[page.index('id="thread"'):page.index("</ol>", page.index('id="thread"'))]
        assert 'data-kind="question"' in thread and "Which report, and at what time?" in thread
        assert 'data-kind="answer"' in thread and "The month-end report, at 9:00." in thread
        assert thread.index("Which report") < thread.index("The month-end report")
        assert 'data-kind="report"' in thread and "Opening the month-end report fails." in thread


def test_a_customer_writes_to_support_at_any_time_and_the_owner_hears_of_it(api, pages, world, acme_case):
    world.user("consultant1").email = "consultant1@caseflow.test"
    db.session.commit()
    case = acme_case()
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"])  # owner: consultant1, at "resolve"
    customer = pages("acme_user")
    text = customer.text(customer.get(f"/cases/{case['id']}"))
    assert 'id="write-form"' in text and 'maxlength="20000"' in text and "At most 20000 characters" in text
    r = customer.post(f"/cases/{case['id']}/messages", {"text": "It also fails on the quarterly report."})
    assert r.status_code == 303 and r.headers["Location"] == f"/cases/{case['id']}#conversation"
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case["id"],
                                                      CaseEvent.kind == "customer_message"))
    assert event.public and event.data["text"] == "It also fails on the quarterly report."
    mail = db.session.scalar(select(Notification).where(Notification.case_id == case["id"],
                                                        Notification.kind == "customer_message"))
    assert mail is not None and mail.user_id == db.session.get(Case, case["id"]).owner_id
    assert "It also fails on the quarterly report." in mail.body
    assert only_task(api, case["id"])["element_id"] == "resolve"  # nothing waited for it: the step stays
    staff = pages("consultant1").text(pages("consultant1").get(f"/cases/{case['id']}"))
    assert "It also fails on the quarterly report." in staff


def test_writing_when_the_case_waits_answers_it_and_wakes_the_step(api, pages, acme_case):
    case = acme_case()
    _need_info(api, case["id"])
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    r = customer.post(f"/cases/{case['id']}/messages", {"text": "At 9:00, the month-end report."})
    assert r.status_code == 303
    assert get_case(api, case["id"])["stage"] != "waiting:customer_reply"
    assert only_task(api, case["id"])["element_id"] == "resolve"  # back to the owner


def test_an_empty_or_too_long_message_comes_back_with_the_text_and_nothing_is_written(api, pages, acme_case):
    case = acme_case()
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    before = db.session.scalar(select(db.func.count()).select_from(CaseEvent))
    long_text = "x" * 20001
    r = customer.post(f"/cases/{case['id']}/messages", {"text": long_text})
    assert r.status_code == 422 and "at most 20000 characters" in customer.text(r)
    assert long_text in customer.text(r)  # the typed text is back in the form
    r = customer.post(f"/cases/{case['id']}/messages", {"text": "   "})
    assert r.status_code == 422 and "Write your message first" in customer.text(r)
    assert db.session.scalar(select(db.func.count()).select_from(CaseEvent)) == before


def test_waiting_for_you_lists_questions_confirmations_and_surveys_one_line_each(api, pages, world, acme_case):
    asked = acme_case()
    _need_info(api, asked["id"])
    rated_case, _token = online_survey(api, world)
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal"))
    waiting = text[text.index('id="waiting"'):text.index("</ul>", text.index('id="waiting"'))]
    assert f'href="/cases/{asked["id"]}#answer"' in waiting and 'data-kind="question"' in waiting
    assert 'data-kind="survey"' in waiting
    # the survey's form is folded into one line until opened (works without a script: <details>)
    assert re.search(r'<details class="compact" id="survey-item-\d+">\s*<summary>', text)
    assert text.index('id="waiting"') < text.index("<h2>Our cases</h2>") < text.index('id="surveys"')
