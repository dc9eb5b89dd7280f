"""The assignment page: managers set skills, duty rosters and dedicated consultants (audited);
supervisors read them; others are refused; a bad roster line changes nothing."""
from __future__ import annotations

from cases.core import accounts
from cases.core.db import db
from cases.process import assignment, staffing
from tests.api.dbstate import db_snapshot
from tests.conftest import FAST_HASH, PASSWORD


def test_a_manager_sets_skills_a_roster_and_a_dedicated_consultant(pages, world):
    accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
    manager = pages("manager1")
    text = manager.text(manager.get("/staffing"))
    assert 'id="user-agent1"' in text and 'id="customer-VIPCO"' in text
    r = manager.post("/staffing/users/agent1/skills", {"categories": ["hardware_repair", "data_problem"],
                                                      "products": "U8 ERP, T+ "})
    assert r.status_code == 303
    r = manager.post("/staffing/users/agent1/roster", {"timezone": "Asia/Shanghai",
                                                      "shifts": "0 08:00-20:00\n6 20:00-24:00\n"})
    assert r.status_code == 303
    vip = world.customers["VIPCO"].id
    assert manager.post(f"/staffing/customers/{vip}/dedicated", {"username": "consultant2"}).status_code == 303
    page = manager.text(manager.get("/staffing"))
    assert "The dedicated consultant is saved." in page and "T+, U8 ERP" in page
    manager_user = world.user("manager1")
    assert staffing.read_skills(manager_user, "agent1").categories == ["data_problem", "hardware_repair"]
    assert [(s.weekday, s.start, s.end) for s in staffing.read_roster(manager_user, "agent1").shifts] == [
        (0, "08:00", "20:00"), (6, "20:00", "24:00")]
    assert assignment.dedicated_consultant(vip).username == "consultant2"


def test_a_bad_roster_line_changes_nothing_and_others_only_read_or_are_refused(pages, world):
    accounts.create_user("manager1", PASSWORD, ["manager"], hash_method=FAST_HASH)
    manager = pages("manager1")
    manager.get("/staffing")
    before = db_snapshot()
    r = manager.post("/staffing/users/agent1/roster", {"timezone": "Asia/Shanghai", "shifts": "monday 9-5"})
    assert r.status_code == 303
    assert "Nothing was changed" in manager.text(manager.get("/staffing"))
    assert db_snapshot() == before
    supervisor = pages("supervisor")
    text = supervisor.text(supervisor.get("/staffing"))
    assert 'id="user-agent1"' in text and "Save skills" not in text
    assert supervisor.post("/staffing/users/agent1/skills", {"categories": ["data_problem"]}).status_code == 403
    agent = pages("agent1")
    assert agent.get("/staffing").status_code == 403
    db.session.rollback()
