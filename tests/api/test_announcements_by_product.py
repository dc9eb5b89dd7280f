"""Update notices aimed at the installed base: only the customers running the product (in the
versions given) hear of it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.core.db import db
from cases.customers.models import CustomerContact, InstalledProduct, UpdateAnnouncement
from cases.outbox.models import Notification
from tests.api.test_announcements import URL, _written, body
from tests.api.test_announcements import customers as customers


@pytest.fixture
def installed(customers):
    for code, product, version in (("ACME", "财务软件", "7.2.1"), ("VIPCO", "财务软件", "7.10.0"),
                                   ("VIPCO", "进销存", "3.0"), ("OTHER", "进销存", "3.1")):
        db.session.add(InstalledProduct(customer_id=customers.customers[code].id, product=product,
                                        product_version=version))
    db.session.commit()
    return customers


def recipients() -> set[str]:
    return set(db.session.scalars(select(Notification.recipient).where(Notification.kind == "update_announcement")))


@pytest.mark.parametrize("base, reached, mailed", [
    ({}, ["ACME", "VIPCO"], {"li.lei@acme.example", "vip@vipco.example"}),
    ({"product": "财务软件 ", "below_version": "7.3.0"}, ["ACME"], {"li.lei@acme.example"}),
    ({"from_version": "7.3", "below_version": "8"}, ["VIPCO"], {"vip@vipco.example"}),  # 7.10 is above 7.3
    ({"versions": ["7.10.0", "6.0"]}, ["VIPCO"], {"vip@vipco.example"}),
    ({"product": "进销存"}, ["OTHER", "VIPCO"], {"han@other.example", "vip@vipco.example"}),
])
def test_only_customers_running_the_product_are_reached(api, installed, base, reached, mailed):
    r = api.post(URL, "manager1", json=body(installed_base=base))
    assert r.status_code == 201, r.json
    assert r.json["audience"] == "product" and r.json["customer_codes"] == reached
    assert r.json["reached"]["customers"] == reached
    assert r.json["product_filter"]["product"] == (base.get("product") or "财务软件")
    assert recipients() == mailed


def test_the_contacts_on_the_record_are_mailed_too_each_address_once(api, installed):
    acme = installed.customers["ACME"].id
    db.session.add_all([CustomerContact(customer_id=acme, name="王磊", email="wang@acme.example", is_primary=True),
                        CustomerContact(customer_id=acme, name="李雷", email="LI.LEI@acme.example", is_primary=False),
                        CustomerContact(customer_id=acme, name="赵敏", phone="021-1", is_primary=False)])
    db.session.commit()
    r = api.post(URL, "manager1", json=body(installed_base={"below_version": "7.3.0"}))
    assert r.status_code == 201, r.json
    assert r.json["reached"]["mails"] == 2 and recipients() == {"li.lei@acme.example", "wang@acme.example"}


@pytest.mark.parametrize("base, field", [
    ({"product": "没人用的软件"}, "installed_base"),
    ({"below_version": "7.0"}, "installed_base"),  # nobody runs a version below 7.0
    ({"versions": ["7.2.1"], "below_version": "8"}, "installed_base.versions"),
    ({"from_version": "8", "below_version": "7.3"}, "installed_base.below_version"),
    ({"versions": "7.2.1"}, "installed_base.versions"),
])
def test_an_installed_base_that_reaches_nobody_or_makes_no_sense_is_refused(api, installed, base, field):
    before = _written()
    r = api.post(URL, "supervisor", json=body(installed_base=base))
    assert r.status_code == 422, r.json
    assert field in {e["field"] for e in r.json["errors"]}, r.json
    assert _written() == before and recipients() == set()
    assert db.session.scalar(select(func.count()).select_from(UpdateAnnouncement)) == 0


def test_the_installed_base_is_one_audience_among_three(api, installed):
    r = api.post(URL, "supervisor", json=body(installed_base={}, all_customers=True))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "customer_codes"
    assert recipients() == set()
