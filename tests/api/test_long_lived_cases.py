"""A case reopened again and again through the API, its far finished engine history cut from the
stored state (engine/history.py, with a low threshold here so a few rounds reach it): the case goes
on, reopens again and closes as before; its history and its diagram's progress keep the first round."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cases.core.db import db
from cases.process import diagrams
from cases.process.models import ProcessInstance
from engine import history
from tests.helpers import get_case, only_task, open_case, step


@pytest.fixture
def prune_early(monkeypatch):
    monkeypatch.setattr(history, "PRUNE_ABOVE", 40)
    monkeypatch.setattr(history, "KEEP_FINISHED", 10)


def _stored(case_id: int) -> dict:
    db.session.rollback()
    state = db.session.scalar(select(ProcessInstance.state).where(ProcessInstance.case_id == case_id))
    return json.loads(state)


def _reject(api, case_id: int, turn: int) -> None:
    step(api, case_id, "resolve")
    step(api, case_id, "confirm", {"confirmed": False, "confirmation_comment": f"still broken {turn}"})
    if only_task(api, case_id)["element_id"] == "supervisor_review":
        step(api, case_id, "supervisor_review", {"decision": "continue", "review_note": "Once more"})


def test_a_reopened_case_goes_on_with_its_history_cut_from_the_state(api, world, prune_early):
    case_id = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    step(api, case_id, "classify")
    step(api, case_id, "assign")
    for turn in range(1, 7):
        before = get_case(api, case_id)["reopen_count"]
        _reject(api, case_id, turn)
        assert get_case(api, case_id)["reopen_count"] == before + 1
    state = _stored(case_id)
    record = state["tasks"][state["root"]]["internal_data"][history.PRUNED_KEY]
    assert record["tasks"] > 0 and len(state["tasks"]) <= 40
    assert {"classify", "assign"} <= set(record["elements"]["support_case"])

    # the diagram still shows the first round's steps as done, and where the case is
    [diagram] = [d for d in diagrams.case_diagrams(world.user("supervisor"), case_id) if d.process_id == "support_case"]
    assert {"classify", "assign", "resolve", "confirm", "supervisor_review"} <= set(diagram.completed)
    assert "resolve" in diagram.current

    # reopened once more, then confirmed, called back and closed
    _reject(api, case_id, 7)
    assert get_case(api, case_id)["reopen_count"] == 7
    step(api, case_id, "resolve")
    step(api, case_id, "confirm", {"confirmed": True}, as_user="acme_user")
    step(api, case_id, "callback", {"reached": True, "callback_channel": "phone", "satisfaction": 4})
    closed = get_case(api, case_id)
    assert closed["status"] == "closed" and closed["stage"] == "closed"
    # the history is the case's events, whole: every step of every round, in order
    completed = [e["data"]["element"] for e in closed["history"] if e["kind"] == "task_completed"]
    rounds = completed[2:-3]
    assert completed[:2] == ["classify", "assign"] and completed[-3:] == ["resolve", "confirm", "callback"]
    assert rounds.count("confirm") == 7 and rounds.count("resolve") == 7
    assert rounds.count("supervisor_review") == 4  # the 4th rejection on
