"""Round robin by turns (issue 16): the lane's users in turn, a new user of the role next, a step
that rolls back gives the turn back, and on PostgreSQL two steps at once take two different users
instead of queueing on one row."""
from __future__ import annotations

import threading

import pytest

from cases.core import accounts
from cases.core.db import db, unit_of_work
from cases.process.assignment import next_user
from tests.conftest import FAST_HASH, PASSWORD


def _names(count: int) -> list[str]:
    names = []
    for _ in range(count):
        with unit_of_work():
            names.append(next_user("agent").username)
    return names


def test_the_lanes_users_take_turns_in_order(world):
    assert _names(4) == ["agent1", "agent2", "agent1", "agent2"]


def test_a_user_new_to_the_role_has_the_next_turn(world):
    assert _names(2) == ["agent1", "agent2"]
    accounts.create_user("agent3", PASSWORD, ["agent"], "Agent 3", "agent3@example.com", None, hash_method=FAST_HASH)
    db.session.commit()
    assert _names(4) == ["agent3", "agent1", "agent2", "agent3"]


def test_a_step_that_rolls_back_gives_the_turn_back(world):
    assert _names(1) == ["agent1"]
    with pytest.raises(RuntimeError), unit_of_work():
        assert next_user("agent").username == "agent2"
        raise RuntimeError("the step failed")
    assert _names(1) == ["agent2"]


def test_one_step_taking_two_turns_of_a_role_without_autoflush_takes_two_users(world):
    """A step's bookkeeping runs without autoflush (one flush at the commit): its second turn of the
    same role still sees the first (not undone by the re-read of the turn rows)."""
    with unit_of_work(), db.session.no_autoflush:
        assert [next_user("agent").username, next_user("agent").username] == ["agent1", "agent2"]
    assert _names(2) == ["agent1", "agent2"]


def test_two_steps_at_once_take_different_users(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises write transactions: two steps are never at once there")
    _names(2)  # every agent has a turn row
    first_holds, release = threading.Event(), threading.Event()
    chosen: dict[str, str] = {}

    def first() -> None:
        with app.app_context(), unit_of_work():
            chosen["first"] = next_user("agent").username
            first_holds.set()
            release.wait(30)  # still in its transaction: its user's row stays locked

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert first_holds.wait(30)
        with app.app_context(), unit_of_work():
            chosen["second"] = next_user("agent").username  # does not wait for the first
    finally:
        release.set()
        thread.join(30)
    assert {chosen["first"], chosen["second"]} == {"agent1", "agent2"}
