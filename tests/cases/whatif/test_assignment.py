"""Assignment proposals on a hand-built history: consultations opened at known Shanghai instants through
the real API and process, their ``answer_consultation`` step assigned by the diagram's strategy (least
loaded; a variant on duty), then replayed.

* the control (no change) gives back every recorded first holder;
* least loaded replayed as round robin moves exactly the task round robin gives another agent;
* a roster proposal with agent1 off duty on Tuesday moves exactly agent1's Tuesday task; with no roster
  at all, every task stays with the lane and is counted as nobody on duty.
"""
from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time

from cases.core.db import db
from cases.core.errors import Forbidden, ValidationFailed
from cases.core.models import UserRole
from cases.whatif import runs
from tests.cases.kpis.test_kpis import sh
from tests.cases.whatif.snapshot import whole_database
from tests.helpers import deploy_variant, get_case, only_task, open_case, step

WEEK = (date(2026, 11, 16), date(2026, 11, 22))
NOW = sh(26, 12)
TASK = "answer_consultation"
EVERY_DAY = {"timezone": "Asia/Shanghai", "shifts": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]}
NOT_TUESDAY = {"timezone": "Asia/Shanghai",
               "shifts": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7) if d != 1]}


def on_duty(text: str) -> str:
    start = text.index(f'<bpmn:userTask id="{TASK}"')
    end = text.index("</bpmn:userTask>", start)
    return text[:start] + text[start:end].replace('value="least_loaded"', 'value="on_duty"') + text[end:]


def consultations(api, world, opened: list[tuple[tuple[int, int], str]]) -> list[tuple[str, str | None]]:
    """Open and classify one consultation per (Shanghai day and hour, priority): (case number, assignee)."""
    found = []
    for (day, hour), priority in opened:
        with freeze_time(sh(day, hour)):
            api.forget_tokens()
            case = open_case(api, customer_id=world.customers["ACME"].id)
            step(api, case["id"], "classify", {"category": "general_consultation", "priority": priority})
            task = only_task(api, case["id"])
            assert task["element_id"] == TASK
            found.append((get_case(api, case["id"])["number"], task["assignee"]))
    api.forget_tokens()
    return found


def replay(world, proposal, user="owner"):
    return runs.replay_period(world.user(user), *WEEK, proposal, now=NOW)["assignment"]


LEAST_LOADED = [((16, 10), "urgent"), ((16, 11), "low"), ((17, 10), "low"), ((17, 11), "medium"),
                ((18, 10), "medium")]


def test_the_control_gives_back_every_recorded_holder(api, world):
    history = consultations(api, world, LEAST_LOADED)
    assert [a for _, a in history] == ["agent1", "agent2", "agent2", "agent2", "agent1"]
    before = whole_database()
    result = replay(world, {"assignment": {}})
    control = result["control"]
    assert control == {"equal": True, "checked": 5, "mismatched": 0, "reasons": {}, "mismatches": []}
    assert result["moved"]["tasks"] == 0 and result["moved"]["examples"] == []
    people = {p["key"]: p for p in result["people"]}
    assert people["agent1"]["actual"] == people["agent1"]["control"] == people["agent1"]["proposal"]
    assert (people["agent1"]["actual"], people["agent2"]["actual"]) == (2, 3)
    assert people["agent2"]["actual"] == people["agent2"]["control"] == people["agent2"]["proposal"]
    # the classify steps wait in the lane (pool) in every column
    assert people[None]["actual"] == people[None]["proposal"] == 5
    agent = {r["key"]: r for r in result["roles"]}["agent"]
    assert agent == {"key": "agent", "tasks": 10, "actual": 5, "control": 5, "proposal": 5}
    assert sum(result["by_day"]["agent2"]["2026-11-17"].values()) == 4  # two received, two columns
    assert whole_database() == before


