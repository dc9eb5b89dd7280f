"""Repairs and visits through the API: the warranty decides the charge when booking, the customer
confirms or answers with another window, the reminder goes the day before (the visit's process fires
it: the clock frozen and moved, never slept on), the repair log closes the visit; bad input names the
field and saves nothing. The process itself: tests/api/test_visit_process.py."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import CaseEvent
from cases.customers.models import Contract
from cases.outbox.models import Notification
from cases.process import timers
from cases.service.visit_models import CatalogueItem
from tests.api.dbstate import db_snapshot
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
START = datetime(2026, 3, 5, 14, 0, tzinfo=SHANGHAI)


@pytest.fixture
def service(world):
    acme = world.customers["ACME"]
    db.session.add(Contract(customer_id=acme.id, number="C-ACME-1", tier="standard", start=date(2025, 6, 1),
                            end=date(2027, 5, 31), warranty_until=date(2026, 3, 31)))
    db.session.add(CatalogueItem(code="ONSITE", name_zh="上门维修", name_en="On-site repair", price_cents=80000,
                                 unit="visit", active=True))
    world.user("acme_user").email = "li.lei@acme.example"
    db.session.commit()
    return world


def reminders_sent() -> int:
    """Fire the due timers (as the scheduler does); the reminders sent so far."""
    timers.fire_due()
    return len(db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "visit_reminder")).all())


def window(start: datetime = START, hours: int = 2) -> dict:
    return {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=hours)).isoformat()}


def book(api, case_id: int, **fields) -> dict:
    body = {"kind": "repair", "purpose": "更换服务器电源", "technician": "consultant1", **window(), **fields}
    r = api.post(f"/api/v1/cases/{case_id}/visits", "consultant1", json=body)
    assert r.status_code == 201, r.json
    return r.json


def acme_case(api, service) -> dict:
    return open_case(api, "acme_user", title="服务器无法启动")


def test_in_warranty_the_visit_costs_nothing_out_of_it_the_catalogue_price(api, service):
    with freeze_time(NOW):
        case = acme_case(api, service)
        inside = book(api, case["id"])
        assert (inside["in_warranty"], inside["contract"], inside["charge"]) == (True, "C-ACME-1", 0)

        after = datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)  # the day after the warranty ends
        before = db_snapshot()
        r = api.post(f"/api/v1/cases/{case['id']}/visits", "consultant1",
                     json={"kind": "repair", "purpose": "x", **window(after)})
        assert r.status_code == 422
        assert [e["field"] for e in r.json["errors"]] == ["catalogue_code"]
        assert db_snapshot() == before

        outside = book(api, case["id"], catalogue_code="ONSITE", **window(after))
        assert (outside["in_warranty"], outside["catalogue_code"], outside["charge"]) == (False, "ONSITE", 800.0)


@pytest.mark.parametrize(("change", "field"), [
    ({"window_end": START.isoformat()}, "window_end"),
    ({"window_start": (NOW - timedelta(hours=1)).isoformat()}, "window_start"),
    ({"kind": "party"}, "kind"),
    ({"technician": "acme_user"}, "technician"),
    ({"catalogue_code": "NOPE"}, "catalogue_code"),
    ({"purpose": ""}, "purpose"),
])
def test_bad_bookings_name_the_field_and_save_nothing(api, service, change, field):
    with freeze_time(NOW):
        case = acme_case(api, service)
        before = db_snapshot()
        body = {"kind": "repair", "purpose": "p", **window(), **change}
        r = api.post(f"/api/v1/cases/{case['id']}/visits", "consultant1", json=body)
        assert r.status_code == 422, r.json
        assert field in [e["field"] for e in r.json["errors"]]
        assert db_snapshot() == before


def test_the_customer_confirms_and_is_reminded_the_day_before_once(api, service):
    with freeze_time(NOW) as clock:
        case = acme_case(api, service)
        visit = book(api, case["id"])
        r = api.post(f"/api/v1/visits/{visit['id']}/confirm", "acme_user", json={"version": visit["version"]})
        assert r.status_code == 200, r.json
        assert r.json["status"] == "confirmed"

        clock.move_to(datetime(2026, 3, 4, 9, 59, tzinfo=SHANGHAI))  # the day before, before 10:00
        assert reminders_sent() == 0
        clock.move_to(datetime(2026, 3, 4, 10, 1, tzinfo=SHANGHAI))
        assert reminders_sent() == 1
        assert reminders_sent() == 1  # once
        mails = db.session.scalars(select(Notification).where(Notification.kind == "visit_reminder")).all()
        assert sorted(m.recipient for m in mails) == ["li.lei@acme.example"]  # consultant1 has no address
        assert "2026-03-05 14:00" in mails[0].body
        events = [e.kind for e in db.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case["id"], CaseEvent.public.is_(True)).order_by(CaseEvent.id))]
        assert events[-3:] == ["visit_proposed", "visit_confirmed", "visit_reminder"]
        api.forget_tokens()  # two days later: log in again
        assert api.get(f"/api/v1/visits/{visit['id']}", "acme_user").json["reminder_sent_at"] is not None


def test_a_visit_only_proposed_is_not_reminded(api, service):
    with freeze_time(NOW) as clock:
        book(api, acme_case(api, service)["id"])
        clock.move_to(datetime(2026, 3, 4, 12, tzinfo=SHANGHAI))
        assert reminders_sent() == 0


def test_the_customer_proposes_another_window_staff_confirm_it(api, service):
    with freeze_time(NOW):
        case = acme_case(api, service)
        visit = book(api, case["id"])
        later = datetime(2026, 3, 6, 9, tzinfo=SHANGHAI)
        r = api.post(f"/api/v1/visits/{visit['id']}/propose", "acme_user",
                     json={"version": visit["version"], "note": "周四下午没人", **window(later)})
        assert r.status_code == 200, r.json
        assert (r.json["status"], r.json["proposed_by"], r.json["customer_note"]) == (
            "counter_proposed", "customer", "周四下午没人")
        own = api.post(f"/api/v1/visits/{visit['id']}/confirm", "acme_user", json={"version": r.json["version"]})
        assert own.status_code == 409 and own.json["code"] == "own_proposal"
        stale = api.post(f"/api/v1/visits/{visit['id']}/confirm", "consultant1", json={"version": visit["version"]})
        assert stale.status_code == 409 and stale.json["code"] == "stale_version"
        ok = api.post(f"/api/v1/visits/{visit['id']}/confirm", "consultant1", json={"version": r.json["version"]})
        assert ok.status_code == 200 and ok.json["status"] == "confirmed"
        assert ok.json["window_start"].startswith("2026-03-06T01:00")


def test_another_organisation_neither_sees_nor_answers_the_visit(api, service):
    with freeze_time(NOW):
        visit = book(api, acme_case(api, service)["id"])
        assert api.get(f"/api/v1/visits/{visit['id']}", "other_user").status_code == 404
        r = api.post(f"/api/v1/visits/{visit['id']}/confirm", "other_user", json={"version": visit["version"]})
        assert r.status_code == 404
        assert api.post(f"/api/v1/cases/{visit['case_id']}/visits", "acme_user",
                        json={"kind": "repair", "purpose": "p", **window()}).status_code == 403


def test_the_repair_log_closes_a_confirmed_visit(api, service):
    with freeze_time(NOW) as clock:
        visit = book(api, acme_case(api, service)["id"])
        early = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant1", json={
            "arrived_at": NOW.isoformat(), "minutes": 30, "result": "repaired", "notes": "n"})
        assert early.status_code == 409 and early.json["code"] == "visit_not_confirmed"
        api.post(f"/api/v1/visits/{visit['id']}/confirm", "consultant1", json={"version": visit["version"]})
        clock.move_to(START + timedelta(hours=3))
        api.forget_tokens()
        bad = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant1", json={
            "arrived_at": START.isoformat(), "minutes": 0, "result": "repaired", "notes": "n"})
        assert bad.status_code == 422 and [e["field"] for e in bad.json["errors"]] == ["minutes"]
        r = api.post(f"/api/v1/visits/{visit['id']}/log", "consultant1", json={
            "arrived_at": (START + timedelta(minutes=10)).isoformat(), "minutes": 95, "parts": ["电源 PSU-550"],
            "result": "replaced", "notes": "更换电源后服务器正常启动"})
        assert r.status_code == 201, r.json
        assert isinstance(r.json["id"], int)  # the answer names the stored log (found by schemathesis: was null)
        shown = api.get(f"/api/v1/visits/{visit['id']}", "acme_user").json
        assert shown["status"] == "done" and shown["logs"][0]["parts"] == ["电源 PSU-550"]
        assert shown["logs"][0]["id"] == r.json["id"]
