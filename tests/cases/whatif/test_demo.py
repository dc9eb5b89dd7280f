"""The replay over the demo history (`caseflow demo-data`: eight weeks of cases driven through the real
use cases): the control equals the stored outcomes and the KPI report, and a holiday changes only
targets whose running time covered that day, on the calendar that got it."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import User, utcnow
from cases.demo import load as demo
from cases.kpis.figures import TIMEZONE
from cases.whatif import runs
from tests.cases.whatif.snapshot import whole_database
from tests.conftest import FAST_HASH, PASSWORD


def test_the_demo_history_replays_exactly_and_a_holiday_moves_only_what_it_covers(app_ctx):
    demo.load(PASSWORD, FAST_HASH)
    manager = db.session.scalar(select(User).where(User.username == "manager"))
    now = utcnow()
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    first, last = today - timedelta(days=70), today
    before = whole_database()
    control = runs.replay_period(manager, first, last, {}, now=now)
    assert control["cases"] > 20
    assert control["control"]["mismatches"] == [] and control["control"]["kpis"]["equal"]
    assert control["control"]["equal"]

    # a holiday on each of the busiest working days in turn (the day most agent tasks arrived first):
    # only a late target whose running time covered that day can stop being late
    by_day = control["load"]["by_day"]["agent"]
    moved = 0
    for holiday in sorted(by_day, key=lambda d: (-by_day[d], d))[:12]:
        proposal = {"calendars": {"default": {"extra_holidays": [holiday]}}}
        result = runs.replay_period(manager, first, last, proposal, now=now)
        assert result["control"]["equal"]
        moved += result["changed"]["targets"]
        for changed in result["changed"]["listed"]:
            why = runs.explain(manager, changed["case"], proposal, now=now)
            for target in (t for t in why["targets"] if t["changed"]):
                assert target["before_calendar"] == "default"  # the 24x7 calendar has no holidays
                # less business time used: late no more (met in time, or still open within its target)
                assert target["before"] == "breached" and target["after"] in ("in_time", "running", "paused")
                days = next(r for r in target["reasons"] if r["code"] == "hours_differ")["days"]
                assert [d["date"] for d in days] == [holiday] and days[0]["holiday"]
                started = datetime.fromisoformat(target["started_at"]).astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
                assert started <= holiday
    assert moved > 0
    assert whole_database() == before


def test_the_assignment_control_on_the_demo_history(app_ctx):
    """Every task least loaded, by skills or on duty gives back its recorded first holder. Round robin does
    not always: the demo drives each case's whole life before the next, setting the frozen clock back, and
    a round-robin turn never goes back in time, so its turns follow the order the demo generated the steps
    in, not the instants the replay walks — counted and listed with that reason, never forced."""
    demo.load(PASSWORD, FAST_HASH)
    manager = db.session.scalar(select(User).where(User.username == "manager"))
    now = utcnow()
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    before = whole_database()
    result = runs.replay_period(manager, today - timedelta(days=70), today, {"assignment": {}}, now=now)
    control = result["assignment"]["control"]
    assert control["checked"] > control["mismatched"]
    assert set(control["reasons"]) <= {"round_robin"}
    assert all(m["rule"] == "round_robin" and m["reason"] for m in control["mismatches"])
    assert result["assignment"]["moved"]["tasks"] == 0  # no change proposed: the proposal is the control
    assert whole_database() == before
