"""Find any case: paging with totals (case list, inbox, board, portal), search by number, title or
description text, customer name (all of its cases), contact, product; filters by status, stage,
priority, category, owner, customer, channel — on the pages and the API's case list; saved views."""
from __future__ import annotations

import re

import pytest

from cases.core.db import db
from cases.customers.models import InstalledProduct
from tests.helpers import open_case
from web import case_pages, inbox


@pytest.fixture
def some_cases(api, world):
    acme, vip = world.customers["ACME"].id, world.customers["VIPCO"].id
    made = [open_case(api, "agent1", acme, title="Printer jams", contact_name="王磊", contact_phone="021-6666"),
            open_case(api, "agent1", acme, title="Invoice totals off", channel="phone"),
            open_case(api, "agent1", acme, title="Slow login", environment="财务软件 7.2 on Windows"),
            open_case(api, "agent1", vip, title="VIP export fails", contact_email="li@vip.example")]
    db.session.add(InstalledProduct(customer_id=vip, product="仓储系统", product_version="3.1"))
    db.session.commit()
    return made


def _numbers(text: str) -> set[str]:
    table = text.split('id="cases"', 1)[1].split("</table>", 1)[0] if 'id="cases"' in text else ""
    return set(re.findall(r'<a href="/cases/\d+">([^<]+)</a>', table))


def test_search_finds_by_customer_name_contact_product_and_text(pages, some_cases):
    agent = pages("agent1")
    acme = {c["number"] for c in some_cases[:3]}
    for query, expected in ((("q", "Acme"), acme),  # the customer's name: all of its cases
                            (("q", "acme"), acme),
                            (("q", "021-6666"), {some_cases[0]["number"]}),  # a contact's phone
                            (("q", "王磊"), {some_cases[0]["number"]}),
                            (("q", "li@vip"), {some_cases[3]["number"]}),
                            (("q", some_cases[1]["number"]), {some_cases[1]["number"]}),
                            (("q", "totals"), {some_cases[1]["number"]}),
                            (("product", "财务软件"), {some_cases[2]["number"]}),  # named in the environment
                            (("product", "仓储"), {some_cases[3]["number"]}),  # installed at the customer
                            (("q", "100%_"), set())):
        text = agent.text(agent.get("/cases", query_string=dict([query])))
        assert _numbers(text) == expected, query
        assert f'id="case-total">{len(expected)}<' in text


def test_filters_by_channel_customer_owner_stage(api, pages, world, some_cases):
    agent = pages("agent1")
    by = {"channel": "phone", "customer_id": world.customers["VIPCO"].id}
    assert _numbers(agent.text(agent.get("/cases", query_string={"channel": "phone"}))) == {some_cases[1]["number"]}
    assert _numbers(agent.text(agent.get("/cases", query_string={"customer_id": by["customer_id"]}))) == \
        {some_cases[3]["number"]}
    stage = api.get(f"/api/v1/cases/{some_cases[0]['id']}", "agent1").json["stage"]
    text = agent.text(agent.get("/cases", query_string={"stage": stage}))
    assert len(_numbers(text)) == 4 and f'<option value="{stage}" selected' in text
    assert _numbers(agent.text(agent.get("/cases", query_string={"owner": "consultant1"}))) == set()
    # values that are not ours are dropped, never an error
    assert agent.get("/cases", query_string={"channel": "pigeon", "customer_id": "x", "owner": "nobody"}).status_code == 200


def test_paging_says_the_total_on_every_list(pages, some_cases, monkeypatch):
    monkeypatch.setattr(case_pages, "PER_PAGE", 3)
    agent = pages("agent1")
    first = agent.text(agent.get("/cases"))
    assert "1–3 of 4" in first and 'rel="next"' in first and "Page 1 of 2" in first
    second = agent.text(agent.get("/cases", query_string={"page": 2, "q": "a"}))
    assert 'rel="prev" href="/cases?page=1&amp;q=a"' in second
    monkeypatch.setattr(inbox, "PER_PAGE", 2)
    text = agent.text(agent.get("/inbox", query_string={"scope": "all"}))
    assert "1–2 of 4" in text and "tasks" in text
    text = agent.text(agent.get("/inbox", query_string={"scope": "all", "q": "Acme"}))
    assert "1–2 of 3" in text
    assert 'data-total="' in pages("supervisor").text(pages("supervisor").get("/board")) or \
        "No case is breached or at risk." in pages("supervisor").text(pages("supervisor").get("/board"))
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal", query_string={"q": "Invoice"}))
    assert "1–1 of 1" in text and some_cases[1]["number"] in text


def test_the_api_lists_cases_by_customer_name_and_product(api, some_cases):
    r = api.get("/api/v1/cases", "agent1", query_string={"q": "Acme Ltd"})
    assert r.status_code == 200 and r.json["total"] == 3
    r = api.get("/api/v1/cases", "agent1", query_string={"product": "仓储系统"})
    assert [c["number"] for c in r.json["items"]] == [some_cases[3]["number"]]
    r = api.get("/api/v1/cases", "acme_user", query_string={"q": "VIP"})  # customers: their own only
    assert r.json["total"] == 0
    spec = api.get("/api/openapi.json").json
    names = {p["name"] for p in spec["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert {"q", "product", "owner", "stage", "channel", "customer_id", "category", "priority", "status"} <= names


def test_a_saved_view_is_found_again_by_its_owner_only(pages, world, some_cases):
    agent = pages("agent1")
    agent.get("/cases", query_string={"channel": "phone", "page": 2})
    r = agent.post("/views", {"page": "cases", "name": "  Phone   cases ", "query": "channel=phone&page=2&x=1"})
    assert r.status_code == 303 and r.headers["Location"] == "/cases?channel=phone"
    text = agent.text(agent.get("/cases"))
    assert '<a href="/cases?channel=phone">Phone cases</a>' in text
    again = agent.post("/views", {"page": "cases", "name": "Phone cases", "query": "channel=phone&q=Invoice"})
    assert again.headers["Location"] == "/cases?q=Invoice&channel=phone"  # the same name: replaced
    assert agent.text(agent.get("/cases")).count(">Phone cases</a>") == 1
    assert "Phone cases" not in pages("agent2").text(pages("agent2").get("/cases"))
    agent.post("/views", {"page": "inbox", "name": "Urgent", "query": "scope=all&priority=urgent"})
    assert '<a href="/inbox?scope=all&amp;priority=urgent">Urgent</a>' in agent.text(agent.get("/inbox"))
    r = agent.post("/views", {"page": "cases", "name": "", "query": "channel=phone"})
    assert "Give the view a name." in agent.text(agent.get(r.headers["Location"]))
    view_id = re.search(r'action="/views/(\d+)/delete"', agent.text(agent.get("/cases"))).group(1)
    assert pages("agent2").post(f"/views/{view_id}/delete").status_code == 404
    assert agent.post(f"/views/{view_id}/delete").status_code == 303
    assert ">Phone cases</a>" not in agent.text(agent.get("/cases"))
    assert pages("acme_user").post("/views", {"page": "cases", "name": "x", "query": ""}).status_code == 403
