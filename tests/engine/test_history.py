"""engine/history.py: a long-lived instance's far finished history is cut from its stored state,
and nothing the application reads from the state changes (the same steps, data, waits, progress on
the diagram and verdicts of a move), against the same case stored whole (one case, a frozen clock)."""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from freezegun import freeze_time

from engine import history
from engine.migration import Reason
from engine.runtime import ProcessRun
from tests.engine.conftest import VERSION_KEY, CaseDriver, start_data
from tests.engine.test_dataflow_calls import FORMS
from tests.engine.test_migration_mapping import TARGET, _renamed

NOW = "2030-01-07 02:00:00"
REJECTIONS = 12  # past supervisor review (the 4th on), each round ~15 engine tasks


@contextmanager
def stored_whole() -> Iterator[None]:
    """Pruning off: what the case stored whole does runs inside this."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(history, "PRUNE_ABOVE", 10**9)
        yield


def _trace(run: ProcessRun) -> dict[str, Any]:
    return {"tasks": [(t.id, t.element_id, t.lane, t.data) for t in run.user_tasks()],
            "waiting": sorted((w.kind, w.element_id, w.name, w.due_at, w.task_id) for w in run.waiting()),
            "data": run.data, "completed": run.completed, "progress": run.progress()}


def _reopened() -> CaseDriver:
    """A case rejected by its customer ``REJECTIONS`` times, back at resolve, stored whole after every step."""
    with stored_whole(), freeze_time(NOW):
        case = CaseDriver(data=start_data(title="Printer keeps failing"))
        case.to_resolve()
        for _ in range(REJECTIONS):
            case.complete("resolve", outcome="resolved")
            case.complete("confirm", confirmed=False, reason="still broken")
            if case.task().element_id == "supervisor_review":
                case.complete("supervisor_review", decision="continue")
        case.task("resolve")
    return case


def _load(case: CaseDriver, state: str) -> ProcessRun:
    return case.new_engine().load(VERSION_KEY, case.process_id, state)


def _pruned(case: CaseDriver, whole_state: str) -> str:
    return _load(case, whole_state).dump()


def _tasks_in(state: str) -> dict[str, Any]:
    return json.loads(state)["tasks"]


def _driver_on(case: CaseDriver, state: str) -> CaseDriver:
    driver = copy.copy(case)
    driver.states = []
    driver.run = _load(case, state)
    return driver


def test_a_fresh_case_is_stored_as_the_library_stores_it():
    case = CaseDriver()
    case.to_resolve()
    state = case.run.dump()
    assert len(_tasks_in(state)) < history.PRUNE_ABOVE
    root = json.loads(state)["root"]
    assert history.PRUNED_KEY not in _tasks_in(state)[root]["internal_data"]


def test_the_stored_state_keeps_only_the_recent_history():
    case = _reopened()
    whole = case.states[-1]
    pruned_state = _pruned(case, whole)
    full, pruned = _tasks_in(whole), _tasks_in(pruned_state)
    assert len(full) > history.PRUNE_ABOVE
    assert len(pruned) <= history.PRUNE_ABOVE
    root = json.loads(pruned_state)["root"]
    record = pruned[root]["internal_data"][history.PRUNED_KEY]
    # every task cut is counted, and the root's only child carries on
    assert record["tasks"] > 0 and record["tasks"] + len(pruned) == len(full)
    assert len(pruned[root]["children"]) == 1
    assert {"classify", "assign"} <= set(record["elements"]["support_case"])
    # what is kept is part of the whole tree: the same ids, states and specs
    for task_id, task in pruned.items():
        assert (full[task_id]["state"], full[task_id]["task_spec"]) == (task["state"], task["task_spec"])
    # a pruned state loads and saves unchanged
    assert _pruned(case, pruned_state) == pruned_state


def test_every_stored_step_reads_the_same_when_pruned():
    case = _reopened()
    pruned_some = 0
    for whole in case.states:
        pruned_state = _pruned(case, whole)
        pruned_some += pruned_state != whole
        with stored_whole():
            expected = _trace(_load(case, whole))
        assert _trace(_load(case, pruned_state)) == expected
    assert pruned_some > 0


def test_the_pruned_case_goes_on_as_the_whole_one():
    case = _reopened()
    whole = case.states[-1]
    on_pruned, on_whole = _driver_on(case, _pruned(case, whole)), _driver_on(case, whole)

    def go_on(driver: CaseDriver) -> list[dict[str, Any]]:
        traces = []
        with freeze_time(NOW):
            for confirmed in (False, True):  # reopened once more, then confirmed and called back
                driver.complete("resolve", outcome="resolved")
                driver.complete("confirm", confirmed=confirmed)
                if driver.task().element_id == "supervisor_review":
                    driver.complete("supervisor_review", decision="continue")
                traces.append([(t.element_id, t.data) for t in driver.run.user_tasks()])
            driver.complete("callback", satisfaction=4)
            traces.append([driver.run.completed, driver.run.data, driver.run.progress()])
        return traces

    expected = None
    with stored_whole():
        expected = go_on(on_whole)
    assert go_on(on_pruned) == expected
    assert on_pruned.run.completed and on_pruned.data["reopen_count"] == REJECTIONS + 1


def test_a_move_is_checked_as_on_the_whole_state():
    """The renamed target lacks assign, passed only in the first round (cut from the state): the move
    is refused for it as before; with the mapping it goes ahead and the case goes on."""
    case = _reopened()
    whole = case.states[-1]
    pruned_state = _pruned(case, whole)
    assert pruned_state != whole
    _renamed(case)
    engine = case.new_engine()
    verdict = engine.check_migration(VERSION_KEY, case.process_id, pruned_state, TARGET, forms=FORMS)
    with stored_whole():
        assert verdict == engine.check_migration(VERSION_KEY, case.process_id, whole, TARGET, forms=FORMS)
    assert not verdict.migratable
    assert Reason("move_history_removed", {"step": "assign"}) in verdict.reasons
    mapping = {"assign": "assign_owner"}
    assert engine.check_migration(VERSION_KEY, case.process_id, pruned_state, TARGET, forms=FORMS,
                                  mapping=mapping).migratable
    moved = engine.migrate(VERSION_KEY, case.process_id, pruned_state, TARGET, mapping=mapping)
    [task] = moved.user_tasks()
    assert task.element_id == "resolve"
    moved.complete(task.id, {"outcome": "resolved"})
    assert [t.element_id for t in moved.user_tasks()] == ["confirm"]


def test_a_same_version_dry_run_passes_on_the_pruned_state():
    case = _reopened()
    verdict = case.new_engine().check_migration(VERSION_KEY, case.process_id, _pruned(case, case.states[-1]),
                                                VERSION_KEY, forms=FORMS)
    assert verdict.migratable and verdict.reasons == ()