def test_least_loaded_replayed_as_round_robin(api, world):
    history = consultations(api, world, LEAST_LOADED)
    result = replay(world, {"assignment": {"strategies": {TASK: "round_robin"}}})
    assert result["control"]["equal"]
    # round robin: agent1, agent2, agent1, agent2, agent1 against the recorded agent1, agent2, agent2, agent2,
    # agent1: only the third consultation (Tuesday 10:00) goes to another person
    assert result["moved"]["tasks"] == 1 and result["moved"]["cases"] == 1
    (example,) = result["moved"]["examples"]
    assert (example["case"], example["actual"], example["control"], example["proposal"]) == \
        (history[2][0], "agent2", "agent2", "agent1")
    assert example["rule"] == {"control": "least_loaded", "proposal": "round_robin"} and example["why"] == "round_robin"
    people = {p["key"]: p for p in result["people"]}
    assert (people["agent1"]["control"], people["agent1"]["proposal"]) == (2, 3)
    assert (people["agent2"]["control"], people["agent2"]["proposal"]) == (3, 2)
    # the lane as the key: the classify steps (pool) are dealt out too
    by_lane = replay(world, {"assignment": {"strategies": {"agent": "round_robin"}}})
    assert {p["key"]: p["proposal"] for p in by_lane["people"]}.get(None, 0) == 0
    assert by_lane["replayed"] == 10


def test_a_roster_proposal_moves_exactly_the_tasks_of_the_day_off(api, world, tmp_path, restore_active_version):
    deploy_variant(tmp_path, on_duty)
    for name in ("agent1", "agent2"):
        r = api.request("PUT", f"/api/v1/users/{name}/roster", "admin", json=EVERY_DAY)
        assert r.status_code == 200, r.json
    history = consultations(api, world, [((16, 10), "medium"), ((16, 11), "medium"), ((17, 10), "medium"),
                                         ((17, 11), "medium"), ((18, 10), "medium")])
    assert [a for _, a in history] == ["agent1", "agent2", "agent1", "agent2", "agent1"]
    control_only = replay(world, {"assignment": {}})
    assert control_only["control"]["equal"] and control_only["control"]["checked"] == 5

    result = replay(world, {"assignment": {"rosters": {"agent1": NOT_TUESDAY}}})
    assert result["control"]["equal"]
    # Tuesday 10:00 went to agent1: under the proposal agent1 is off, agent2 takes it; nothing else moves
    # (Wednesday: agent1 holds one medium task, agent2 three: still agent1's)
    assert [e["case"] for e in result["moved"]["examples"]] == [history[2][0]]
    assert result["moved"]["examples"][0]["proposal"] == "agent2" and result["moved"]["examples"][0]["why"] == "on_duty"
    assert result["nobody_on_duty"] == {"control": 0, "proposal": 0}

    nobody = replay(world, {"assignment": {"rosters": {"agent1": None, "agent2": None}}})
    assert nobody["nobody_on_duty"] == {"control": 0, "proposal": 5}
    assert nobody["moved"]["tasks"] == 5
    assert {e["proposal"] for e in nobody["moved"]["examples"]} == {None}
    assert {e["why"] for e in nobody["moved"]["examples"]} == {"nobody_on_duty"}


def test_bad_assignment_proposals_name_every_field(world):
    before = whole_database()
    with pytest.raises(ValidationFailed) as exc:
        runs.replay_period(world.user("owner"), *WEEK, {"assignment": {
            "strategies": {"nolane": "fastest", "agent": "least_loaded"},
            "rosters": {"agent1": {"timezone": "Mars/Olympus", "shifts": [{"weekday": 9, "start": "08:00",
                                                                           "end": "07:00"}]},
                        "ghost": None},
            "skills": {"agent2": {"categories": ["printers"], "products": []}},
            "dedicated_consultants": {"NOPE": "consultant1", "VIPCO": "agent1"},
            "extra": 1}}, now=NOW)
    assert {e["field"] for e in exc.value.errors} == {
        "proposal.assignment.extra", "proposal.assignment.strategies.nolane",
        "proposal.assignment.rosters.agent1.timezone", "proposal.assignment.rosters.agent1.shifts.0.weekday",
        "proposal.assignment.rosters.agent1.shifts.0",
        "proposal.assignment.rosters.ghost", "proposal.assignment.skills.agent2.categories.0",
        "proposal.assignment.dedicated_consultants.NOPE", "proposal.assignment.dedicated_consultants.VIPCO"}
    assert whole_database() == before


def test_only_managers_process_owners_and_admins(world):
    db.session.add(UserRole(user_id=world.user("supervisor").id, role="manager"))
    db.session.commit()
    assert replay(world, {"assignment": {}}, user="supervisor")["tasks"] == 0
    for user in ("agent1", "consultant1"):
        with pytest.raises(Forbidden):
            replay(world, {"assignment": {}}, user=user)
