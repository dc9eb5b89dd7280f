"""engine/migration.py: renamed steps mapped old -> new (the shipped support case against a copy
whose assign step is called assign_owner)."""
from __future__ import annotations

from engine.migration import MigrationBlocked, Reason
from tests.engine.conftest import PROCESS_FILES, VERSION_KEY, CaseDriver
from tests.engine.test_dataflow_calls import FORMS

TARGET = "support_case@renamed"


def _renamed(case: CaseDriver) -> None:
    text = PROCESS_FILES["support_case.bpmn"].decode("utf-8")
    for old, new in (('"assign"', '"assign_owner"'), (">assign<", ">assign_owner<")):
        text = text.replace(old, new)
    files = {**PROCESS_FILES, "support_case.bpmn": text.encode("utf-8")}
    case.store[TARGET] = case.new_engine().build(files).spec_json


def _at_assign() -> CaseDriver:
    case = CaseDriver()
    case.complete("classify", category="data_problem", priority="high")
    case.task("assign")
    return case


def test_without_a_mapping_the_renamed_step_blocks_the_move():
    case = _at_assign()
    _renamed(case)
    verdict = case.new_engine().check_migration(VERSION_KEY, case.process_id, case.run.dump(), TARGET)
    assert verdict.reasons == (Reason("move_step_removed_named", {
        "step": "assign", "name": "Assign owner and due date", "name_zh": "指定负责人和截止时间"}),)
    assert "当前步骤 'assign'（指定负责人和截止时间）在目标版本中不存在" == verdict.reasons[0].text("zh_CN")
    try:
        case.new_engine().migrate(VERSION_KEY, case.process_id, case.run.dump(), TARGET)
    except MigrationBlocked as exc:
        assert exc.reasons == verdict.reasons
    else:
        raise AssertionError("the move went ahead")


def test_with_the_mapping_the_case_lands_at_the_new_step_and_goes_on():
    case = _at_assign()
    _renamed(case)
    mapping = {"assign": "assign_owner"}
    engine = case.new_engine()
    assert engine.check_migration(VERSION_KEY, case.process_id, case.run.dump(), TARGET, forms=FORMS,
                                  mapping=mapping).migratable
    run = engine.migrate(VERSION_KEY, case.process_id, case.run.dump(), TARGET, mapping=mapping)
    assert [t.element_id for t in run.user_tasks()] == ["assign_owner"]
    # it survives a round trip on the new version (the step's boundary timer moved with it) and goes on
    reloaded = case.new_engine().load(TARGET, case.process_id, run.dump())
    task = reloaded.user_tasks()[0]
    reloaded.complete(task.id, {"owner": "alice", "due_at": "2030-01-01T09:00:00+00:00"})
    assert [t.element_id for t in reloaded.user_tasks()] == ["resolve"]


def test_the_mapping_is_checked_against_both_versions():
    case = _at_assign()
    _renamed(case)
    problems = case.new_engine().mapping_problems(VERSION_KEY, TARGET, {
        "assign": "assign_owner", "nowhere": "assign_owner", "classify": "resolve", "resolve": "contact_requester"})
    assert {old: r.code for old, r in problems.items()} == {
        "nowhere": "mapping_unknown_old", "classify": "mapping_old_kept", "resolve": "mapping_old_kept",
        "assign": "mapping_twice"}
    assert case.new_engine().mapping_problems(VERSION_KEY, TARGET, {"assign": "assign_owner"}) == {}
    assert case.new_engine().mapping_problems(VERSION_KEY, TARGET, {"assign": "contact_requester"})["assign"].code \
        == "mapping_other_process"
