"""Through the application: a diagram script that loops or bombs the memory, run in a script
worker, refuses the step exactly as an in-process script error did (422 process_error naming the
element, nothing saved, the instance noted for operators) and the next case works."""
from __future__ import annotations

import pytest

from cases.process.runs import get_engine
from engine.isolation.sandbox import POOL, IsolatedSandbox
from tests.helpers import deploy_variant, only_task, open_case, step

REOPEN = "reopen_count = reopen_count + 1"


@pytest.fixture(params=[
    ("n = 0\nwhile True:\n    n += 1", "longer than 1s"),
    ("x = 'x' * 10**10", "longer than 100000"),
])
def looping_reopen(request, tmp_path, restore_active_version):
    script, needle = request.param
    deploy_variant(tmp_path, lambda text: text.replace(REOPEN, script))
    return needle


def test_a_looping_script_refuses_the_step_and_the_worker_serves_the_next_case(api, world, looping_reopen):
    assert isinstance(get_engine().sandbox, IsolatedSandbox) and get_engine().sandbox.enabled
    case = open_case(api, customer_id=world.customers["ACME"].id)
    for element in ("classify", "assign", "resolve"):
        step(api, case["id"], element)
    confirm = only_task(api, case["id"])
    r = api.post(f"/api/v1/tasks/{confirm['id']}/complete", "acme_user",
                 json={"version": confirm["version"], "data": {"confirmed": False, "confirmation_comment": "no"}})
    assert r.status_code == 422, r.json
    assert r.json["code"] == "process_error" and r.json["element"] == "count_reopen"
    assert only_task(api, case["id"]) == confirm  # nothing was saved
    trouble = api.get("/api/v1/instances/trouble", "owner").json
    assert [t["error_element"] for t in trouble] == ["count_reopen"]
    assert looping_reopen in trouble[0]["error_message"]
    assert POOL.workers()  # the workers are there, alive
    other = open_case(api, customer_id=world.customers["ACME"].id)  # the next case runs its scripts
    for element in ("classify", "assign", "resolve"):
        step(api, other["id"], element)
    step(api, other["id"], "confirm", {"confirmed": True})
