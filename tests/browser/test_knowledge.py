"""In a real browser, in both languages: a customer searches the knowledge base and reads an article
in their language; an agent writes and publishes an article and inserts a canned answer and an
article into a reply to a customer, keeping what was typed."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.api.test_self_service import article
from tests.helpers import open_case


def test_a_customer_searches_the_knowledge_base_in_chinese(api, page_as, screenshot):
    article(api, "如何重置登录密码", "在登录页点击“忘记密码”，输入邮箱后按邮件中的链接重置密码。")
    article(api, "Resetting your password", "Choose Forgot password on the log-in page.", language="en")
    page = page_as("acme_user", "zh-CN")
    page.get_by_role("navigation").get_by_role("link", name="知识库").click()
    page.get_by_label("搜索").fill("密码")
    page.locator("#kb-search").get_by_role("button", name="搜索").click()
    expect(page.locator("#kb-total")).to_contain_text("1 篇文章")
    expect(page.locator("#kb-articles")).not_to_contain_text("Resetting your password")
    screenshot(page, "knowledge-zh")
    page.get_by_role("link", name="如何重置登录密码").click()
    expect(page.locator("#kb-body")).to_contain_text("按邮件中的链接重置密码")


def test_an_agent_publishes_an_article_and_inserts_answers_into_a_reply(api, world, page_as, screenshot):
    supervisor = page_as("supervisor")
    supervisor.goto("/canned-answers")
    supervisor.get_by_label("Name").fill("On it")
    supervisor.get_by_label("Text in Chinese").fill("我们正在处理。")
    supervisor.get_by_label("Text in English").fill("We are on it.")
    supervisor.get_by_role("button", name="Save the canned answer").click()
    expect(supervisor.locator("#canned-answers")).to_contain_text("We are on it.")

    agent = page_as("agent1")
    agent.goto("/knowledge")
    agent.get_by_role("link", name="New article").click()
    agent.get_by_label("Title").fill("Exporting the customer list")
    agent.locator("#kb-body").fill("Reports > Customers > Export > Excel.")
    agent.get_by_label("Published: customers read it").check()
    agent.get_by_role("button", name="Save the article").click()
    expect(agent.locator("#kb-status")).to_have_text("published")

    case = open_case(api, customer_id=world.customers["ACME"].id)
    agent.goto(f"/cases/{case['id']}")
    agent.get_by_label("Your reply").fill("Dear Ms Li,")
    agent.get_by_label("Canned answer").select_option(label="On it (English)")
    agent.locator("#reply").get_by_role("button", name="Insert").click()
    expect(agent.get_by_label("Your reply")).to_have_value("Dear Ms Li,\n\nWe are on it.")
    agent.locator("#reply").get_by_label("Knowledge-base article").fill("export customer list")
    agent.get_by_role("button", name="Find").click()
    agent.locator("#reply-kb-hits").get_by_role("button", name="Insert").first.click()
    expect(agent.get_by_label("Your reply")).to_have_value(
        "Dear Ms Li,\n\nWe are on it.\n\nExporting the customer list\n\nReports > Customers > Export > Excel.")
    screenshot(agent, "case-reply-insert")
    agent.get_by_role("button", name="Send the reply").click()
    expect(agent.locator(".flash-success")).to_be_visible()
    expect(agent.locator("#timeline")).to_contain_text("Reply to the customer")
