"""The customers page: tier, deployment date, follow-up programme and milestones for staff;
admins and managers set the deployment date (bad dates shown beside the field, nothing written)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case, Customer
from cases.process import timers
from tests.conftest import FAST_HASH, PASSWORD

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _programmes() -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.kind == "follow_up"))


def test_a_manager_sets_the_deployment_date_and_the_milestones_show(pages, browser, world):
    accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
    acme = world.customers["ACME"].id
    with freeze_time(datetime(2026, 1, 10, 12, tzinfo=SHANGHAI)) as frozen:
        manager = pages("manager1")
        text = manager.text(manager.get("/customers"))
        assert 'id="customer-VIPCO"' in text and "VIP" in text and "none running" in text
        r = manager.post(f"/customers/{acme}/deployment", {"deployed_on": "2026-01-15"})
        assert r.status_code == 303
        programme = db.session.scalar(select(Case).where(Case.kind == "follow_up"))
        text = manager.text(manager.get("/customers"))
        assert f"Acme Ltd went live on 2026-01-15; the follow-ups run in {programme.number}." in text
        row = text[text.index('id="customer-ACME"'):text.index('id="customer-OTHER"')]
        assert f'href="/cases/{programme.id}">{programme.number}</a>' in row and 'value="2026-01-15"' in row
        assert '<li data-months="1" data-state="due">' in row  # after the Spring Festival:
        assert "1 month:" in row and "1 months" not in row and "3 months:" in row  # plural forms
        assert '<time datetime="2026-02-24T01:00:00+00:00">' in row
        frozen.move_to(datetime(2026, 2, 24, 9, 1, tzinfo=SHANGHAI))
        timers.fire_due()
        browser.login("manager1")  # a new log-in: the first one's session expired meanwhile
        text = browser.text(browser.get("/customers"))
        assert '<li data-months="1" data-state="sent">' in text and '<li data-months="3" data-state="due">' in text


def test_bad_dates_are_shown_beside_the_field_and_nothing_is_written(pages, world):
    acme = world.customers["ACME"].id
    admin = pages("admin")
    admin.get("/customers")
    for value, message in (("", "This field is required."), ("15.01.2026", "A date as YYYY-MM-DD."),
                           ("1999-12-31", "A date from the year 2000 to 2200.")):
        r = admin.post(f"/customers/{acme}/deployment", {"deployed_on": value})
        assert r.status_code == 422, value
        assert f'id="deployed-{acme}-error">{message}</p>' in admin.text(r)
    assert db.session.get(Customer, acme).deployed_on is None and _programmes() == 0


def test_staff_read_it_only_admins_and_managers_set_it(pages, world):
    acme = world.customers["ACME"].id
    agent = pages("agent1")
    text = agent.text(agent.get("/customers"))
    assert 'id="customer-ACME"' in text and "/deployment" not in text
    for user in ("agent1", "supervisor", "owner"):
        assert pages(user).post(f"/customers/{acme}/deployment", {"deployed_on": "2026-01-15"}).status_code == 403
    customer = pages("acme_user")
    assert customer.get("/customers").status_code == 403
    assert pages("admin").post(f"/customers/{acme}/deployment", {"deployed_on": "2026-01-15"},
                               csrf=False).status_code == 403
    assert _programmes() == 0
    assert pages("admin").post("/customers/999999/deployment", {"deployed_on": "2026-01-15"}).status_code == 404
