"""In a real browser: a technical lead plans the quarter's staff technical training from the training
page and sees it with its invitations; an agent raises a risk from a case page and finds it in the
register; a supervisor draws a sample of closed cases and audits one against the checklist."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from cases.core.db import db
from cases.core.models import Case
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_technical_lead_plans_the_quarterly_technical_training(page_as, screenshot):
    lead = page_as("techlead")
    lead.get_by_role("navigation").get_by_role("link", name="Training").click()
    form = lead.locator("#plan-form")
    form.get_by_label("Kind").select_option("staff_technical")
    form.get_by_label("Title").fill("Q3 technical training: backups")
    starts = (datetime.now(SHANGHAI) + timedelta(days=12)).strftime("%Y-%m-%dT14:00")
    form.get_by_label("Starts").fill(starts)
    form.get_by_label("Invite (user names, separated by spaces)").fill("agent1 consultant1")
    screenshot(lead, "training-plan")
    form.get_by_role("button", name="Plan and invite").click()
    expect(lead.locator(".flash-success")).to_contain_text("2 invitations")
    expect(lead.locator("#participants")).to_contain_text("agent1")
    lead.get_by_role("link", name="Training").first.click()
    expect(lead.locator("#sessions")).to_contain_text("Q3 technical training: backups")


def test_an_agent_raises_a_risk_from_a_case(api, world, page_as, screenshot):
    case = open_case(api, "agent1", world.customers["ACME"].id, title="Warehouse module crash after update")
    agent = page_as("agent1")
    agent.goto(f"/cases/{case['id']}")
    agent.locator("#raise-risk summary").click()
    panel = agent.locator("#raise-risk")
    panel.get_by_label("Risk").fill("Updates break the warehouse module")
    panel.get_by_label("Level").select_option("high")
    panel.get_by_label("Contingency plan").fill("Roll back to the previous version.")
    panel.get_by_label("Review date").fill((datetime.now(SHANGHAI) + timedelta(days=14)).date().isoformat())
    screenshot(agent, "case-raise-risk")
    panel.get_by_role("button", name="Raise the risk").click()
    expect(agent.locator("#evidence")).to_contain_text(case["number"])
    agent.get_by_role("navigation").get_by_role("link", name="Risks").click()
    expect(agent.locator("#risks")).to_contain_text("Updates break the warehouse module")


def test_a_supervisor_draws_a_sample_and_audits_a_case(api, world, page_as, screenshot):
    case = open_case(api, "agent1", world.customers["ACME"].id)
    row = db.session.get(Case, case["id"])
    row.status, row.closed_at = "closed", datetime.now(SHANGHAI) - timedelta(days=2)
    db.session.commit()
    supervisor = page_as("supervisor")
    supervisor.get_by_role("navigation").get_by_role("link", name="Quality").click()
    today = datetime.now(SHANGHAI).date()
    supervisor.get_by_label("From").fill((today - timedelta(days=30)).isoformat())
    supervisor.get_by_label("To", exact=True).fill(today.isoformat())
    supervisor.get_by_label("Share of the closed cases, in per cent").fill("100")
    supervisor.get_by_role("button", name="Draw").click()
    expect(supervisor.locator(".flash-success")).to_contain_text("1 cases drawn")
    supervisor.locator("#audits").get_by_role("link", name=case["number"]).click()
    supervisor.get_by_label("Category and priority were recorded").check()
    screenshot(supervisor, "quality-audit")
    supervisor.get_by_role("button", name="Record the audit").click()
    expect(supervisor.locator(".flash-success")).to_contain_text("Audit recorded")
    expect(supervisor.locator("#audits")).to_contain_text("audited")
