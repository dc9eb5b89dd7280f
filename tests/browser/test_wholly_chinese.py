"""In Chromium, in Chinese and English: an agent's task names its step from the diagram in the page's
language; a customer reads what support asked, answers, and later writes to support from the case
page — no lanes, claims or stages on their pages; a double click on the new-case form's Send opens one case."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case
from tests.helpers import DATA, open_case, step

STEP = {"en": ("Classify", "Support asked", "Write to support", "Send"),
        "zh-CN": ("分类", "支持人员提问", "给支持人员留言", "发送")}


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_step_names_the_conversation_and_writing_to_support(api, world, page_as, screenshot, locale):
    classify_name, asked, write, _send = STEP[locale]
    case = open_case(api, customer_id=world.customers["ACME"].id, title="月末报表打开时报错",
                     description="打开月末报表时提示错误。")
    agent = page_as("agent1", locale=locale)
    agent.goto(f"/cases/{case['id']}")
    expect(agent.locator("#case-diagram .diagram-fallback, #case-diagram svg").first).to_be_attached()
    task_link = agent.get_by_role("link", name=re.compile("受理与分类" if locale == "zh-CN" else "Classify the case"))
    task_link.click()
    expect(agent.locator(".facts").first).to_contain_text(classify_name)
    if locale == "zh-CN":
        expect(agent.locator("main")).not_to_contain_text("Classify")

    step(api, case["id"], "classify")
    step(api, case["id"], "assign", DATA["assign"])
    step(api, case["id"], "resolve", {"analysis": "内部：缓存问题。", "outcome": "need_info", "question": "哪张报表？几点？"})
    customer = page_as("acme_user", locale=locale)
    customer.goto("/portal")
    customer.locator("#waiting li[data-kind=question] a").click()
    expect(customer.locator("#answer")).to_contain_text("哪张报表？几点？")
    customer.locator("#answer textarea").fill("月末报表，9 点。")
    customer.locator("#answer button").click()
    thread = customer.locator("#thread")
    expect(thread).to_contain_text("哪张报表？几点？")  # the question stays after the answer
    expect(thread).to_contain_text("月末报表，9 点。")
    expect(thread.locator("li[data-kind=question] .what")).to_have_text(asked)
    customer.get_by_label(write).fill("季度报表也打不开。")
    customer.locator("#write-form button[type=submit]").click()
    expect(thread).to_contain_text("季度报表也打不开。")
    main = customer.locator("main")
    for inside in ("泳道", "领取", "阶段", "Lane", "Claim", "Stage", "内部：缓存问题。"):
        expect(main).not_to_contain_text(inside)
    screenshot(customer, f"case-customer-conversation-{locale}")


def test_a_double_click_on_send_opens_one_case(api, page_as):
    customer = page_as("acme_user", locale="zh-CN")
    customer.goto("/portal/cases/new")
    customer.get_by_label("标题").fill("打印失败")
    customer.get_by_label("发生了什么问题？").fill("什么都没打印出来。")
    customer.locator("main form button[type=submit]").dblclick()  # the browser sends the form twice
    expect(customer.locator("h1")).to_have_text("打印失败")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.title == "打印失败")) == 1
