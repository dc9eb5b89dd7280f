"""Times in the pages' zone with the zone named, date-time inputs that say their zone, display
names instead of user names, durations and counts people read (plural forms, whole ratings),
board badges naming their target, and where each role lands after logging in."""
from __future__ import annotations

import re

from sqlalchemy import select

from cases.core import accounts, events
from cases.core.db import db
from cases.core.models import Case, User
from cases.process import timers
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import DATA, only_task, step
from tests.web.test_board import breached_case

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _visible(html: str) -> str:
    """The page's text without tags and attributes (a <time datetime="..."> may keep ISO)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_case_page_names_its_zone_and_shows_no_raw_iso_times(api, pages, acme_case, app):
    case = acme_case()
    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"], as_user="agent1")
    with app.app_context():
        row = db.session.get(Case, case["id"])
        events.record(row, "customer_message", None, public=True,
                      payload={"text": "Call me after 2026-12-07T16:08:00+00:00 please"})
        events.record(row, "case_reassigned", None, old_owner="consultant1", owner="agent2", reason="holiday")
        for user in db.session.scalars(select(User).where(User.username.in_(("consultant1", "agent2")))):
            user.display_name = {"consultant1": "Li Qiang", "agent2": "Tom Baker"}[user.username]
        db.session.commit()
    agent = pages("agent1")
    text = agent.text(agent.get(f"/cases/{case['id']}"))
    timeline = text[text.index('id="timeline"'):text.index("</ol>", text.index('id="timeline"'))]
    assert not ISO.search(_visible(timeline)), _visible(timeline)
    assert "Call me after 12/8/26, 12:08" in timeline  # 16:08 UTC is past midnight in Shanghai
    assert 'id="zone-note"' in text and "Times are in China Standard Time (GMT+08:00, Asia/Shanghai)." in text
    assert "Li Qiang → Tom Baker · holiday" in timeline  # display names, not user names
    agent.post("/language", {"lang": "zh_CN"})
    assert "中国标准时间" in agent.text(agent.get(f"/cases/{case['id']}"))


def test_a_page_without_times_names_no_zone(pages):
    text = pages("supervisor").text(pages("supervisor").get("/canned-answers"))
    assert 'id="zone-note"' not in text


def test_date_time_inputs_say_which_zone_they_are_read_in(api, pages, acme_case):
    case = acme_case()
    step(api, case["id"], "classify")
    task = only_task(api, case["id"])
    assert task["element_id"] == "assign"
    agent = pages("agent1")
    text = agent.text(agent.get(f"/tasks/{task['id']}"))
    hint = re.search(r'<p class="hint" id="field-due_at-hint">([^<]*)</p>', text)
    assert hint and "A local time in China Standard Time (GMT+08:00, Asia/Shanghai)." in hint.group(1)


def test_board_badges_name_their_target(pages, acme_case):
    breached_case(acme_case, title="Invoices cannot be printed")
    timers.fire_due()
    supervisor = pages("supervisor")
    text = supervisor.text(supervisor.get("/board"))
    badges = re.findall(r'<span class="badge" data-target="(\w+)">([^<]*)</span>', text)
    assert badges, "the breached case was escalated"
    for kind, label in badges:
        assert label.startswith({"first_response": "First response: ", "resolution": "Resolution: ",
                                 "next_update": "Next update: "}[kind])


def test_the_feedback_target_is_whole_ratings_and_times_are_working_hours(api, pages, acme_case):
    step(api, acme_case()["id"], "classify")  # a first response
    text = pages("supervisor").text(pages("supervisor").get("/kpis"))

    def row(kpi: str) -> str:
        found = text[text.index(f'data-kpi="{kpi}"'):]
        return found[:found.index("</tr>")]
    assert re.search(r"at least \d+ ratings?<", row("feedback_volume")) and not re.search(r"\d+\.\d", row("feedback_volume"))
    assert re.search(r"\d+\.\d working hours<", row("first_response_average_seconds"))


def test_each_role_lands_where_its_work_is(app, api, pages, acme_case):
    with app.app_context():
        accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
        accounts.create_user("owner1", PASSWORD, ["process_owner"], hash_method=FAST_HASH)
        db.session.commit()
    assert pages("manager1").get("/").headers["Location"] == "/board"
    assert pages("owner1").get("/").headers["Location"] == "/owner/processes"
    assert pages("agent1").get("/").headers["Location"] == "/inbox"  # nothing waits: the own tasks
    acme_case()  # a classification any agent may claim
    assert pages("agent1").get("/").headers["Location"] == "/inbox?scope=claimable"


def test_a_moment_reads_as_babel_formats_it_though_each_minute_is_formatted_once(app):
    """display.when keeps each local minute's text per request when the format shows no seconds;
    a format that shows them (or a zone or a day period) is formatted each time."""
    from datetime import datetime, timedelta, timezone

    from babel import Locale
    from babel import dates as babel_dates

    from web import display

    start = datetime(2026, 3, 29, 0, 58, 59, 999999, tzinfo=timezone.utc)
    moments = [start + timedelta(seconds=s) for s in range(0, 400, 7)] + [start.replace(tzinfo=None)]
    for language in ("en", "zh"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            shown = [display.when(m) for m in moments]
            _pattern, zone, locale, minutes = display._short_datetime()
            assert minutes is not None  # the short formats show minutes at most
            assert shown == [str(babel_dates.format_datetime(m, "short", tzinfo=zone, locale=locale)) for m in moments]
            assert len(set(shown)) == 8  # 00:58 … 01:05
            moment = display.moments()
            assert [moment(m) for m in moments] == shown and moment(None) == "—"
    en = Locale.parse("en")
    assert display._by_the_minute("short", en) and display._by_the_minute("yyyy-MM-dd HH:mm", en)
    for finer in ("HH:mm:ss", "HH:mm z", "h:mm B", "h:mm b", "HH:mm:ss.SSS", "HH:mm xxx"):
        assert not display._by_the_minute(finer, en), finer
    assert display._by_the_minute("HH:mm 'ss'", en)  # quoted letters are text
