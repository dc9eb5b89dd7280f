"""Engine.build: deploy-time checks of BPMN/DMN files."""
from __future__ import annotations

import json

import pytest

from engine.errors import DefinitionError, Problem, ProcessError
from engine.model import BuiltVersion
from engine.runtime import Engine
from engine.sandbox import Sandbox
from tests.engine.conftest import PROCESS_FILES, process_handlers, start_data

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def bpmn(*elements: str, process_id: str = "p") -> bytes:
    """A process ``start → elements… → end``; each element is given (incoming, outgoing) flows
    through the ``{IN}``/``{OUT}`` placeholders."""
    nodes, flows = [], []
    previous = "start"
    for i, element in enumerate(elements):
        node_id = f"n{i}"
        nodes.append(element.replace("{IN}", f"<bpmn:incoming>f{i}</bpmn:incoming>")
                     .replace("{OUT}", f"<bpmn:outgoing>f{i + 1}</bpmn:outgoing>"))
        flows.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="{_id(element, node_id)}" />')
        previous = _id(element, node_id)
    n = len(elements)
    flows.append(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{previous}" targetRef="end" />')
    body = "\n    ".join([
        '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>',
        *nodes,
        f'<bpmn:endEvent id="end"><bpmn:incoming>f{n}</bpmn:incoming></bpmn:endEvent>',
        *flows,
    ])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="{SPIFF_NS}"
                  id="defs_{process_id}" targetNamespace="http://caseflow.example/test">
  <bpmn:process id="{process_id}" isExecutable="true">
    {body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _id(element: str, default: str) -> str:
    marker = ' id="'
    if marker not in element:
        return default
    start = element.index(marker) + len(marker)
    return element[start:element.index('"', start)]


def script_task(task_id: str, script: str) -> str:
    return f'<bpmn:scriptTask id="{task_id}" name="Script {task_id}">{{IN}}{{OUT}}<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


def service_task(task_id: str, operator: str, params: str = "") -> str:
    return (f'<bpmn:serviceTask id="{task_id}">'
            f'<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="r">'
            f'<spiffworkflow:parameters>{params}</spiffworkflow:parameters>'
            f'</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>{{IN}}{{OUT}}</bpmn:serviceTask>')


def user_task(task_id: str) -> str:
    return f'<bpmn:userTask id="{task_id}" name="User {task_id}">{{IN}}{{OUT}}</bpmn:userTask>'


@pytest.fixture
def engine() -> Engine:
    return Engine(process_handlers())


def problems_of(engine: Engine, files: dict[str, bytes]) -> list[Problem]:
    """The problems build() finds in files that parse: listed in the result, which must then
    not be deployable (no spec, ``valid`` False). (An older contract raised DefinitionError
    for these too; either way the problems must be there.)"""
    try:
        built = engine.build(files)
    except DefinitionError as exc:
        problems = list(exc.problems)
    else:
        assert built.valid is False, "a build with problems must not be valid"
        assert not built.spec_json, "a build with problems must not produce a deployable spec"
        problems = list(built.problems)
    assert problems, "no problem reported"
    assert all(isinstance(p, Problem) for p in problems)
    return problems


def parse_problems(engine: Engine, files: dict[str, bytes]) -> list[Problem]:
    """Files that cannot be parsed at all raise DefinitionError."""
    with pytest.raises(DefinitionError) as info:
        engine.build(files)
    assert info.value.problems
    return list(info.value.problems)


# -- the helper itself builds valid files -------------------------------------------------------
def test_minimal_process_builds_and_runs(engine: Engine):
    files = {"ok.bpmn": bpmn(script_task("calc", "y = x * 2"), user_task("look"))}
    built = engine.build(files)
    assert built.valid, built.problems
    assert built.process_ids == ("p",)
    assert [(t.element_id, t.lane) for t in built.user_tasks] == [("look", None)]
    store = {"k": built.spec_json}
    run = Engine(engine.handlers, spec_loader=store.__getitem__).start("k", "p", {"x": 21})
    assert run.user_tasks()[0].data["y"] == 42


# -- the real processes --------------------------------------------------------------------------
def test_real_processes_build_cleanly(engine: Engine):
    built = engine.build(PROCESS_FILES)
    assert isinstance(built, BuiltVersion)
    assert built.valid and built.problems == ()
    assert built.process_ids == ("complaint_handling", "customer_follow_up", "maintenance_schedule", "major_incident",
                                 "requirement_evaluation", "risk_review", "service_visit", "support_case",
                                 "training_session")
    lanes = {t.element_id: (t.process_id, t.lane) for t in built.user_tasks}
    assert lanes == {
        "classify": ("support_case", "agent"),
        "assign": ("support_case", "agent"),
        "resolve": ("support_case", "service_consultant"),
        "confirm": ("support_case", "customer"),
        "callback": ("support_case", "agent"),
        "supervisor_review": ("support_case", "supervisor"),
        "answer_consultation": ("support_case", "agent"),
        "retrain_user": ("support_case", "agent"),
        "deliver_update": ("support_case", "service_consultant"),
        "advise": ("support_case", "service_consultant"),
        "repair_order": ("support_case", "service_consultant"),
        "negotiate_service": ("support_case", "business_manager"),
        "contact_requester": ("requirement_evaluation", "business_manager"),
        "assess_requirement": ("requirement_evaluation", "technical_lead"),
        "schedule_delivery": ("requirement_evaluation", "business_manager"),
        "acknowledge_complaint": ("complaint_handling", "complaint_officer"),
        "investigate_complaint": ("complaint_handling", "complaint_officer"),
        "sign_off_complaint": ("complaint_handling", "supervisor"),
        "supervisor_response": ("complaint_handling", "supervisor"),
        "review_dissatisfaction": ("complaint_handling", "supervisor"),
        **{f"follow_up_call_{m}": ("customer_follow_up", "agent") for m in (1, 3, 6, 12)},
        "review_risk": ("risk_review", "supervisor"),
        "record_attendance": ("training_session", "supervisor"),
        "follow_up_absentees": ("training_session", "supervisor"),
        "work_incident": ("major_incident", "supervisor"),
        "record_repair": ("service_visit", "service_consultant"),
    }
    assert len(built.user_tasks) == 29  # each once, though support_case calls requirement_evaluation
    by_id = {t.element_id: t for t in built.user_tasks}
    assert by_id["resolve"].properties["formJsonSchemaFilename"] == "resolve.schema.json"
    assert by_id["classify"].name == "Classify"
    assert "support_case" in json.loads(built.spec_json)


def test_real_processes_need_their_handlers():
    problems = problems_of(Engine({}), PROCESS_FILES)
    ladders = ["advise", "answer_consultation", "assess_requirement", "assign", "classify", "contact_requester",
               "deliver_update", "negotiate_service", "repair_order", "resolve", "retrain_user",
               "schedule_delivery", "acknowledge_complaint", "investigate_complaint", "sign_off_complaint",
               "review_dissatisfaction"]
    assert sorted((p.element, p.message.split("'")[1]) for p in problems) == sorted(
        [(f"{task}_escalate", "sla_escalate") for task in ladders] + [
            ("note_contact_late", "deadline_missed"), ("note_fixed_version", "record_fixed_version"),
            ("report_bug_to_hq", "report_to_hq"), ("suggest_owner", "round_robin_user"),
            ("to_dedicated_consultant", "dedicated_consultant"), ("enrol_in_training", "enrol_for_training"),
            ("schedule_callback", "business_deadline"), ("callback_late", "deadline_missed"),
            ("review_due", "risk_review_due"), ("apply_review", "apply_risk_review"),
            ("send_invitations", "training_invitations"), ("send_reminder", "training_reminder"),
            ("attendance_due", "training_attendance_due"), ("apply_attendance", "apply_training_attendance"),
            ("apply_follow_up", "apply_training_follow_up"),
            ("resolve_incident", "resolve_major_incident"),
            *[(f"escalate_{target}_{rung}", "major_incident_escalate") for target in ("first_response", "resolution")
              for rung in ("warning", "breach", "manager")],
            ("read_visit", "visit_state"), ("send_reminder", "visit_reminder"), ("apply_repair", "write_repair_log"),
            ("read_schedule", "maintenance_state"), ("open_task", "open_maintenance_task"),
            ("send_callback_survey", "send_survey"), ("callback_complaint", "open_complaint"),
            ("start_complaint_process", "open_complaint"), ("send_response", "send_complaint_response"),
            ("send_satisfaction_survey", "send_survey"), ("report_outcome", "report_complaint_outcome"),
            *[(f"survey_{m}", "send_survey") for m in (1, 3, 6, 12)],
            *[(f"complaint_{m}", "open_complaint") for m in (1, 3, 6, 12)]])


def test_built_spec_starts_instances(engine: Engine):
    built = engine.build(PROCESS_FILES)
    store = {"v": built.spec_json}
    run = Engine(engine.handlers, spec_loader=store.__getitem__).start("v", "support_case", start_data())
    assert [t.element_id for t in run.user_tasks()] == ["classify"]


# -- malformed files -------------------------------------------------------------------------
def test_malformed_xml_names_file_and_line(engine: Engine):
    text = bpmn(user_task("u")).decode()
    lines = text.splitlines()
    # line 7 (the start event) loses its closing '>' of the tag
    broken_line = next(i for i, line in enumerate(lines, 1) if "<bpmn:startEvent" in line)
    lines[broken_line - 1] = lines[broken_line - 1].replace('id="start">', 'id="start"')
    files = {"good.bpmn": bpmn(user_task("u"), process_id="other"), "broken.bpmn": "\n".join(lines).encode()}
    problems = parse_problems(engine, files)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == "broken.bpmn"
    assert problem.line == broken_line
    assert problem.code == "malformed_xml" and "not well-formed XML at line" in problem.message


def test_unclosed_document_names_the_file(engine: Engine):
    problems = parse_problems(engine, {"cut.bpmn": bpmn(user_task("u"))[:200]})
    assert problems[0].file == "cut.bpmn"
    assert problems[0].line is not None


def test_xsd_violation_names_file_and_line(engine: Engine):
    text = bpmn(user_task("u")).decode().replace(
        '<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" bogusAttribute="1">')
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "bogusAttribute" in ln)
    problems = parse_problems(engine, {"xsd.bpmn": text.encode()})
    assert problems[0].file == "xsd.bpmn"
    assert problems[0].line == line


# -- scripts, conditions, operators --------------------------------------------------------------
def test_script_with_import_is_rejected_naming_the_element(engine: Engine):
    files = {"evil.bpmn": bpmn(script_task("harmless", "x = 1"), script_task("evil", "x = 1\nimport os"))}
    problems = problems_of(engine, files)
    assert [p.element for p in problems] == ["evil"]
    assert "import" in problems[0].message.lower()
    assert "line 2" in problems[0].message


def test_script_problem_names_file_and_line(engine: Engine):
    """A deployment holds several files: a script problem must say which file, and the line of
    that file where the offending script line stands (as parse problems do)."""
    files = {"a.bpmn": bpmn(user_task("u"), process_id="a"),
             "evil.bpmn": bpmn(script_task("evil", "x = 1\nimport os"), process_id="b")}
    problem = problems_of(engine, files)[0]
    assert problem.element == "evil"
    assert problem.file == "evil.bpmn"
    lines = files["evil.bpmn"].decode().splitlines()
    assert lines[problem.line - 1].strip().startswith("import os")


@pytest.mark.parametrize(
    ("script", "needle"),
    [
        ("x = ().__class__.__base__.__subclasses__()", "not allowed"),
        ("x = eval('1')", "eval"),
        ("f = lambda: 1", "lambda"),
        ("x = (", "syntax"),
    ],
)
def test_other_bad_scripts_are_rejected(engine: Engine, script, needle):
    problems = problems_of(engine, {"bad.bpmn": bpmn(script_task("bad_script", script))})
    assert problems[0].element == "bad_script"
    assert needle in problems[0].message.lower()


def test_every_problem_is_listed(engine: Engine):
    files = {"many.bpmn": bpmn(script_task("s1", "import os"), script_task("s2", "x = open('f')"),
                               service_task("svc", "send_fax"))}
    problems = problems_of(engine, files)
    assert sorted(p.element for p in problems) == ["s1", "s2", "svc"]


def _gateway_process(condition: str) -> bytes:
    body = f"""
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="decide" default="f_no">
      <bpmn:incoming>f0</bpmn:incoming>
      <bpmn:outgoing>f_yes</bpmn:outgoing>
      <bpmn:outgoing>f_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="decide" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="decide" targetRef="end_yes">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="decide" targetRef="end_no" />"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="{SPIFF_NS}" id="defs" targetNamespace="http://caseflow.example/test">
  <bpmn:process id="g" isExecutable="true">{body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_valid_gateway_condition_builds(engine: Engine):
    built = engine.build({"g.bpmn": _gateway_process("amount &gt; 5")})
    assert built.valid, built.problems
    assert built.process_ids == ("g",)


@pytest.mark.parametrize(("condition", "needle"), [
    ("amount &gt;", "syntax"),
    ("amount.__class__", "__class__"),
    ("[x for x in range(3)] if import else 1", "syntax"),
])
def test_gateway_condition_that_does_not_compile(engine: Engine, condition, needle):
    problems = problems_of(engine, {"g.bpmn": _gateway_process(condition)})
    assert [p.element for p in problems] == ["decide"]
    assert "condition" in problems[0].message
    assert needle in problems[0].message.lower()


def test_service_task_without_handler(engine: Engine):
    problems = problems_of(engine, {"svc.bpmn": bpmn(service_task("notify", "send_fax"))})
    assert [p.element for p in problems] == ["notify"]
    assert "send_fax" in problems[0].message


def test_service_task_with_known_handler_and_bad_parameter(engine: Engine):
    ok = service_task("pick", "round_robin_user",
                      '<spiffworkflow:parameter id="role" type="str" value="&quot;agent&quot;" />')
    built = engine.build({"ok.bpmn": bpmn(ok)})
    assert built.valid, built.problems
    bad = service_task("pick", "round_robin_user",
                       '<spiffworkflow:parameter id="role" type="str" value="open(&quot;x&quot;)" />')
    problems = problems_of(engine, {"bad.bpmn": bpmn(bad)})
    assert [p.element for p in problems] == ["pick"]
    assert "role" in problems[0].message


# -- DMN -------------------------------------------------------------------------------------
def _dmn(input_cell: str, output_cell: str = '"ok"') -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d_defs" name="d" namespace="http://caseflow.example/dmn">
  <decision id="decide_it" name="Decide it">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="in1" label="Amount">
        <inputExpression id="in1_expr" typeRef="integer"><text>amount</text></inputExpression>
      </input>
      <output id="out1" label="Result" name="result" typeRef="string" />
      <rule id="r1">
        <inputEntry id="r1_in"><text>{input_cell}</text></inputEntry>
        <outputEntry id="r1_out"><text>{output_cell}</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="r2_in"><text></text></inputEntry>
        <outputEntry id="r2_out"><text>"other"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
""".encode()


RULE_TASK = ('<bpmn:businessRuleTask id="rules" name="Apply rules"><bpmn:extensionElements>'
             '<spiffworkflow:calledDecisionId>decide_it</spiffworkflow:calledDecisionId>'
             '</bpmn:extensionElements>{IN}{OUT}</bpmn:businessRuleTask>')


def test_valid_dmn_builds_and_decides(engine: Engine):
    files = {"r.bpmn": bpmn(RULE_TASK, user_task("show")), "d.dmn": _dmn("&gt; 5")}
    built = engine.build(files)
    assert built.valid, built.problems
    store = {"k": built.spec_json}
    runner = Engine(engine.handlers, spec_loader=store.__getitem__)
    assert runner.start("k", "p", {"amount": 9}).user_tasks()[0].data["result"] == "ok"
    assert runner.start("k", "p", {"amount": 1}).user_tasks()[0].data["result"] == "other"


@pytest.mark.parametrize(("input_cell", "output_cell"), [
    ("&gt; &gt; 5", '"ok"'),               # does not compile either as an expression or a test
    ("? .__class__", '"ok"'),              # a forbidden attribute
    ("&gt; 5", '"unterminated'),           # a bad output cell
    ("&gt; 5", "open(&quot;x&quot;)"),     # a forbidden call in an output
])
def test_dmn_with_a_bad_cell(engine: Engine, input_cell, output_cell):
    files = {"r.bpmn": bpmn(RULE_TASK), "d.dmn": _dmn(input_cell, output_cell)}
    problems = problems_of(engine, files)
    assert len(problems) == 1
    problem = problems[0]
    if problem.element == "r1_out":  # the DMN parser itself refuses an output it cannot compile
        assert problem.file == "d.dmn"
        assert "output" in problem.message.lower()
    else:
        assert (problem.file, problem.element) == ("d.dmn", "r1_in")  # the cell in the decision table
        assert "Rule 1, column 1 'Amount'" in problem.message


# -- run-time failures of checked scripts ----------------------------------------------------------
@pytest.mark.parametrize(("script", "needle"), [
    ("y = (i for i in []).gi_frame", "generator"),        # passes the compile check, refused when run
    ("n = 0\nwhile True:\n    n += 1", "longer than"),  # the time limit
    ("y = missing + 1", "missing"),
])
def test_script_failing_at_run_time_is_a_process_error(script, needle):
    engine = Engine({}, sandbox=Sandbox(time_limit=0.2))
    built = engine.build({"rt.bpmn": bpmn(script_task("calc", script), user_task("look"))})
    assert built.valid, built.problems
    store = {"k": built.spec_json}
    runner = Engine({}, spec_loader=store.__getitem__, sandbox=Sandbox(time_limit=0.2))
    with pytest.raises(ProcessError) as info:
        runner.start("k", "p", {})
    assert info.value.element == "calc"
    assert info.value.element_name == "Script calc"
    assert needle in info.value.message
