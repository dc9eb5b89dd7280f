"""SLA badges in business terms: working hours (never 24-hour days), a target met late shown as met
beside the next running one, and the inbox ordered by that running target's due time."""
from __future__ import annotations

from freezegun import freeze_time

from tests.cases.sla.test_sla import move, sh
from tests.helpers import open_case, step


def test_overdue_is_counted_in_working_hours_and_met_targets_stay_met(api, pages, world):
    acme = world.customers["ACME"].id
    with freeze_time(sh(2, 9)) as frozen:  # Monday 2 November 2026
        case = open_case(api, customer_id=acme, priority_hint="medium", title="Ledger export fails")
        move(api, frozen, sh(5, 11))  # Thursday 11:00: first response (240 min) long overdue
        agent = pages("agent1")
        page = agent.text(agent.get("/inbox?scope=claimable"))
        # 3 days 8 h + Thursday 2 h = 26 working hours, less the 4 h target: 22 working hours late
        assert "First response: overdue by 22 working hours" in page and " d " not in page
        step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
        move(api, frozen, sh(5, 11, 5))
        page = agent.text(agent.get("/inbox?scope=all"))
        # the resolution (960 min, 26 h used) is the running one; the first response is shown as met
        assert "Resolution: overdue by 10 working hours" in page
        assert "First response: met 22 working hours late" in page
        case_page = agent.text(agent.get(f"/cases/{case['id']}"))
        assert "Resolution: overdue by 10 working hours" in case_page and "met 22 working hours late" in case_page
    api.forget_tokens()


def test_the_inbox_badge_is_the_target_it_is_ordered_by(api, pages, world):
    acme = world.customers["ACME"].id
    with freeze_time(sh(2, 9)) as frozen:
        late = open_case(api, customer_id=acme, priority_hint="low", title="Older, low")  # due in 480 min
        move(api, frozen, sh(2, 10))
        soon = open_case(api, customer_id=acme, priority_hint="urgent", title="Newer, urgent")  # due in 60 min
        agent = pages("agent1")
        page = agent.text(agent.get("/inbox?scope=claimable&order=due"))
        assert page.index("Newer, urgent") < page.index("Older, low")
        assert "First response: 1 working hour left" in page and "First response: 7 working hours left" in page
        move(api, frozen, sh(2, 10, 20))
        page = agent.text(agent.get("/inbox?scope=claimable&order=due"))
        assert "40 working minutes left" in page
        assert late["id"] != soon["id"]
    api.forget_tokens()
