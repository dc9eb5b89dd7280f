"""Never lose or double work, in Chromium: Back after "Send" and Send again opens one case (the
one-time form token survives the Back); a file far over the limit brings the form back with
everything typed and the reason beside the field; a stale save keeps the typed note."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case


def _count(title: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.title == title))


def test_back_after_send_and_send_again_opens_one_case(api, page_as):
    customer = page_as("acme_user")
    customer.goto("/portal/cases/new")
    first_token = customer.locator("input[name=form_token]").input_value()
    customer.get_by_label("Subject").fill("Back and send again")
    customer.get_by_label("What happened?").fill("The report hangs.")
    customer.locator("main form button[type=submit]").click()
    expect(customer.locator("h1")).to_have_text("Back and send again")
    customer.go_back()
    expect(customer.get_by_label("Subject")).to_have_value("Back and send again")
    assert customer.locator("input[name=form_token]").input_value() == first_token
    customer.locator("main form button[type=submit]").click()
    expect(customer.locator("h1")).to_have_text("Back and send again")
    expect(customer.locator("main")).to_contain_text("This form was sent already")
    assert _count("Back and send again") == 1


def test_a_file_far_over_the_limit_brings_the_form_back_with_everything_typed(app, page_as):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        customer = page_as("acme_user", locale="zh-CN")
        customer.goto("/portal/cases/new")
        hint = customer.locator("#field-files-hint")
        expect(hint).to_contain_text("5")  # the limits are named before sending
        customer.get_by_label("标题").fill("日志太大")
        description = "导出报表时卡住。" * 2000
        customer.get_by_label("发生了什么问题？").fill(description)
        customer.locator("#field-files").set_input_files(
            files=[{"name": "huge.log", "mimeType": "text/plain", "buffer": b"x" * 20_000}])  # > 2x 5 files' limit
        expect(customer.locator("#field-files-size")).to_contain_text("huge.log")  # said before sending
        customer.locator("main form button[type=submit]").click()
        expect(customer.locator("#field-files-error")).to_be_visible()
        assert customer.get_by_label("标题").input_value() == "日志太大"
        assert customer.get_by_label("发生了什么问题？").input_value() == description
    finally:
        app.config.pop("ATTACHMENT_MAX_BYTES")
    assert _count("日志太大") == 0
