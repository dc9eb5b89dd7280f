"""The update announcements page: the list and the form (window as local times in the chosen time
zone, notes in Chinese and English, all customers or chosen ones), errors beside the fields and
nothing sent, only admins, supervisors and managers."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from cases.core import accounts
from cases.core.db import db
from cases.customers.models import UpdateAnnouncement
from cases.outbox.models import Notification
from tests.conftest import FAST_HASH, PASSWORD

TOKYO = ZoneInfo("Asia/Tokyo")


def _local(days: int, hour: int = 22) -> str:
    day = datetime.now(TOKYO).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def form(**overrides) -> dict:
    return {"product": "财务软件", "version": "7.3.0", "window_start": _local(3), "window_end": _local(3, 23),
            "timezone": "Asia/Tokyo", "notes_zh": "修复月末报表错误。", "notes_en": "Fixes the report error.",
            "audience": "all", **overrides}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_supervisor_announces_to_chosen_customers(pages, world):
    world.user("acme_user").email = "li@acme.example"
    world.user("other_user").email = "han@other.example"
    db.session.commit()
    supervisor = pages("supervisor")
    text = supervisor.text(supervisor.get("/announcements"))
    assert "No update announced yet." in text and 'value="ACME"' in text
    r = supervisor.post("/announcements", {**form(audience="customers"), "customer_codes": ["ACME"]})
    assert r.status_code == 303
    [row] = db.session.scalars(select(UpdateAnnouncement)).all()
    assert (row.product, row.audience, row.customer_codes) == ("财务软件", "customers", ["ACME"])
    start = datetime.fromisoformat(_local(3)).replace(tzinfo=TOKYO)
    assert row.window_start == start and row.window_end == start + timedelta(hours=1)
    assert [n.recipient for n in db.session.scalars(select(Notification))] == ["li@acme.example"]
    assert "Tokyo" in db.session.scalar(select(Notification.body))
    text = supervisor.text(supervisor.get("/announcements"))
    assert "财务软件 7.3.0 is announced to 1 customers (1 mails, 0 chat posts)." in text
    assert "<td>ACME</td>" in text[text.index('id="announcements"'):]


def test_a_manager_announces_to_all(pages, world):
    accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
    manager = pages("manager1")
    manager.get("/announcements")
    assert manager.post("/announcements", form()).status_code == 303
    assert db.session.scalar(select(UpdateAnnouncement.audience)) == "all"


@pytest.mark.parametrize("change, field, message", [
    ({"product": ""}, "product", "This field is required."),
    ({"version": "v" * 101}, "version", "At most 100 characters."),
    ({"notes_en": ""}, "notes_en", "This field is required."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Not a time zone"),
    ({"window_start": "soon"}, "window_start", "A date and time."),
    ({"window_start": _local(-1)}, "window_start", "the window must start in the future"),
    ({"window_end": _local(2)}, "window_end", "The window must end after it starts."),
    ({"audience": "customers"}, "customer_codes", "Choose the customers, or announce to all."),
    ({"audience": "customers", "customer_codes": ["NOPE"]}, "customer_codes", "Unknown customers were chosen."),
    ({"audience": "someone"}, "audience", "Choose who hears of it."),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_sent(pages, world, change, field, message):
    admin = pages("admin")
    admin.get("/announcements")
    r = admin.post("/announcements", form(**change))
    assert r.status_code == 422
    text = admin.text(r)
    assert f'<p class="field-error" id="a-{field}-error">' in text
    assert message in text[text.index(f'id="a-{field}-error"'):]
    assert 'value="Asia/Tokyo"' in text or field == "timezone"  # the form keeps what was typed
    assert _count(UpdateAnnouncement) == 0 and _count(Notification) == 0


def test_only_announcers_and_with_the_csrf_token(pages, world):
    for user in ("agent1", "owner", "complaints", "acme_user"):
        client = pages(user)
        assert client.get("/announcements").status_code == 403
        assert client.post("/announcements", form()).status_code == 403
    admin = pages("admin")
    assert 'href="/announcements"' in admin.text(admin.get("/announcements"))
    assert admin.post("/announcements", form(), csrf=False).status_code == 403
    assert _count(UpdateAnnouncement) == 0
