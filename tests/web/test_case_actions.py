"""From the case page: complaints filed and linked both ways, the case kind on the list with its
filter, staff replies on the case's channel, and the hotline call-backs page."""
from __future__ import annotations

from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.outbox.models import Notification
from tests.api.test_callbacks import phone_case
from tests.helpers import get_case


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_customer_files_a_complaint_and_both_cases_link(pages, acme_case, api):
    case = acme_case(title="Report fails")
    customer = pages("acme_user")
    text = customer.text(customer.get(f"/cases/{case['id']}"))
    assert "File a complaint about this case" in text and "No complaint about this case." in text
    r = customer.post(f"/cases/{case['id']}/complaints", {"text": "Nobody called back for a week."})
    assert r.status_code == 303 and r.headers["Location"] == f"/cases/{case['id']}#complaints"
    complaint = db.session.scalar(select(Case).where(Case.parent_case_id == case["id"]))
    assert (complaint.kind, complaint.description) == ("complaint", "Nobody called back for a week.")
    text = customer.text(customer.get(r.headers["Location"]))
    assert f"Complaint {complaint.number} is filed" in text
    assert f'<a href="/cases/{complaint.id}">{complaint.number}</a>' in text[text.index('id="linked-complaints"'):]
    text = customer.text(customer.get(f"/cases/{complaint.id}"))
    assert f'<a href="/cases/{case["id"]}">{case["number"]}</a>' in text[text.index('id="original-case"'):]
    assert 'id="case-kind">Complaint</dd>' in text
    assert [c["id"] for c in get_case(api, case["id"])["linked_cases"]] == [complaint.id]


def test_front_line_staff_file_complaints_and_others_may_not(pages, acme_case):
    case = acme_case()
    agent = pages("agent1")
    assert agent.post(f"/cases/{case['id']}/complaints", {"text": "Customer is upset."}).status_code == 303
    assert _count(Case, Case.parent_case_id == case["id"]) == 1
    for user in ("bizmanager", "owner", "complaints"):
        client = pages(user)
        assert "File a complaint" not in client.text(client.get(f"/cases/{case['id']}"))
        assert client.post(f"/cases/{case['id']}/complaints", {"text": "x"}).status_code == 403
    other = pages("other_user")
    assert other.post(f"/cases/{case['id']}/complaints", {"text": "Not mine."}).status_code == 404
    assert agent.post(f"/cases/{case['id']}/complaints", {"text": "x"}, csrf=False).status_code == 403
    assert _count(Case, Case.parent_case_id == case["id"]) == 1


def test_an_empty_or_long_complaint_files_nothing(pages, acme_case):
    case = acme_case()
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    for text, message in (("  ", "Write the text first"), ("x" * 20001, "at most 20000 characters (now 20001)")):
        r = customer.post(f"/cases/{case['id']}/complaints", {"text": text})
        assert r.status_code == 422  # the form again, with the text typed and the reason beside it
        assert message in customer.text(r) and 'id="complaint-error"' in customer.text(r)
    assert _count(Case, Case.parent_case_id == case["id"]) == 0


def test_the_case_list_shows_the_kind_and_filters_by_it(pages, acme_case):
    case = acme_case(title="The original")
    pages("agent1").post(f"/cases/{case['id']}/complaints", {"text": "Too slow."})
    agent = pages("agent1")
    text = agent.text(agent.get("/cases?kind=complaint"))
    assert "Complaint about " in text and '<span class="badge kind-complaint">Complaint</span>' in text
    assert "<td>The original</td>" not in text
    text = agent.text(agent.get("/cases?kind=support"))
    assert "<td>The original</td>" in text and "kind-complaint" not in text
    assert "<td>The original</td>" in agent.text(agent.get("/cases?kind=nonsense"))  # an unknown kind: no filter


def test_a_staff_reply_goes_by_mail_on_a_web_case(pages, acme_case):
    case = acme_case(contact_email="li@acme.example")
    agent = pages("agent1")
    text = agent.text(agent.get(f"/cases/{case['id']}"))
    assert 'id="reply-heading"' in text
    r = agent.post(f"/cases/{case['id']}/replies", {"text": "We are on it."})
    assert r.status_code == 303 and r.headers["Location"].endswith("#reply")
    assert "The reply was sent by mail to li@acme.example." in agent.text(agent.get(r.headers["Location"]))
    [mail] = db.session.scalars(select(Notification).where(Notification.kind == "staff_reply")).all()
    assert mail.recipient == "li@acme.example" and "We are on it." in mail.body


def test_a_reply_on_a_hotline_case_becomes_a_call_back(pages, api, world):
    case_id = phone_case(api, world)
    agent = pages("agent1")
    agent.get(f"/cases/{case_id}")
    r = agent.post(f"/cases/{case_id}/replies", {"text": "We will call you at 3 pm."})
    page = agent.text(agent.get(r.headers["Location"]))
    assert "a call-back note was left" in page
    timeline = page[page.index('id="timeline"'):]
    assert 'data-kind="call_customer"><span class="what">Call the customer back</span>' in timeline
    assert 'data-kind="customer_notified"><span class="what">Customer notified</span>' in timeline
    assert "as a call-back note" in timeline and "We will call you at 3 pm." in timeline
    text = agent.text(agent.get("/callbacks"))
    rows = text[text.index('id="callbacks"'):]
    assert f'href="/cases/{case_id}"' in rows and "We will call you at 3 pm." in rows and "李雷" in rows
    assert _count(Notification) == 0


def test_replies_are_refused_to_the_wrong_people_and_bad_text(pages, acme_case, world):
    case = acme_case(contact_email="li@acme.example")
    for user in ("acme_user", "bizmanager", "owner"):
        client = pages(user)
        assert 'id="reply-heading"' not in client.text(client.get(f"/cases/{case['id']}"))
        assert client.post(f"/cases/{case['id']}/replies", {"text": "x"}).status_code == 403
    agent = pages("agent1")
    assert agent.post(f"/cases/{case['id']}/replies", {"text": "x"}, csrf=False).status_code == 403
    for text in ("", "x" * 20001):
        assert agent.post(f"/cases/{case['id']}/replies", {"text": text}).status_code == 422
    db.session.execute(db.update(Case).where(Case.id == case["id"]).values(status="closed"))
    db.session.commit()
    r = agent.post(f"/cases/{case['id']}/replies", {"text": "Too late."})
    assert r.status_code == 409
    assert "The case is closed. Nothing was sent." in agent.text(r) and "Too late.</textarea>" in agent.text(r)
    assert _count(CaseEvent, CaseEvent.kind == "staff_reply") == 0 and _count(Notification) == 0


def test_only_the_front_line_has_the_call_backs(pages):
    for user, status in (("agent1", 200), ("supervisor", 200), ("consultant1", 200), ("bizmanager", 403),
                         ("owner", 403), ("acme_user", 403)):
        client = pages(user)
        assert client.get("/callbacks").status_code == status, user
        nav = client.text(client.get("/", follow_redirects=True))
        assert ('href="/callbacks"' in nav) is (status == 200), user
    agent = pages("agent1")
    assert "No call-backs waiting." in agent.text(agent.get("/callbacks"))
