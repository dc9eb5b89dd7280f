"""The benchmark's standard path stays a real path: bench/lifecycle.py drives it through the API and
through the bare engine, and a process or form change that breaks it fails here, not in a benchmark
run nobody reads."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lifecycle():
    spec = importlib.util.spec_from_file_location("bench_lifecycle", ROOT / "bench" / "lifecycle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_bare_engine_runs_the_path_to_the_end_with_a_save_and_load_per_step(lifecycle):
    engine = lifecycle.BareEngine()
    assert engine.run_case(persist=True) > 0  # raises unless every step is the expected one and the end is reached


def test_the_benchmark_path_closes_a_case_through_the_api(lifecycle, api, world):
    demo_to_test = {"huaxin": "acme_user"}  # the benchmark logs in as the demo customer user
    case = api.post("/api/v1/cases", "agent1",
                    json={**lifecycle.CASE_BODY, "customer_id": world.customers["ACME"].id}).json
    tasks, walked = case["tasks"], []
    for _ in range(lifecycle.MAX_STEPS):
        if not tasks:
            case = api.get(f"/api/v1/cases/{case['id']}", "admin").json
            if case["status"] == "closed":
                break
            tasks = case["tasks"]
        [task] = tasks
        element = task["element_id"]
        walked.append(element)
        user = task["assignee"] or lifecycle.WORKER[element]
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", demo_to_test.get(user, user),
                        json={"version": task["version"], "data": lifecycle.STEP_DATA[element]})
        assert done.status_code == 200, done.json
        tasks = done.json["next_tasks"]
    assert case["status"] == "closed"
    assert walked == [element for element, _ in lifecycle.STEPS]
