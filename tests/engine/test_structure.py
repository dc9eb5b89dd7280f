"""Diagram shapes SpiffWorkflow accepts silently but caseflow refuses at deploy."""
from __future__ import annotations

from engine.runtime import Engine
from tests.engine.conftest import PROCESS_FILES, process_handlers


def _problems(files: dict[str, bytes]):
    return Engine(process_handlers()).build(files).problems


def _real_files() -> dict[str, bytes]:
    return dict(PROCESS_FILES)


def test_the_real_process_has_none_of_these_shapes():
    assert _problems(_real_files()) == ()


def test_a_signal_end_event_is_refused():
    files = _real_files()
    files["support_case.bpmn"] = files["support_case.bpmn"].replace(
        b'<bpmn:incoming>f_low_score_complaint</bpmn:incoming>\n    </bpmn:endEvent>',
        b'<bpmn:incoming>f_low_score_complaint</bpmn:incoming>\n      <bpmn:signalEventDefinition id="s" />\n    </bpmn:endEvent>')
    [problem] = _problems(files)
    assert problem.element == "case_closed" and "signal end event" in problem.message
    assert problem.file == "support_case.bpmn" and problem.line


def test_an_unsupported_hit_policy_is_refused():
    files = _real_files()
    files["classify_case.dmn"] = files["classify_case.dmn"].replace(b'hitPolicy="FIRST"', b'hitPolicy="RULE ORDER"')
    [problem] = _problems(files)
    assert problem.element == "classify_case_table" and "RULE ORDER" in problem.message


def test_a_loop_with_no_way_out_is_refused():
    loop = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="loop" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="join"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="again"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="join" />
    <bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="again" />
    <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="join" />
  </bpmn:process>
</bpmn:definitions>"""
    problems = _problems({"loop.bpmn": loop})
    assert [(p.element, p.code) for p in problems] == [("loop", "no_end"), ("again", None)]
    assert "no way out" in problems[1].message and "join" in problems[1].message
