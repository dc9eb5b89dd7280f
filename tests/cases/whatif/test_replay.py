"""The replay engine on a hand-built history: the KPI test's week of cases (tests/cases/kpis), driven
through the real API and process at known Shanghai instants.

The control (no change) must give back the stored outcomes and the KPI report's figures exactly; a
holiday added on Tuesday 17 November to the default calendar changes exactly one outcome: case B,
opened Mon 16:00 and first answered Tue 14:00 (1 h + 5 h of business time against 240 minutes: late),
is answered after 1 business hour when Tuesday is a holiday.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.errors import Forbidden, NotFound, ValidationFailed
from cases.core.models import Case, Task
from cases.whatif import runs
from tests.cases.kpis.test_kpis import sh
from tests.cases.whatif.snapshot import whole_database

WEEK = (date(2026, 11, 16), date(2026, 11, 22))
NOW = sh(26, 12)
HOLIDAY = {"calendars": {"default": {"extra_holidays": ["2026-11-17"]}}}


def replay(world, proposal, user="owner"):
    return runs.replay_period(world.user(user), *WEEK, proposal, now=NOW)


def test_the_control_reproduces_the_stored_outcomes_and_the_kpis(world, dataset):
    before = whole_database()
    result = replay(world, {})
    assert result["cases"] == 7
    control = result["control"]
    assert control["mismatched_cases"] == 0 and control["mismatches"] == []
    kpis = control["kpis"]
    assert kpis["report"] == {"cases": 7, "first_response_within_sla": [5, 7], "resolution_within_sla": [3, 7],
                              "first_response_average_seconds": 5050.0}
    assert kpis["actual"] == kpis["control"] == kpis["report"] and kpis["equal"] and control["equal"]
    assert result["totals"]["control"] == result["totals"]["proposal"]
    assert result["changed"] == {"cases": 0, "targets": 0, "listed": []}
    by_agent = {g["key"]: g for g in result["groups"]["agent"]}
    assert by_agent["consultant1"]["control"]["cases"] == 3
    assert by_agent["consultant1"]["control"]["resolution_within_sla"]["numerator"] == 1
    by_tier = {g["key"]: g["actual"]["cases"] for g in result["groups"]["tier"]}
    assert by_tier == {"standard": 5, "vip": 2}
    assert result["tier_sources"] == {"case": 7}
    # the work each role received: every task of the week's cases, by its lane
    tasks = db.session.execute(select(Task.lane, func.count()).join(Case, Case.id == Task.case_id)
                               .where(Case.id.in_([dataset[n] for n in "ABCDEJK"])).group_by(Task.lane)).all()
    assert {lane: sum(result["load"]["by_hour"][lane]) for lane, _ in tasks} == dict(tasks)
    assert sum(result["load"]["by_day"]["agent"].values()) == dict(tasks)["agent"]
    assert result["load"]["by_day"]["agent"]["2026-11-16"] >= 2  # A at 10:00, B at 16:00
    assert whole_database() == before


def test_a_holiday_changes_exactly_the_case_it_should(world, dataset):
    before = whole_database()
    result = replay(world, HOLIDAY)
    assert result["control"]["equal"]
    assert result["changed"]["cases"] == 1 and result["changed"]["targets"] == 1
    [changed] = result["changed"]["listed"]
    assert changed["case"].endswith(f"{dataset['B']:06d}")
    [target] = changed["targets"]
    assert (target["kind"], target["before"], target["after"]) == ("first_response", "breached", "in_time")
    assert (target["before_elapsed_minutes"], target["after_elapsed_minutes"]) == (360.0, 60.0)
    assert result["totals"]["proposal"]["first_response_within_sla"]["numerator"] == 6
    assert result["totals"]["control"]["first_response_within_sla"]["numerator"] == 5

    why = runs.explain(world.user("owner"), changed["case"], HOLIDAY, now=NOW)
    first = next(t for t in why["targets"] if t["kind"] == "first_response")
    assert first["changed"] and (first["before"], first["after"]) == ("breached", "in_time")
    days = next(r for r in first["reasons"] if r["code"] == "hours_differ")["days"]
    assert days == [{"date": "2026-11-17", "before_minutes": 480, "after_minutes": 0, "holiday": True}]
    assert "holiday" in first["text"] and "60.0 business minutes used instead of 360.0" in first["text"]
    assert whole_database() == before


def test_a_draft_policy_with_a_slower_promise(world, dataset):
    rules = [{"priority": "*", "tier": "*", "first_response": 480, "resolution": 960}]
    result = replay(world, {"policy": {"calendar": "default", "rules": rules}})
    changed = {c["case"]: [(t["kind"], t["before"], t["after"]) for t in c["targets"]]
               for c in result["changed"]["listed"]}
    b = next(n for n in changed if n.endswith(f"{dataset['B']:06d}"))
    assert ("first_response", "breached", "in_time") in changed[b]
    assert result["proposal"]["policy"]["rules"][0]["first_response"] == 480
    built_in = replay(world, {"policy": {"version": 0}})  # what every case got: nothing changes
    assert built_in["changed"]["cases"] == 0


def test_bad_proposals_and_who_may_replay(world, dataset):
    with pytest.raises(ValidationFailed) as bad:
        replay(world, {"calendars": {"nowhere": {}, "default": {"hours": "x"}}, "extra": 1})
    fields = {e["field"] for e in bad.value.errors}
    assert {"proposal.extra", "proposal.calendars.nowhere", "proposal.calendars.default.hours"} <= fields
    with pytest.raises(ValidationFailed) as bad:
        replay(world, {"policy": {"version": 99}})
    assert bad.value.errors[0]["field"] == "proposal.policy.version"
    with pytest.raises(ValidationFailed):
        runs.replay_period(world.user("owner"), date(2026, 11, 22), date(2026, 11, 16), {})
    for user in ("supervisor", "agent1"):
        with pytest.raises(Forbidden):
            replay(world, {}, user)
    assert replay(world, {}, "admin")["cases"] == 7
    with pytest.raises(NotFound):
        runs.explain(world.user("owner"), "CF-0000-000000", {}, now=NOW)


def test_save_compare_and_csv(world, dataset):
    owner = world.user("owner")
    a = runs.save(owner, "control", *WEEK, {}, now=NOW)
    b = runs.save(owner, "holiday on the 17th", *WEEK, HOLIDAY, now=NOW)
    assert [r.name for r in runs.list_runs(owner)] == ["holiday on the 17th", "control"]
    assert runs.read_run(owner, b.id).proposal == {"calendars": {"default": b.proposal["calendars"]["default"]}}
    compared = runs.compare(owner, a.id, b.id)
    first = next(r for r in compared["figures"] if r["figure"] == "first_response_within_sla")
    assert (first["first"], first["second"]) == (round(5 / 7, 4), round(6 / 7, 4)) and compared["same_period"]
    rows = runs.csv_rows(b.result)
    assert ("total", "", "first_response_within_sla", round(5 / 7, 4), round(5 / 7, 4), round(6 / 7, 4)) in rows
    runs.delete_run(owner, a.id)
    with pytest.raises(NotFound):
        runs.read_run(owner, a.id)
