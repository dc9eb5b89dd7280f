"""The foreign-tool and malformed corpus (tests/fixtures/corpus, written by generate.py there): each
file, validated beside the real process files, is told every expected problem with its file,
element, line and wording class, in sentences a process owner can act on (English and Chinese)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.errors import DefinitionError
from engine.runtime import Engine
from tests.engine.conftest import PROCESS_FILES, process_handlers

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
#: what a library's exception text or an object's repr looks like
LEAKS = re.compile(r"0x[0-9a-f]{6,}|Error\(|Exception|Traceback|<Element |%r|\bNone\b|\{[a-z_]+\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def problems_of(files: dict[str, bytes]):
    try:
        return list(Engine(process_handlers()).build(files).problems)
    except DefinitionError as exc:
        return exc.problems


def test_the_corpus_is_large_and_covers_every_wording_class():
    assert len(EXPECTED) >= 40
    codes = {e["code"] for expected in EXPECTED.values() for e in expected}
    assert {"unsupported_element", "foreign_attribute", "juel", "script_language", "timer_unquoted", "timer_unknown",
            "task_multiple_outgoing", "unreachable", "dead_end", "dangling_flow", "no_default", "not_executable",
            "no_start", "no_end", "malformed_xml", "not_bpmn", "schema", "dmn_feel_list", "dmn_cell",
            "dmn_cell_count", "called_process_missing", "decision_missing"} <= codes


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_expected_problem_is_named_with_file_element_and_line(name):
    problems = problems_of({**PROCESS_FILES, name: (CORPUS / name).read_bytes()})
    assert problems, name
    for expected in EXPECTED[name]:
        found = [p for p in problems if p.code == expected["code"] and p.element == expected["element"]]
        assert found, (expected, [(p.code, p.element, p.line) for p in problems])
        assert found[0].file == name
        if expected["line"] is not None:
            assert found[0].line == expected["line"], (expected, found[0])
        else:
            assert isinstance(found[0].line, int)
    for problem in problems:
        assert problem.file == name, problem  # nothing is blamed on the real files beside it
        assert problem.code, problem  # every sentence is one of ours, in both languages
        for lang in ("en", "zh_CN"):
            message = problem.as_dict(lang)["message"]
            assert not LEAKS.search(message), message
            assert message.rstrip().endswith((".", "。", "）", ")")), message  # never cut off
        assert CJK.search(problem.as_dict("zh_CN")["message"])


def test_problems_in_many_files_come_back_at_once():
    names = ["data_store_reference.bpmn", "camunda_assignee.bpmn", "gateway_without_default.bpmn",
             "timer_unquoted_duration.bpmn", "dmn_feel_list.dmn", "unreachable_task.bpmn"]
    problems = problems_of({**PROCESS_FILES, **{n: (CORPUS / n).read_bytes() for n in names}})
    assert {p.file for p in problems} == set(names)


def _chain(n: int) -> bytes:
    tasks = "\n".join(f'<bpmn:task id="t{i}" />' for i in range(n))
    flows = "\n".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="t{i}" targetRef="t{i + 1}" />' for i in range(n - 1))
    return (f'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'id="d" targetNamespace="t">\n<bpmn:process id="chain" isExecutable="true">\n<bpmn:startEvent id="s" />\n'
            f'{tasks}\n<bpmn:endEvent id="e" />\n<bpmn:sequenceFlow id="fs" sourceRef="s" targetRef="t0" />\n{flows}\n'
            f'<bpmn:sequenceFlow id="fe" sourceRef="t{n - 1}" targetRef="e" />\n</bpmn:process>\n</bpmn:definitions>\n').encode()


def _fan(n: int) -> bytes:
    tasks = "\n".join(f'<bpmn:task id="t{i}" />' for i in range(n))
    flows = "\n".join(f'<bpmn:sequenceFlow id="a{i}" sourceRef="split" targetRef="t{i}" />\n'
                      f'<bpmn:sequenceFlow id="b{i}" sourceRef="t{i}" targetRef="join" />' for i in range(n))
    return (f'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'id="d" targetNamespace="t">\n<bpmn:process id="fan" isExecutable="true">\n<bpmn:startEvent id="s" />\n'
            f'<bpmn:parallelGateway id="split" />\n{tasks}\n<bpmn:parallelGateway id="join" />\n<bpmn:endEvent id="e" />\n'
            f'<bpmn:sequenceFlow id="fs" sourceRef="s" targetRef="split" />\n{flows}\n'
            f'<bpmn:sequenceFlow id="fe" sourceRef="join" targetRef="e" />\n</bpmn:process>\n</bpmn:definitions>\n').encode()


def _nested(depth: int) -> bytes:
    opening = "".join(f'<bpmn:subProcess id="sub{i}"><bpmn:startEvent id="s{i}" /><bpmn:endEvent id="e{i}" />'
                      f'<bpmn:sequenceFlow id="in{i}" sourceRef="s{i}" targetRef="sub{i + 1}" />'
                      f'<bpmn:sequenceFlow id="out{i}" sourceRef="sub{i + 1}" targetRef="e{i}" />' for i in range(depth))
    closing = "</bpmn:subProcess>" * depth
    return (f'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'id="d" targetNamespace="t">\n<bpmn:process id="deep" isExecutable="true">\n<bpmn:startEvent id="s" />\n'
            f'<bpmn:endEvent id="e" />\n<bpmn:sequenceFlow id="fs" sourceRef="s" targetRef="sub0" />\n'
            f'<bpmn:sequenceFlow id="fe" sourceRef="sub0" targetRef="e" />\n{opening}<bpmn:task id="sub{depth}" />'
            f'{closing}\n</bpmn:process>\n</bpmn:definitions>\n').encode()


def test_a_5000_step_chain_is_refused_with_a_sentence():
    problems = problems_of({**PROCESS_FILES, "chain.bpmn": _chain(5000)})
    assert [(p.code, p.file) for p in problems] == [("path_too_long", "chain.bpmn")]
    assert problems[0].element and problems[0].line and "Split it into called processes" in problems[0].message


def test_a_300_step_chain_is_accepted():
    assert problems_of({**PROCESS_FILES, "chain.bpmn": _chain(290)}) == []


def test_a_5000_way_gateway_is_checked():
    assert problems_of({**PROCESS_FILES, "fan.bpmn": _fan(5000)}) == []


@pytest.mark.parametrize(("depth", "code"), [(12, "nesting_too_deep"), (40, "nesting_too_deep"),
                                             (400, "too_deep_xml")])
def test_deeply_nested_subprocesses_get_a_sentence(depth, code):
    problems = problems_of({**PROCESS_FILES, "deep.bpmn": _nested(depth)})
    assert problems and {p.code for p in problems} == {code} and all(p.file == "deep.bpmn" for p in problems)
