"""The customer record over HTTP: who may read and change it, bad input refused naming the field with
nothing written, If-Match versions, and the tier that follows the active contract into the SLA."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from cases.core import accounts
from cases.core.db import db
from cases.customers.records import today
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import get_case, open_case

URL = "/api/v1/customers"
TABLES = ("customers", "customer_contacts", "installed_products", "contracts", "audit_events")


@pytest.fixture
def crm(api, world):
    accounts.create_user("manager", PASSWORD, ["manager"], hash_method=FAST_HASH)
    return api


def written() -> dict:
    """Every row of the record's tables, read on a connection of its own."""
    with db.engine.connect() as conn:
        return {table: sorted(tuple(map(str, row)) for row in conn.execute(text(f"SELECT * FROM {table}")))
                for table in TABLES}


def contract(number="HT-2026-001", tier="vip", start=None, end=None, **more) -> dict:
    start = start or today() - timedelta(days=30)
    return {"number": number, "tier": tier, "start": start.isoformat(),
            "end": (end or start + timedelta(days=364)).isoformat(), **more}


def add(api, customer_id, path, body, user="manager"):
    r = api.post(f"{URL}/{customer_id}/{path}", user, json=body)
    assert r.status_code == 201, r.json
    return r.json


def test_a_manager_builds_the_record_and_staff_read_it(crm, world):
    r = crm.post(URL, "manager", json={"code": "NEWCO", "name": "新客户有限公司", "address": "上海市浦东新区 1 号",
                                        "notes": "prefers calls in the morning"})
    assert r.status_code == 201, r.json
    cid, etag = r.json["id"], r.headers["ETag"]
    assert r.json["tier"] == "standard" and etag == '"1"'
    first = add(crm, cid, "contacts", {"name": "王工", "role": "IT administrator", "phone": "021-5555"})
    second = add(crm, cid, "contacts", {"name": "李经理", "email": "li@newco.example", "is_primary": True})
    assert first["is_primary"] is True and second["is_primary"] is True  # the first one, until another is
    add(crm, cid, "installed-products", {"product": "财务软件", "product_version": "7.2.1",
                                         "environment": "Windows Server 2019, SQL Server 2017",
                                         "installed_on": "2025-03-01"})
    made = add(crm, cid, "contracts", contract(calendar="default"))
    assert made["status"] == "active" and made["in_warranty"] is True
    assert made["warranty_until"] == (date.fromisoformat(made["start"]).replace(
        year=date.fromisoformat(made["start"]).year + 1) - timedelta(days=1)).isoformat()

    record = crm.get(f"{URL}/{cid}", "agent1")
    assert record.status_code == 200
    assert record.json["tier"] == "vip" and record.json["active_contract"]["number"] == "HT-2026-001"
    assert [(c["name"], c["is_primary"]) for c in record.json["contacts"]] == [("李经理", True), ("王工", False)]
    assert record.json["installed_products"][0]["product_version"] == "7.2.1"
    assert record.json["notes"] == "prefers calls in the morning"
    listed = crm.get(URL, "agent1", query_string={"q": "newco"})
    assert [c["code"] for c in listed.json["items"]] == ["NEWCO"] and listed.json["total"] == 1
    assert {c["code"] for c in crm.get(URL, "agent1", query_string={"tier": "vip"}).json["items"]} == {"NEWCO", "VIPCO"}


@pytest.mark.parametrize("user", ["agent1", "supervisor", "owner", "acme_user"])
def test_only_admins_and_managers_change_customers(crm, world, user):
    acme = world.customers["ACME"].id
    before = written()
    attempts = [crm.post(URL, user, json={"code": "X1", "name": "X"}),
                crm.request("PATCH", f"{URL}/{acme}", user, json={"name": "Y"}, headers={"If-Match": '"1"'}),
                crm.post(f"{URL}/{acme}/contacts", user, json={"name": "Z", "phone": "1"}),
                crm.post(f"{URL}/{acme}/installed-products", user, json={"product": "P", "product_version": "1"}),
                crm.post(f"{URL}/{acme}/contracts", user, json=contract())]
    assert [a.status_code for a in attempts] == [403] * 5
    assert written() == before


