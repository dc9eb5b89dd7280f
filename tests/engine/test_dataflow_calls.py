"""The dry run's variable check follows call activities into the process they call, with the
data that process receives, and on after it with what it hands back (real BPMN pairs: the
shipped files against a changed copy)."""
from __future__ import annotations

import json

from engine import dataflow
from engine.migration import Reason
from tests.engine.conftest import PROCESS_FILES, ROOT, VERSION_KEY, CaseDriver, start_data

TARGET = "support_case@2"
FORMS = {p.name: json.loads(p.read_text()) for p in (ROOT / "forms").glob("*.json")}


def _changed(files: dict[str, bytes], name: str, old: str, new: str) -> dict[str, bytes]:
    text = files[name].decode("utf-8")
    assert old in text, old
    return {**files, name: text.replace(old, new, 1).encode("utf-8")}


#: the evaluation's "Close: declined" reads a variable nothing sets (only a new intake would)
READS_A_NEW_VARIABLE = ("requirement_evaluation.bpmn",
                        'closure_reason = acceptance.get("reason") or "declined by the customer"',
                        'closure_reason = acceptance.get("reason") or decline_template')
#: ... and the called process's own settings script sets it
SETS_IT_TOO = ("requirement_evaluation.bpmn", "requirement_result = None",
               'requirement_result = None\ndecline_template = "declined by the customer"')
#: the caller's callback deadline reads what only the called process writes (its day rate)
CALLER_READS_WHAT_THE_CALLED_WRITES = ("support_case.bpmn", 'value="callback_within_days" />',
                                       'value="callback_within_days + 0 * person_day_rate" />')


def _with_target(case: CaseDriver, *changes: tuple[str, str, str]) -> None:
    files = dict(PROCESS_FILES)
    for change in changes:
        files = _changed(files, *change)
    case.store[TARGET] = case.new_engine().build(files).spec_json


def _check(case: CaseDriver):
    return case.new_engine().check_migration(VERSION_KEY, case.process_id, case.run.dump(), TARGET, forms=FORMS)


def _evaluating(**data) -> CaseDriver:
    case = CaseDriver(data=start_data(**data))
    case.complete("classify", category="new_requirement", priority="medium")
    assert case.task("contact_requester").process_id == "requirement_evaluation"
    return case


def test_a_variable_missing_in_the_called_process_is_named_with_its_element_and_process():
    case = CaseDriver()  # at classify: ahead lies the call to requirement_evaluation
    _with_target(case, READS_A_NEW_VARIABLE)
    verdict = _check(case)
    assert not verdict.migratable
    assert verdict.reasons == (Reason("move_variable_missing_called", {
        "element": "close_declined", "element_name": "Close: declined", "element_name_zh": "关闭：已拒绝",
        "name": "decline_template", "process": "requirement_evaluation"}),)
    assert str(verdict.reasons[0]) == (
        "the step 'close_declined' (Close: declined) of the called process 'requirement_evaluation' ahead reads "
        "the variable 'decline_template', which the case does not have and no step before it writes on every path")
    assert "被调用流程 'requirement_evaluation'" in verdict.reasons[0].text("zh_CN")


def test_the_called_process_receives_the_callers_data():
    case = CaseDriver(data=start_data(decline_template="declined"))  # the case has it: handed to the call
    _with_target(case, READS_A_NEW_VARIABLE)
    assert _check(case).migratable


def test_a_variable_the_called_process_writes_before_reading_it_is_fine():
    case = CaseDriver()
    _with_target(case, READS_A_NEW_VARIABLE, SETS_IT_TOO)
    assert _check(case).migratable


def test_a_case_inside_the_called_process_is_checked_there():
    case = _evaluating()
    _with_target(case, READS_A_NEW_VARIABLE)
    verdict = _check(case)
    assert [(r.code, r.params["element"], r.params["process"], r.params["name"]) for r in verdict.reasons] == [
        ("move_variable_missing_called", "close_declined", "requirement_evaluation", "decline_template")]


def test_what_the_called_process_hands_back_is_there_after_the_call_activity():
    # a case inside the evaluation has the day rate; every path ahead leaves the evaluation first
    inside = _evaluating()
    _with_target(inside, CALLER_READS_WHAT_THE_CALLED_WRITES)
    assert _check(inside).migratable, _check(inside).reasons
    # a case at classify may reach the callback without the evaluation (a service order path)
    before = CaseDriver()
    _with_target(before, CALLER_READS_WHAT_THE_CALLED_WRITES)
    verdict = _check(before)
    assert [(r.code, r.params["element"], r.params["name"]) for r in verdict.reasons] == [
        ("move_variable_missing", "schedule_callback", "person_day_rate")]


def test_the_walk_ignores_a_call_to_a_process_it_does_not_know():
    case = CaseDriver()
    spec = case.new_engine()._specs(VERSION_KEY)["support_case"][0]
    found = dataflow.missing_variables([(spec.start, set(start_data()))], FORMS, subprocesses={})
    assert all(m.process is None for m in found)
