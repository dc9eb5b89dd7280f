"""Parse a set of BPMN/DMN files into process specs, with the checks SpiffWorkflow skips."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import (
    BusinessRuleTask, ManualTask, ScriptTask, ServiceTask, UserTask,
)
from SpiffWorkflow.specs.MultiChoice import MultiChoice

from .errors import DefinitionError, Problem
from .structure import check_structure
from .model import TaskSpecInfo
from .sandbox import Sandbox, SandboxError


def _problem_from_validation(exc: ValidationException, default_file: str) -> Problem:
    line = exc.line_number if isinstance(exc, ValidationException) and exc.line_number else None
    return Problem(
        file=getattr(exc, "file_name", None) or default_file,
        element=getattr(exc, "id", None) or None,
        message=str(exc.args[0]) if exc.args else str(exc),
        line=int(line) if line else None,
    )


class _Parser(SpiffBpmnParser):
    """SpiffWorkflow's parser with every document's root kept alive for as long as the parser lives.

    SpiffWorkflow 3.2 keys each document's lane and position index by ``id()`` of its XML root
    (``BpmnParser._document_key``) and skips documents whose key it has seen. A document with no
    process is freed once added; CPython reuses its address for the next document's root, which is
    then given the dead document's lanes. Holding a reference to every root keeps each ``id()``
    unique for the whole parse (also for ``get_spec``, which reads the index again)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._roots: list = []

    def add_bpmn_xml(self, bpmn, filename=None):
        self._roots.append(bpmn.getroot() if hasattr(bpmn, "getroot") else bpmn)
        super().add_bpmn_xml(bpmn, filename)

    def add_dmn_xml(self, node, filename=None):
        self._roots.append(node.getroot() if hasattr(node, "getroot") else node)
        super().add_dmn_xml(node, filename)


def parse_files(files: Mapping[str, bytes]) -> tuple[dict, list[Problem]]:
    """Return (process id -> (spec, subprocess specs), problems)."""
    parser = _Parser(validator=VALIDATOR)
    problems: list[Problem] = []
    for name in sorted(files):
        content = files[name]
        try:
            if name.endswith(".dmn"):
                parser.add_dmn_str(content, filename=name)
            elif name.endswith(".bpmn"):
                parser.add_bpmn_str(content, filename=name)
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(name, None, f"malformed XML: {exc.msg}", exc.lineno))
        except ValidationException as exc:
            problems.append(_problem_from_validation(exc, name))
    if problems:
        return {}, problems
    specs: dict = {}
    for pid in parser.get_process_ids():
        try:
            specs[pid] = (parser.get_spec(pid), parser.get_subprocess_specs(pid))
        except ValidationException as exc:
            problems.append(_problem_from_validation(exc, None))
    return specs, problems


def _all_task_specs(specs: dict) -> Iterable[tuple[str, object]]:
    seen: set[int] = set()
    for pid, (spec, subs) in specs.items():
        for process_spec in (spec, *subs.values()):
            for task_spec in process_spec.task_specs.values():
                if id(task_spec) not in seen:
                    seen.add(id(task_spec))
                    yield process_spec.name, task_spec


def user_task_infos(specs: dict) -> list[TaskSpecInfo]:
    infos = []
    for pid, ts in _all_task_specs(specs):
        if isinstance(ts, (UserTask, ManualTask)):
            props = dict(ts.extensions.get("properties", {}))
            infos.append(TaskSpecInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ts.lane, pid, props))
    return infos


def other_element_infos(specs: dict) -> list[TaskSpecInfo]:
    """Elements other than user tasks that carry properties (e.g. a catch event's ``customerNotice``)."""
    infos = []
    for pid, ts in _all_task_specs(specs):
        props = dict(getattr(ts, "extensions", {}).get("properties", {}))
        if props and not isinstance(ts, (UserTask, ManualTask)):
            infos.append(TaskSpecInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, getattr(ts, "lane", None), pid, props))
    return infos


