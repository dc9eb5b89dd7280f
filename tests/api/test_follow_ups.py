"""Follow-ups after a deployment (processes/customer_follow_up.bpmn) through HTTP: a manager sets the
customer's deployment date; the follow-up programme's four date timers fire once each at 1, 3, 6 and
12 months (the clock frozen and moved, never slept on), each mailing its own survey and opening a
follow-up call; a corrected date moves the follow-ups not yet due."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import select

from cases.casework.models import Survey
from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case
from cases.process import timers
from cases.process.models import Timer
from tests.conftest import FAST_HASH
from tests.helpers import get_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


def deploy(api, customer_id: int, day: str, as_user: str = "manager"):
    return api.request("PUT", f"/api/v1/customers/{customer_id}/deployment", as_user, json={"deployed_on": day})


def calls(api, case_id: int) -> list[str]:
    return sorted(t["element_id"] for t in get_case(api, case_id)["tasks"])


def milestones_surveyed(case_id: int) -> list[int]:
    return sorted(db.session.scalars(select(Survey.milestone).where(Survey.case_id == case_id)))


def test_follow_ups_fire_once_each_at_1_3_6_and_12_months(api, world):
    accounts.create_user("manager", "secret-pw", ["manager"], hash_method=FAST_HASH)
    acme = world.customers["ACME"].id
    with freeze_time(datetime(2026, 1, 10, 12, tzinfo=SHANGHAI)) as frozen:
        r = deploy(api, acme, "2026-01-15")  # a Thursday
        assert r.status_code == 200, r.json
        programme = r.json["follow_up_case"]
        expected = {"1": datetime(2026, 2, 24, 9, tzinfo=SHANGHAI),  # Feb 15-23: the Spring Festival holidays
                    "3": datetime(2026, 4, 15, 10, tzinfo=SHANGHAI),
                    "6": datetime(2026, 7, 15, 10, tzinfo=SHANGHAI),
                    "12": datetime(2027, 1, 15, 10, tzinfo=SHANGHAI)}
        assert {k: datetime.fromisoformat(v) for k, v in r.json["milestones"].items()} == expected
        case = get_case(api, programme["id"])
        assert (case["kind"], case["stage"], case["tasks"], case["sla"]["targets"]) == ("follow_up", "processing", [], [])
        rows = db.session.scalars(select(Timer.due_at).where(Timer.case_id == programme["id"])).all()
        assert sorted(rows) == sorted(expected.values())

        done = []
        for months in ("1", "3", "6", "12"):
            frozen.move_to(expected[months] - timedelta(seconds=1))
            assert timers.fire_due() == {}  # not yet
            frozen.move_to(expected[months] + timedelta(seconds=1))
            fired = timers.fire_due()
            assert list(fired.values()) == [[f"due_{months}"]]
            assert timers.fire_due() == {}  # once
            done.append(int(months))
            api.forget_tokens()
            assert calls(api, programme["id"]) == sorted(f"follow_up_call_{m}" for m in done)
            assert milestones_surveyed(programme["id"]) == done
        case = get_case(api, programme["id"])
        for months in done:
            task = next(t for t in case["tasks"] if t["element_id"] == f"follow_up_call_{months}")
            r = api.post(f"/api/v1/tasks/{task['id']}/complete", task["assignee"], json={
                "version": task["version"], "data": {"reached": True, "callback_channel": "phone",
                                                     "satisfaction": 2 if months == 6 else 5}})
            assert r.status_code == 200, r.json
        case = get_case(api, programme["id"])
    assert case["status"] == "closed"
    assert [c["kind"] for c in case["linked_cases"]] == ["complaint"]  # the 6-month call's score of 2
    assert db.session.scalar(select(Timer.id).where(Timer.case_id == programme["id"])) is None


def test_a_corrected_date_moves_the_follow_ups_not_yet_due(api, world):
    acme = world.customers["ACME"].id
    with freeze_time(datetime(2026, 3, 1, 12, tzinfo=SHANGHAI)) as frozen:
        first = deploy(api, acme, "2026-01-20", as_user="admin").json["follow_up_case"]
        # the 1-month follow-up (Feb 20, in the holidays: Feb 24) had passed: it is due at once
        assert calls(api, first["id"]) == ["follow_up_call_1"]
        frozen.move_to(datetime(2026, 3, 2, 12, tzinfo=SHANGHAI))
        assert timers.fire_due() == {}
        api.forget_tokens()
        r = deploy(api, acme, "2026-02-10", as_user="admin")
        assert r.status_code == 200 and r.json["follow_up_case"]["id"] == first["id"]  # the same programme
        read = api.get(f"/api/v1/customers/{acme}/deployment", "supervisor").json
        assert (read["deployed_on"], read["follow_up_case"]["id"]) == ("2026-02-10", first["id"])
        rows = db.session.scalars(select(Timer.due_at).where(Timer.case_id == first["id"])).all()
    assert sorted(rows) == [datetime(2026, 5, 11, 9, tzinfo=SHANGHAI),  # May 10 is a Sunday
                            datetime(2026, 8, 10, 10, tzinfo=SHANGHAI),
                            datetime(2027, 2, 11, 9, tzinfo=SHANGHAI)]  # the 2027 Spring Festival holidays
    assert db.session.scalar(select(Case.kind).where(Case.id == first["id"])) == "follow_up"


def test_only_admins_and_managers_set_a_deployment_date(api, world):
    acme = world.customers["ACME"].id
    none_yet = api.get(f"/api/v1/customers/{acme}/deployment", "agent1")
    assert none_yet.status_code == 200
    assert (none_yet.json["deployed_on"], none_yet.json["follow_up_case"], none_yet.json["milestones"]) == (None, None, {})
    assert api.get(f"/api/v1/customers/{acme}/deployment", "acme_user").status_code == 403
    assert deploy(api, acme, "2026-01-15", as_user="agent1").status_code == 403
    assert deploy(api, acme, "2026-01-15", as_user="acme_user").status_code == 403
    assert deploy(api, 999999, "2026-01-15", as_user="admin").status_code == 404
    r = deploy(api, acme, "2026-13-01", as_user="admin")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "deployed_on"
    assert deploy(api, acme, "1900-01-01", as_user="admin").status_code == 422
    assert db.session.scalar(select(Case.id)) is None  # nothing started
