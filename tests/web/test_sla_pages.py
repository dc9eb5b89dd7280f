"""The SLA pages through Flask's test client: the calendars and a month of days, an administrator's
holiday change (saved with the version seen; a stale version brings the typed dates back; bad dates
beside their field; nothing saved on a refusal), the policy's versions, the links to What if, who
sees what, Chinese."""
from __future__ import annotations

import re

from cases.core.db import db
from cases.sla import calendars


def _version(name: str = "default") -> int:
    row = calendars.find(name)
    return 0 if row is None else row.version


def test_the_calendars_and_a_month_of_days(pages, world):
    supervisor = pages("supervisor")
    listing = supervisor.text(supervisor.get("/sla/calendars"))
    assert 'href="/sla/calendars/default"' in listing
    page = supervisor.get("/sla/calendars/default?month=2026-10")
    html = supervisor.text(page)
    assert page.status_code == 200
    assert '<tr data-date="2026-10-01" data-kind="holiday">' in html  # National Day
    assert '<tr data-date="2026-10-12" data-kind="workday">' in html
    assert re.search(r'<tr data-date="2026-10-17" data-kind="weekend">', html)
    assert 'id="calendar-edit"' not in html  # only administrators change calendars
    assert 'id="calendar-whatif"' not in html  # What if is for managers, process owners, administrators
    assert supervisor.get("/sla/calendars/nowhere").status_code == 404
    assert supervisor.get("/sla/calendars/default?month=2026-13").status_code == 200  # the current month instead


def test_an_administrator_adds_a_holiday_and_clocks_follow(pages, world):
    admin = pages("admin")
    html = admin.text(admin.get("/sla/calendars/default?month=2026-12"))
    assert 'id="calendar-edit"' in html and 'id="calendar-whatif"' in html
    r = admin.post("/sla/calendars/default", {"extra_holidays": "2026-12-24", "removed_holidays": "",
                                              "extra_workdays": "", "version": str(_version())})
    assert r.status_code == 303, admin.text(r)
    after = admin.text(admin.get("/sla/calendars/default?month=2026-12"))
    assert '<tr data-date="2026-12-24" data-kind="holiday">' in after
    assert "Saved as version 1." in after
    db.session.expire_all()
    assert calendars.find("default").extra_holidays == ["2026-12-24"]


def test_a_stale_version_brings_the_typed_dates_back_and_saves_nothing(pages, world):
    admin = pages("admin")
    assert admin.post("/sla/calendars/default", {"extra_holidays": "2026-12-24", "removed_holidays": "",
                                                 "extra_workdays": "", "version": "0"}).status_code == 303
    stale = admin.post("/sla/calendars/default", {"extra_holidays": "2026-12-31\n2027-01-04", "removed_holidays": "",
                                                  "extra_workdays": "", "version": "0"})
    html = admin.text(stale)
    assert stale.status_code == 409 and 'id="err-version"' in html
    assert "2026-12-31\n2027-01-04</textarea>" in html
    db.session.expire_all()
    assert calendars.find("default").extra_holidays == ["2026-12-24"]


def test_bad_dates_are_shown_beside_their_field(pages, world):
    admin = pages("admin")
    r = admin.post("/sla/calendars/default", {"extra_holidays": "24 Dec, 2026-02-30", "removed_holidays": "",
                                              "extra_workdays": "", "version": "0"})
    html = admin.text(r)
    assert r.status_code == 422 and 'id="err-extra_holidays"' in html and "24 Dec" in html
    assert calendars.find("default") is None


def test_only_administrators_change_a_calendar(pages, world):
    for user in ("supervisor", "owner"):
        r = pages(user).post("/sla/calendars/default", {"extra_holidays": "2026-12-24", "version": "0"})
        assert r.status_code == 403, user
    for user in ("agent1", "acme_user"):
        assert pages(user).get("/sla/calendars").status_code == 403
        assert pages(user).get("/sla/policy").status_code == 403


def test_the_policy_lists_its_versions_with_links_to_what_if(pages, world):
    owner = pages("owner")
    html = owner.text(owner.get("/sla/policy"))
    assert 'id="policy-version-0"' in html and "active" in html
    assert 'href="/whatif?policy=0"' in html
    supervisor = pages("supervisor")
    assert 'href="/whatif?policy=0"' not in supervisor.text(supervisor.get("/sla/policy"))


def test_a_holiday_tried_in_what_if_from_the_calendar_page(pages, world):
    owner = pages("owner")
    html = owner.text(owner.get("/sla/calendars/default"))
    form = html.split('id="calendar-whatif"')[1].split("</form>")[0]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    r = owner.post("/whatif", {**fields, "holidays": "2026-12-24"})
    assert r.status_code == 303 and "/whatif/runs/" in r.headers["Location"]
    assert calendars.find("default") is None  # nothing changed in the live calendar


def test_the_pages_in_chinese(pages, world):
    admin = pages("admin")
    admin.post("/language", {"lang": "zh_CN"})
    html = admin.text(admin.get("/sla/calendars/default?month=2026-10"))
    for words in ("工作时间", "节假日", "周末"):
        assert words in html, words