def check_specs(specs: dict, sandbox: Sandbox, operations: Iterable[str]) -> list[Problem]:
    """Compile every script and condition under the sandbox; check service operators exist."""
    problems: list[Problem] = []
    known_ops = set(operations)

    def compiles(source: str | None, mode: str, ts, what: str) -> None:
        if not source:
            return
        try:
            sandbox.compile(source, mode)
        except SandboxError as exc:
            line = f" (line {exc.line})" if exc.line else ""
            problems.append(Problem(None, ts.bpmn_id, f"{what}{line}: {exc.message}", source=source,
                                    source_line=exc.line))

    for _pid, ts in _all_task_specs(specs):
        if not getattr(ts, "bpmn_id", None):
            continue
        compiles(getattr(ts, "prescript", None), "exec", ts, "pre-script")
        compiles(getattr(ts, "postscript", None), "exec", ts, "post-script")
        if isinstance(ts, ScriptTask):
            compiles(ts.script, "exec", ts, "script")
        if isinstance(ts, MultiChoice):
            for condition, _target in ts.cond_task_specs:
                args = getattr(condition, "args", None) or [None]
                compiles(args[0], "eval", ts, "condition")
            if not ts.outputs:
                problems.append(Problem(None, ts.bpmn_id, "gateway has no outgoing flow"))
        if isinstance(ts, ServiceTask):
            if ts.operation_name not in known_ops:
                problems.append(Problem(None, ts.bpmn_id,
                                        f"no handler implements the operator '{ts.operation_name}'"))
            for name, param in ts.operation_params.items():
                compiles(param.get("value"), "eval", ts, f"parameter '{name}'")
        for what, source in _other_expressions(ts):
            compiles(source, "eval", ts, what)
        if isinstance(ts, BusinessRuleTask):
            table = ts.dmnEngine.decision_table
            for number, table_input in enumerate(table.inputs, 1):
                compiles(table_input.expression, "eval", ts, f"DMN input {number} expression")
            for rule in table.rules:
                for entry in rule.inputEntries:
                    for cell in entry.lhs:
                        if cell and cell.strip() and cell.strip() != "-":
                            _check_dmn_cell(cell, sandbox, ts, rule, problems)
                for entry in rule.outputEntries:
                    compiles(entry.text, "eval", ts, f"DMN rule {rule.row_number} output")
    return problems


def _other_expressions(ts) -> Iterable[tuple[str, str]]:
    """Expressions SpiffWorkflow evaluates besides scripts, conditions, parameters and DMN
    tables: loop and multi-instance settings, timer, conditional and message expressions."""
    for name in ("cardinality", "condition"):
        value = getattr(ts, name, None)
        if isinstance(value, str):
            yield f"loop {name}", value
    definition = getattr(ts, "event_definition", None)
    for event in getattr(definition, "event_definitions", None) or [definition]:
        expression = getattr(event, "expression", None)
        if isinstance(expression, str):
            yield f"{type(event).__name__} expression", expression
        for prop in getattr(event, "correlation_properties", None) or []:
            if isinstance(prop.retrieval_expression, str):
                yield f"correlation '{prop.name}'", prop.retrieval_expression


def _check_dmn_cell(cell: str, sandbox: Sandbox, ts, rule, problems: list[Problem]) -> None:
    errors = []
    for candidate in (cell.replace("?", "v"), f"v {cell}"):
        try:
            sandbox.compile(candidate, "eval")
            return
        except SandboxError as exc:
            errors.append(exc)
    # report a forbidden construct rather than the syntax error of the other reading
    error = next((e for e in errors if not e.message.startswith("syntax error")), errors[0])
    problems.append(Problem(None, ts.bpmn_id, f"DMN rule {rule.row_number} cell '{cell}': {error.message}"))


def _element_index(files: Mapping[str, bytes]) -> dict[str, tuple[str, etree._Element]]:
    index: dict[str, tuple[str, etree._Element]] = {}
    for name, content in files.items():
        try:
            root = etree.fromstring(content)
        except etree.XMLSyntaxError:
            continue  # its own problem already names the file and line
        for node in root.iter():
            element_id = node.get("id") if isinstance(node.tag, str) else None
            if element_id and element_id not in index:
                index[element_id] = (name, node)
    return index


def _source_line(node: etree._Element, source: str | None, source_line: int | None) -> int | None:
    """The file line of ``source_line`` within the script ``source`` inside ``node``."""
    if source and source_line:
        for child in node.iter():
            text = child.text if isinstance(child.tag, str) else None
            if text and source.strip() and source.strip() in text:
                before = text[:text.index(source.strip())]
                return child.sourceline + before.count("\n") + source_line - 1
    return node.sourceline


def locate(problems: list[Problem], files: Mapping[str, bytes]) -> list[Problem]:
    """Fill in the file and line of problems that only name their element."""
    if all(p.file or not p.element for p in problems):
        return problems
    index = _element_index(files)
    located = []
    for problem in problems:
        found = index.get(problem.element) if problem.element and problem.file is None else None
        if found is None:
            located.append(problem)
            continue
        file, node = found
        located.append(Problem(file, problem.element, problem.message,
                               problem.line or _source_line(node, problem.source, problem.source_line)))
    return located


def build(files: Mapping[str, bytes], sandbox: Sandbox, operations: Iterable[str]) -> tuple[dict, list[Problem]]:
    """Parse (raising DefinitionError if the files cannot be parsed), then check every element;
    the problems of the check come back with the specs so callers can add their own."""
    specs, problems = parse_files(files)
    if problems:
        raise DefinitionError(locate(problems, files))
    return specs, locate(check_structure(files) + check_specs(specs, sandbox, operations), files)
