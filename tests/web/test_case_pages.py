"""The case page: fields, timeline, attachments, the diagram, the customer's answer."""
from __future__ import annotations

import io
import json
import re

from lxml import etree

from tests.helpers import DATA, get_case, only_task, step

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def _need_info(api, case_id) -> None:
    step(api, case_id, "classify")
    step(api, case_id, "assign", DATA["assign"], as_user="agent1")
    step(api, case_id, "resolve", {"analysis": "Cannot reproduce.", "outcome": "need_info",
                                   "question": "Which report, and at what time?"})


def test_staff_see_the_whole_timeline_with_names(api, pages, acme_case):
    case = acme_case()
    step(api, case["id"], "classify")
    agent = pages("agent1")
    text = agent.text(agent.get(f"/cases/{case['id']}"))
    assert f"<h1>{case['title']}</h1>" in text
    timeline = text[text.index('id="timeline"'):]
    assert "Task done" in timeline and "agent1" in timeline and "Case opened" in timeline
    assert "Acme Ltd" in text and 'id="sla-clock"' in text


def test_customers_see_public_events_and_no_staff_names(api, pages, acme_case):
    case = acme_case()
    step(api, case["id"], "classify")
    customer = pages("acme_user")
    r = customer.get(f"/cases/{case['id']}")
    assert r.status_code == 200
    text = customer.text(r)
    timeline = text[text.index('id="timeline"'):]
    assert "Case opened" in timeline and "Support" in timeline
    assert "agent1" not in text and "Task done" not in timeline
    assert 'id="case-diagram"' not in text  # the process is internal


def test_a_customer_cannot_open_another_organisations_case(pages, acme_case):
    case = acme_case()
    other = pages("other_user")
    r = other.get(f"/cases/{case['id']}")
    assert r.status_code == 404 and "Not found" in other.text(r)
    assert case["title"] not in other.text(r)


def test_the_diagram_container_and_its_bpmn(api, pages, acme_case):
    case = acme_case()
    step(api, case["id"], "classify")
    agent = pages("agent1")
    text = agent.text(agent.get(f"/cases/{case['id']}"))
    found = re.search(r'<div id="case-diagram" class="case-diagram"\s+data-bpmn-url="([^"]+)"\s+data-process="([^"]+)"'
                      r"\s+data-completed='([^']*)' data-current='([^']*)'", text)
    assert found, text[text.index("Process"):][:800]
    url, process, completed, current = found.groups()
    assert process == "support_case"
    assert "classify" in json.loads(completed.replace("&#34;", '"'))
    assert "assign" in json.loads(current.replace("&#34;", '"'))
    r = agent.get(url.replace("&amp;", "&"))
    assert r.status_code == 200 and r.mimetype == "application/xml"
    ids = set(etree.fromstring(r.data).xpath("//@id"))
    assert {"classify", "assign"} <= ids
    assert pages("acme_user").get(url.replace("&amp;", "&")).status_code == 403


def test_upload_and_download_an_attachment(api, pages, acme_case):
    case = acme_case()
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    r = customer.post(f"/cases/{case['id']}/attachments", {"file": (io.BytesIO(PNG), "screen.png")},
                      content_type="multipart/form-data")
    assert r.status_code == 303
    text = customer.text(customer.get(f"/cases/{case['id']}"))
    link = re.search(r'<a href="(/attachments/\d+)">screen.png</a>', text)
    assert link
    r = customer.get(link.group(1))
    assert r.status_code == 200 and r.data == PNG and r.headers["X-Content-Type-Options"] == "nosniff"
    assert pages("other_user").get(link.group(1)).status_code == 404


def test_a_refused_file_is_said_and_not_kept(api, pages, acme_case):
    case = acme_case()
    customer = pages("acme_user")
    customer.get(f"/cases/{case['id']}")
    r = customer.post(f"/cases/{case['id']}/attachments",
                      {"file": (io.BytesIO(b"<html><script>alert(1)</script></html>"), "x.html")},
                      content_type="multipart/form-data")
    assert r.status_code == 303
    text = customer.text(customer.get(f"/cases/{case['id']}"))
    assert "The file was not attached" in text and "x.html</a>" not in text


def test_the_customer_answers_a_request_for_information(api, pages, acme_case):
    case = acme_case()
    _need_info(api, case["id"])
    customer = pages("acme_user")
    text = customer.text(customer.get(f"/cases/{case['id']}"))
    assert "We need more information from you" in text and "Which report, and at what time?" in text
    r = customer.post(f"/cases/{case['id']}/answer", {"text": "The month-end report, every morning at 9."})
    assert r.status_code == 303
    after = get_case(api, case["id"])
    received = [e for e in after["history"] if e["kind"] == "message_received"]
    assert received[-1]["data"]["payload"] == {"text": "The month-end report, every morning at 9."}
    assert only_task(api, case["id"])["element_id"] == "resolve"
    assert "We need more information from you" not in customer.text(customer.get(f"/cases/{case['id']}"))


def test_an_agent_opens_a_case_for_a_customer_on_the_phone(pages, world, app_ctx):
    from sqlalchemy import select

    from cases.core.db import db
    from cases.core.models import Case
    agent = pages("agent1")
    text = agent.text(agent.get("/cases/new"))
    assert f'<option value="{world.customers["VIPCO"].id}"' in text and "VIP Co (VIPCO)" in text
    r = agent.post("/cases/new", {"customer_id": str(world.customers["VIPCO"].id), "channel": "phone",
                                  "title": "Stock report totals wrong", "description": "Called at 9:10.",
                                  "contact_name": "Ms Wang", "files": [(io.BytesIO(PNG), "screen.png")]},
                   content_type="multipart/form-data")
    assert r.status_code == 303
    case = db.session.scalar(select(Case).where(Case.title == "Stock report totals wrong"))
    assert case.customer.code == "VIPCO" and case.channel == "phone" and case.contact_name == "Ms Wang"
    assert "screen.png</a>" in agent.text(agent.get(r.headers["Location"]))


def test_a_case_without_a_customer_is_not_opened(pages, app_ctx):
    agent = pages("agent1")
    agent.get("/cases/new")
    r = agent.post("/cases/new", {"customer_id": "", "channel": "phone", "title": "x", "description": "y"},
                   content_type="multipart/form-data")
    assert r.status_code == 422
    assert 'id="field-customer_id-error">This field is required.</p>' in agent.text(r)
    r = agent.post("/cases/new", {"customer_id": "999999", "channel": "phone", "title": "x", "description": "y"},
                   content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="field-customer_id-error">Choose one of the options.</p>' in agent.text(r)
    assert pages("techlead").get("/cases/new").status_code == 403