def test_a_customer_user_reads_only_their_own_organisation_without_internal_notes(crm, world):
    acme, other = world.customers["ACME"].id, world.customers["OTHER"].id
    r = crm.request("PATCH", f"{URL}/{acme}", "admin", json={"notes": "late payer"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.json
    add(crm, acme, "contacts", {"name": "Li Lei", "email": "li@acme.example"})
    own = crm.get(f"{URL}/{acme}", "acme_user")
    assert own.status_code == 200 and own.json["code"] == "ACME" and own.json["contacts"][0]["name"] == "Li Lei"
    assert "notes" not in own.json and "late payer" not in own.get_data(as_text=True)
    assert crm.get(f"{URL}/{acme}", "admin").json["notes"] == "late payer"
    foreign = crm.get(f"{URL}/{other}", "acme_user")
    assert foreign.status_code == 404 and foreign.json["code"] == "not_found"
    assert crm.get(URL, "acme_user").status_code == 403


@pytest.mark.parametrize("path, body, field", [
    ("", {"code": "lower case", "name": "X"}, "code"),
    ("", {"code": "ACME", "name": "Duplicate"}, "code"),
    ("", {"code": "NEW1"}, "name"),
    ("", {"code": "NEW2", "name": "X", "tier": "gold"}, "tier"),
    ("/{id}/contacts", {"name": "No way to reach"}, "phone"),
    ("/{id}/contacts", {"name": "Bad mail", "email": "not-an-address"}, "email"),
    ("/{id}/installed-products", {"product": "财务软件"}, "product_version"),
    ("/{id}/installed-products", {"product": "P", "product_version": "1", "installed_on": "2025-02-30"},
     "installed_on"),
    ("/{id}/contracts", contract(start=date(2026, 5, 1), end=date(2026, 4, 30)), "end"),
    ("/{id}/contracts", contract(start=date(2026, 5, 1), warranty_until="2026-04-01"), "warranty_until"),
    ("/{id}/contracts", contract(calendar="nope"), "calendar"),
    ("/{id}/contracts", contract(tier="platinum"), "tier"),
    ("/{id}/contracts", {**contract(), "start": "soon"}, "start"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(crm, world, path, body, field):
    url = URL + path.format(id=world.customers["ACME"].id)
    before = written()
    r = crm.post(url, "manager", json=body)
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json["errors"]}, r.json
    assert written() == before


def test_overlapping_contracts_and_duplicate_numbers_are_refused(crm, world):
    acme = world.customers["ACME"].id
    add(crm, acme, "contracts", contract())
    before = written()
    overlap = crm.post(f"{URL}/{acme}/contracts", "manager", json=contract(number="HT-2"))
    assert overlap.status_code == 422 and overlap.json["errors"][0]["field"] == "start"
    assert "HT-2026-001" in overlap.json["errors"][0]["message"]
    other = world.customers["OTHER"].id
    duplicate = crm.post(f"{URL}/{other}/contracts", "manager", json=contract())
    assert duplicate.status_code == 422 and duplicate.json["errors"][0]["field"] == "number"
    assert written() == before


def test_if_match_guards_every_change(crm, world):
    acme = world.customers["ACME"].id
    assert crm.request("PATCH", f"{URL}/{acme}", "manager", json={"name": "A"}).status_code == 428
    ok = crm.request("PATCH", f"{URL}/{acme}", "manager", json={"address": "北京"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"' and ok.json["address"] == "北京"
    before = written()
    stale = crm.request("PATCH", f"{URL}/{acme}", "admin", json={"address": "天津"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json["code"] == "stale_version"
    bad = crm.request("PATCH", f"{URL}/{acme}", "admin", json={"address": "天津"}, headers={"If-Match": "x"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "If-Match"
    assert written() == before

    person = add(crm, acme, "contacts", {"name": "Li", "phone": "1"})
    url = f"{URL}/{acme}/contacts/{person['id']}"
    moved = crm.request("PATCH", url, "manager", json={"phone": "2"}, headers={"If-Match": f'"{person["version"]}"'})
    assert moved.status_code == 200 and moved.json["phone"] == "2" and moved.json["version"] == person["version"] + 1
    before = written()
    again = crm.request("PATCH", url, "admin", json={"phone": "3"}, headers={"If-Match": f'"{person["version"]}"'})
    assert again.status_code == 409 and again.json["code"] == "stale_version"
    assert crm.request("DELETE", url, "admin", headers={"If-Match": f'"{person["version"]}"'}).status_code == 409
    assert written() == before
    assert crm.request("DELETE", url, "admin").status_code == 204
    assert crm.get(f"{URL}/{acme}", "agent1").json["contacts"] == []
    elsewhere = crm.request("PATCH", f"{URL}/{world.customers['OTHER'].id}/contacts/{person['id']}", "admin",
                            json={"phone": "4"}, headers={"If-Match": '"1"'})
    assert elsewhere.status_code == 404


def _first_response_minutes(case: dict) -> int:
    return next(t["target_minutes"] for t in case["sla"]["targets"] if t["kind"] == "first_response")


def test_the_tier_follows_the_active_contract_into_the_sla_of_new_cases(crm, world):
    other, vip = world.customers["OTHER"].id, world.customers["VIPCO"].id
    standard_minutes = _first_response_minutes(open_case(crm, customer_id=other, priority_hint="high"))
    vip_minutes = _first_response_minutes(open_case(crm, customer_id=vip, priority_hint="high"))
    assert vip_minutes < standard_minutes

    made = add(crm, other, "contracts", contract(number="HT-VIP"))
    assert crm.get(f"{URL}/{other}", "agent1").json["tier"] == "vip"
    case = open_case(crm, customer_id=other, priority_hint="high")
    assert _first_response_minutes(case) == vip_minutes
    assert case["contract"] == {"number": "HT-VIP", "tier": "vip", "end": made["end"],
                                "warranty_until": made["warranty_until"], "in_warranty": True}
    assert "contract" not in get_case(crm, case["id"], "other_user")

    # the contract is changed to a standard one: the tier follows in the same transaction
    changed = crm.request("PATCH", f"{URL}/{other}/contracts/{made['id']}", "manager", json={"tier": "standard"},
                          headers={"If-Match": f'"{made["version"]}"'})
    assert changed.status_code == 200, changed.json
    assert crm.get(f"{URL}/{other}", "agent1").json["tier"] == "standard"
    refused = crm.request("PATCH", f"{URL}/{other}", "manager", json={"tier": "vip"}, headers={"If-Match": '"3"'})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "tier"

    # the contract ran out overnight (its end moved into the past behind the API's back): the next
    # case finds no active contract, and the customer is standard from then on
    crm.request("PATCH", f"{URL}/{other}/contracts/{made['id']}", "manager", json={"tier": "vip"},
                headers={"If-Match": f'"{changed.json["version"]}"'})
    assert crm.get(f"{URL}/{other}", "agent1").json["tier"] == "vip"
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE contracts SET \"end\" = :day WHERE id = :id"),
                     {"day": today() - timedelta(days=1), "id": made["id"]})
    case = open_case(crm, customer_id=other, priority_hint="high")
    assert _first_response_minutes(case) == standard_minutes and case["contract"] is None
    record = crm.get(f"{URL}/{other}", "agent1").json
    assert record["tier"] == "standard" and record["contracts"][0]["status"] == "expired"
    assert record["active_contract"] is None

    # removing the customer's last contract leaves the tier where it is; a renewal starts tomorrow
    renewal = add(crm, other, "contracts", contract(number="HT-NEXT", start=today() + timedelta(days=1)))
    assert renewal["status"] == "upcoming"
    assert crm.get(f"{URL}/{other}", "agent1").json["tier"] == "standard"


def test_concurrent_overlapping_contracts_exactly_one_is_saved(app, crm, world):
    from tests.cases.process.test_concurrency import RACERS, _race

    other = world.customers["OTHER"].id
    statuses = _race(app, crm, f"{URL}/{other}/contracts",
                     [("manager" if i % 2 else "admin", contract(number=f"HT-RACE-{i}")) for i in range(RACERS)])
    assert sorted(statuses) == [201] + [422] * (RACERS - 1), statuses
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contracts")).scalar_one() == 1
        assert conn.execute(text("SELECT tier FROM customers WHERE id = :id"), {"id": other}).scalar_one() == "vip"
