"""The unit of work: one transaction per block, nested blocks join, and a unit that is entered and
never closed (a request torn down by a dropped database connection) leaves nothing behind when
it is collected in another thread."""
from __future__ import annotations

import gc
import threading

import pytest
from sqlalchemy import func, select

from cases.core.db import db, unit_of_work
from cases.core.models import Customer


def _customers() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def test_a_block_commits_and_a_failing_block_rolls_back(app_ctx):
    with unit_of_work():
        db.session.add(Customer(code="KEPT", name="Kept", tier="standard"))
    with pytest.raises(RuntimeError), unit_of_work():
        db.session.add(Customer(code="GONE", name="Gone", tier="standard"))
        db.session.flush()
        raise RuntimeError("fails")
    assert [c.code for c in db.session.scalars(select(Customer))] == ["KEPT"]


def test_a_nested_unit_joins_the_outer_one(app_ctx):
    with pytest.raises(RuntimeError), unit_of_work():
        with unit_of_work():
            db.session.add(Customer(code="INNER", name="Inner", tier="standard"))
        raise RuntimeError("the outer unit fails after the inner one ended")
    assert _customers() == 0


def test_an_abandoned_unit_collected_elsewhere_touches_nothing(app, app_ctx):
    def abandon_one() -> None:
        with app.app_context():
            unit = unit_of_work()
            unit.__enter__()  # entered, never closed; the thread ends and drops it
            kept = {"unit": unit}
            kept["self"] = kept  # a reference cycle, like Flask's g: only the collector frees it

    thread = threading.Thread(target=abandon_one)
    thread.start()
    thread.join()
    with unit_of_work():
        db.session.add(Customer(code="MINE", name="Mine", tier="standard"))
        db.session.flush()
        gc.collect()  # the abandoned unit goes now, inside this thread's open unit
    assert _customers() == 1
