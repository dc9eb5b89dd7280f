"""Every reason a process owner reads about moving cases — the dry run, the move, the revert, a
refused mapping, a refused diagram — is in Chinese on the Chinese pages (the domain hands codes
and parameters; the page renders them)."""
from __future__ import annotations

import re

from cases.process.deploy import active_version
from tests.helpers import deploy_variant, open_case, step, without_assign
from tests.web.test_zh_walk import ALLOWED, ENGLISH_RUN, _visible_text


def _needs_a_new_variable(text: str) -> str:
    return text.replace("owner = suggested_owner\n", "owner = suggested_owner\nescalation_team = team_of_the_case\n")


def _reasons(page: str, table_id: str) -> list[str]:
    table = re.search(rf'<table class="list" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    return [_visible_text(f"<div>{li}</div>") for li in re.findall(r"<li>(.*?)</li>", table, re.S)]


def _chinese(texts: list[str]) -> None:
    assert texts
    for text in texts:
        assert re.search(r"[\u4e00-\u9fff]", text), text
        assert ENGLISH_RUN.findall(ALLOWED.sub(" ", text)) == [], text


def test_the_reasons_on_the_chinese_owner_pages_are_chinese(api, world, pages, tmp_path, restore_active_version):
    acme = world.customers["ACME"].id
    at_classify = open_case(api, customer_id=acme)
    at_assign = open_case(api, customer_id=acme)
    step(api, at_assign["id"], "classify")
    past_assign = open_case(api, customer_id=acme)
    for element in ("classify", "assign"):
        step(api, past_assign["id"], element)
    source = active_version().id
    no_assign = deploy_variant(tmp_path, without_assign, "noassign").id
    needs_var = deploy_variant(tmp_path, _needs_a_new_variable, "needsvar").id
    owner = pages("owner")
    owner.post("/language", {"lang": "zh_CN"})

    # the dry run: a removed current step, a removed passed step; a variable nothing writes
    dry = owner.text(owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": no_assign}))
    reasons = _reasons(dry, "verdicts")
    assert any("当前步骤 'assign'" in r for r in reasons) and any("案件已经过步骤 'assign'" in r for r in reasons)
    _chinese(reasons)
    dry = owner.text(owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": needs_var}))
    reasons = _reasons(dry, "verdicts")
    assert any("team_of_the_case" in r for r in reasons)
    _chinese(reasons)

    # the move: the cases that stay say why in Chinese; the revert of a case that went on too
    moved = owner.text(owner.post("/owner/migrations/migrate", {"from_version": source, "to_version": no_assign,
                                                                "expected_moves": 3, "confirmed": "yes"}))
    _chinese(_reasons(moved, "skipped"))
    batch = re.search(r'<code id="batch">([^<]+)</code>', moved).group(1)
    step(api, at_classify["id"], "classify")  # the moved case goes on: it cannot move back
    back = owner.text(owner.post(f"/owner/migrations/{batch}/revert"))
    reasons = _reasons(back, "skipped")
    assert reasons == ["迁移之后该案件已继续办理，无法移回"]

    # a mapping that cannot be used, named by the field, in Chinese
    refused = owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": no_assign,
                                                       "mapping": "nowhere = resolve"})
    assert refused.status_code == 422
    errors = re.search(r'<ul class="field-error" id="mapping-errors">(.*?)</ul>', owner.text(refused), re.S).group(1)
    assert 'data-field="mapping.nowhere"' in errors
    _chinese([_visible_text(f"<div>{errors}</div>")])
    assert "nowhere = resolve" in owner.text(refused)  # what was typed is kept
    wrong_shape = owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": no_assign,
                                                           "mapping": "just one id"})
    assert wrong_shape.status_code == 422 and "第 1 行" in owner.text(wrong_shape)
    same = owner.text(owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": source}))
    assert "请选择与案件当前所在版本不同的版本。" in same

    # the modeller's validation of input that is not a diagram
    empty = owner.post("/owner/editor/support_case.bpmn/validate", {"bpmn": " "}).get_json()
    assert empty["errors"][0]["message"] == "流程图为空。"
