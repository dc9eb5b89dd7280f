"""The customer panel on the case page and the customer page (/customers/<id>) with its forms."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Customer
from cases.customers.models import Contract, CustomerContact, InstalledProduct
from cases.customers.records import today
from tests.api.test_customer_records import written
from tests.conftest import FAST_HASH, PASSWORD


@pytest.fixture
def acme_record(world):
    """ACME with two contacts (the IT administrator primary), a product and a VIP contract in force."""
    accounts.create_user("manager", PASSWORD, ["manager"], hash_method=FAST_HASH)
    acme = world.customers["ACME"]
    acme.address = "上海市徐汇区 88 号"
    start = today() - timedelta(days=100)
    db.session.add_all([
        CustomerContact(customer_id=acme.id, name="王磊", role="IT administrator", phone="021-6666", is_primary=True),
        CustomerContact(customer_id=acme.id, name="赵敏", role="finance", email="zhao@acme.example", is_primary=False),
        InstalledProduct(customer_id=acme.id, product="财务软件", product_version="7.2.1"),
        Contract(customer_id=acme.id, number="HT-ACME-1", tier="vip", start=start, end=start + timedelta(days=364),
                 warranty_until=start + timedelta(days=729)),
    ])
    acme.tier = "vip"
    db.session.commit()
    return acme


def test_the_case_page_shows_customer_and_contract_to_staff_only(pages, acme_case, acme_record):
    case = acme_case()
    agent = pages("agent1")
    text = agent.text(agent.get(f"/cases/{case['id']}"))
    panel = text[text.index('id="customer-panel-card"'):]
    panel = panel[:panel.index("</section>")]
    assert "王磊 · IT administrator · 021-6666" in panel and "赵敏" not in panel
    end = (today() - timedelta(days=100) + timedelta(days=364)).isoformat()
    assert "HT-ACME-1" in panel and f"ends {end}" in panel and "warranty until" in panel
    assert "财务软件 7.2.1" in panel
    assert f'href="/customers/{acme_record.id}"' in panel

    customer = pages("acme_user")
    own = customer.text(customer.get(f"/cases/{case['id']}"))
    assert 'id="customer-panel-card"' not in own and "HT-ACME-1" not in own


def test_the_panel_in_chinese(pages, acme_case, acme_record):
    case = acme_case()
    agent = pages("agent1")
    agent.post("/language", {"lang": "zh_CN"})
    text = agent.text(agent.get(f"/cases/{case['id']}"))
    assert "客户与合同" in text and "主要联系人" in text and "已安装产品" in text


def test_staff_read_the_customer_page_without_forms(pages, acme_record):
    agent = pages("agent1")
    r = agent.get(f"/customers/{acme_record.id}")
    assert r.status_code == 200
    text = agent.text(r)
    assert "Acme Ltd" in text and "上海市徐汇区 88 号" in text and "赵敏" in text and "HT-ACME-1" in text
    assert 'data-status="active"' in text
    assert "<form" not in text[text.index("<main"):]  # nothing to change for an agent
    assert pages("acme_user").get(f"/customers/{acme_record.id}").status_code == 403
    assert agent.get("/customers/999999").status_code == 404


def test_a_manager_changes_the_record_on_the_page(pages, acme_record):
    manager = pages("manager")
    page = manager.text(manager.get(f"/customers/{acme_record.id}"))
    assert "Add a contract" in page and "The contract in force decides the tier." in page
    r = manager.post(f"/customers/{acme_record.id}/contacts", {"name": "钱工", "phone": "138", "is_primary": "on"})
    assert r.status_code == 303
    text = manager.text(manager.get(f"/customers/{acme_record.id}"))
    assert "Added." in text
    primary = db.session.scalar(select(CustomerContact).where(CustomerContact.is_primary.is_(True),
                                                              CustomerContact.customer_id == acme_record.id))
    assert primary.name == "钱工"

    contract = db.session.scalar(select(Contract).where(Contract.number == "HT-ACME-1"))
    r = manager.post(f"/customers/{acme_record.id}/contracts/{contract.id}", {
        "version": str(contract.version), "number": "HT-ACME-1", "tier": "standard",
        "start": contract.start.isoformat(), "end": contract.end.isoformat(), "warranty_until": "", "calendar": ""})
    assert r.status_code == 303
    assert "Saved." in manager.text(manager.get(f"/customers/{acme_record.id}"))
    db.session.expire_all()
    assert db.session.get(Customer, acme_record.id).tier == "standard"  # the tier followed the contract


def test_a_bad_or_stale_form_names_the_field_and_saves_nothing(pages, acme_record):
    manager = pages("manager")
    manager.get(f"/customers/{acme_record.id}")
    before = written()
    r = manager.post(f"/customers/{acme_record.id}/contracts", {
        "number": "HT-2", "tier": "vip", "start": "2027-05-01", "end": "2027-04-01"})
    assert r.status_code == 303
    assert "Nothing was saved: End: the contract must end on or after its start" in \
        manager.text(manager.get(f"/customers/{acme_record.id}"))
    r = manager.post(f"/customers/{acme_record.id}/products", {"product": "财务软件", "product_version": "",
                                                               "installed_on": ""})
    assert "Version: this field is required." in manager.text(manager.get(f"/customers/{acme_record.id}"))
    r = manager.post(f"/customers/{acme_record.id}", {"version": "0", "name": "Acme", "address": "", "notes": ""})
    assert r.status_code == 409 and "Someone changed this record meanwhile" in manager.text(r)  # the form again
    assert written() == before
    assert pages("agent1").post(f"/customers/{acme_record.id}/contacts", {"name": "x", "phone": "1"}).status_code == 403
    assert written() == before


def test_a_stale_customer_record_save_keeps_the_typed_notes(pages, acme_record):
    manager = pages("manager")
    manager.get(f"/customers/{acme_record.id}")
    version = acme_record.version
    first = manager.post(f"/customers/{acme_record.id}", {"version": version, "name": acme_record.name,
                                                          "notes": "Saved in another tab."})
    assert first.status_code == 303
    r = manager.post(f"/customers/{acme_record.id}", {"version": version, "name": acme_record.name,
                                                      "address": "北京市海淀区 1 号",
                                                      "notes": "Call before 10; the server room is locked."})
    assert r.status_code == 409
    page = manager.text(r)
    assert 'id="record-notice"' in page and "the form still holds what you typed" in page
    assert "Call before 10; the server room is locked." in page and "北京市海淀区 1 号" in page
    assert "Saved in another tab." in page  # the record as it is now
