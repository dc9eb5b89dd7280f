"""Several people completing or claiming the same task at the same moment: exactly one wins."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import CaseEvent, Task
from tests.helpers import DATA, only_task, open_case

RACERS = 6


def _race(app, api, url: str, bodies: list[tuple[str, dict]]) -> list[int]:
    tokens = [api.token(user) for user, _ in bodies]
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def run(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        r = client.post(url, json=bodies[i][1], headers={"Authorization": f"Bearer {tokens[i]}"})
        statuses[i] = r.status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


def test_concurrent_completions_of_one_task_exactly_one_wins(app, api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    body = {"version": task["version"], "data": DATA["classify"]}
    users = ["agent1", "agent2", "supervisor"] * (RACERS // 3)
    statuses = _race(app, api, f"/api/v1/tasks/{task['id']}/complete", [(u, body) for u in users])
    assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
    completions = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case["id"], CaseEvent.kind == "task_completed"))
    assert completions == 1
    open_tasks = db.session.scalars(select(Task.element_id).where(Task.case_id == case["id"],
                                                                  Task.state == "open")).all()
    assert open_tasks == ["assign"]


def test_concurrent_claims_exactly_one_wins(app, api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    task = only_task(api, case["id"])
    body = {"version": task["version"]}
    statuses = _race(app, api, f"/api/v1/tasks/{task['id']}/claim",
                     [(u, body) for u in ["agent1", "agent2"] * (RACERS // 2)])
    assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
    db.session.expire_all()
    claimed = db.session.get(Task, task["id"])
    assert claimed.assignee is not None and claimed.version == task["version"] + 1


def test_a_survey_link_answered_at_the_same_moment_counts_once(app, api, world):
    from tests.api.test_complaints import survey_token
    from tests.api.test_surveys import at_callback, call_back

    case_id = at_callback(api, world)
    call_back(api, case_id, {"reached": True, "callback_channel": "online"})
    token = survey_token(case_id)
    db.session.rollback()  # end this session's read: the racers' commits are seen afterwards
    statuses = _race(app, api, f"/api/v1/surveys/by-token/{token}",
                     [("acme_user", {"score": 1 + i % 5}) for i in range(RACERS)])
    assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
    answers = db.session.scalars(select(CaseEvent.data).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "survey_answered")).all()
    assert len(answers) == 1
    opened = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "complaint_opened"))
    assert opened == (1 if answers[0]["score"] <= 2 else 0)  # at most the winner's low score opens one
