"""The command line, run through Flask's CLI runner against the test database."""
from __future__ import annotations

from sqlalchemy import select

from cases.casework.models import Survey
from cases.core.db import db
from cases.core.models import Case, Customer, Task, User
from server.cli import main


def test_deploy_command_reports_the_active_version(app):
    result = app.test_cli_runner().invoke(main, args=["deploy"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output and "support_case" in result.output


def test_create_user_command(app, app_ctx):
    result = app.test_cli_runner().invoke(main, args=["create-user", "carol", "--password", "pw", "--role", "agent",
                                                "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "carol"))
    assert user.roles == {"agent", "supervisor"}
    bad = app.test_cli_runner().invoke(main, args=["create-user", "dave", "--password", "pw", "--role", "wizard"])
    assert bad.exit_code != 0 and "unknown roles" in bad.output


def test_demo_data_loads_cases_at_different_steps_once(app, app_ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(main, args=["demo-data", "--password", "pw"])
    assert result.exit_code == 0, result.output
    assert "supervisor" in result.output and "huaxin" in result.output
    assert db.session.scalar(select(Customer).where(Customer.code == "YUANHANG")).tier == "vip"
    stages = set(db.session.scalars(select(Case.stage)))
    assert {"classifying", "assigning", "in_progress", "awaiting_confirmation", "waiting:customer_reply",
            "closed"} <= stages
    assert db.session.scalar(select(Task).where(Task.state == "open", Task.element_id == "classify"))
    # complaints (a linked case of their own), surveys answered, and follow-ups after a deployment
    kinds = set(db.session.scalars(select(Case.kind)))
    assert kinds == {"support", "complaint", "follow_up", "risk_review", "training", "major_incident", "visit",
                     "maintenance"}
    assert db.session.scalar(select(Case).where(Case.kind == "complaint", Case.parent_case_id.is_not(None)))
    assert db.session.scalar(select(Survey).where(Survey.answered_at.is_not(None)))
    assert db.session.scalar(select(Task).where(Task.state == "open", Task.element_id.like("follow_up_call_%")))
    # the customer records: contracts in force (YUANHANG's is VIP), contacts, an installed base to announce to
    from cases.customers import records as customer_records
    yuanhang = db.session.scalar(select(Customer).where(Customer.code == "YUANHANG"))
    assert customer_records.active_contract(yuanhang.id).tier == "vip"
    record = customer_records.view(yuanhang, internal=True)
    assert record.primary_contact.name == "陈静" and {p.product for p in record.products} == {"财务软件", "物流管理系统"}
    huaxin = customer_records.view(db.session.scalar(select(Customer).where(Customer.code == "HUAXIN")), True)
    assert [c.status_on(customer_records.today()) for c in huaxin.contracts] == ["active", "expired"]
    assert [c.code for c in customer_records.running_product("财务软件", below_version="7.3")] == ["BETA", "HUAXIN"]
    # the knowledge base: published articles in both languages, a draft, canned answers in both languages
    from cases.knowledge.models import CannedAnswer, KnowledgeArticle
    shown = set(db.session.execute(select(KnowledgeArticle.language, KnowledgeArticle.status)))
    assert shown == {("zh", "published"), ("en", "published"), ("zh", "draft")}
    assert all(a.text_zh and a.text_en for a in db.session.scalars(select(CannedAnswer)))
    again = runner.invoke(main, args=["demo-data"])
    assert again.exit_code == 0 and "already present" in again.output


def test_validate_command_names_each_problem(app, tmp_path):
    from tests.helpers import process_files
    runner = app.test_cli_runner()
    good = runner.invoke(main, args=["validate"])
    assert good.exit_code == 0 and good.output.strip() == "valid"
    processes, forms = process_files(tmp_path, lambda t: t.replace("reopen_count = reopen_count + 1", "import os"))
    bad = runner.invoke(main, args=["validate", "--processes", str(processes), "--forms", str(forms)])
    assert bad.exit_code != 0
    assert "support_case.bpmn:" in bad.output and "[count_reopen]" in bad.output and "Import" in bad.output
