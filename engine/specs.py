"""Parse a set of BPMN/DMN files into process specs, with the checks SpiffWorkflow skips."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import (
    ManualTask,
    ScriptTask,
    ServiceTask,
    UserTask,
)

from engine import lint
from engine.errors import DefinitionError, Problem, problem
from engine.model import ProcessSpecs, TaskSpecInfo
from engine.sandbox import Sandbox, SandboxError
from engine.structure import check_structure


class _Parser(SpiffBpmnParser):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """SpiffWorkflow's parser with every document's root kept alive for as long as the parser lives.

    SpiffWorkflow 3.2 keys each document's lane and position index by ``id()`` of its XML root
    (``BpmnParser._document_key``) and skips documents whose key it has seen. A document with no
    process is freed once added; CPython reuses its address for the next document's root, which is
    then given the dead document's lanes. Holding a reference to every root keeps each ``id()``
    unique for the whole parse (also for ``get_spec``, which reads the index again)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._roots: list[etree._Element] = []

    def add_bpmn_xml(self, bpmn: etree._Element, filename: str | None = None) -> None:
        self._roots.append(bpmn.getroot() if hasattr(bpmn, "getroot") else bpmn)
        super().add_bpmn_xml(bpmn, filename)

    def add_dmn_xml(self, node: etree._Element, filename: str | None = None) -> None:
        self._roots.append(node.getroot() if hasattr(node, "getroot") else node)
        super().add_dmn_xml(node, filename)


def _unreadable(exc: Exception, name: str | None, roots: Mapping[str, etree._Element]) -> Problem:
    """A problem for whatever the parser raised: the element it names (or the file), never its text."""
    element = getattr(exc, "id", None) or None
    file = getattr(exc, "file_name", None) or name
    node = _find(roots, element, file)
    if node is not None:
        file = file or _file_of(roots, node)
        return problem("unreadable", file, element, node.sourceline, tag=etree.QName(node).localname)
    return problem("unreadable_file", file, element, None)


def _find(roots: Mapping[str, etree._Element], element: str | None, file: str | None) -> etree._Element | None:
    if not element:
        return None
    for name, root in roots.items():
        if file and name != file:
            continue
        for node in root.iter():
            if isinstance(node.tag, str) and node.get("id") == element:
                return node
    return None


def _file_of(roots: Mapping[str, etree._Element], node: etree._Element) -> str | None:
    top = node.getroottree().getroot()
    return next((name for name, root in roots.items() if root is top), None)


def parse_roots(roots: Mapping[str, etree._Element]) -> tuple[ProcessSpecs, list[Problem]]:
    """SpiffWorkflow's specs of already read and checked documents: (process id -> (spec,
    subprocess specs), problems). Whatever the parser raises becomes a problem naming the file and
    element; its own text is never shown."""
    parser = _Parser()
    problems: list[Problem] = []
    for name in sorted(roots):
        try:
            if name.endswith(".dmn"):
                parser.add_dmn_xml(roots[name], filename=name)
            else:
                parser.add_bpmn_xml(roots[name], filename=name)
        except (ValidationException, Exception) as exc:
            problems.append(_unreadable(exc, name, roots))
    if problems:
        return {}, problems
    specs: ProcessSpecs = {}
    for pid in parser.get_process_ids():
        try:
            specs[pid] = (parser.get_spec(pid), parser.get_subprocess_specs(pid))
        except (ValidationException, Exception) as exc:
            process = _find(roots, pid, None)
            problems.append(_unreadable(exc, _file_of(roots, process) if process is not None else None, roots))
    return specs, problems


def parse_files(files: Mapping[str, bytes]) -> tuple[ProcessSpecs, list[Problem]]:
    """Return (process id -> (spec, subprocess specs), problems): files that cannot be read as XML
    get a problem each, the rest are parsed."""
    roots: dict[str, etree._Element] = {}
    problems: list[Problem] = []
    for name in sorted(files):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        root, found = lint.read(name, files[name])
        problems += found
        if root is not None:
            roots[name] = root
    if problems:
        return {}, problems
    return parse_roots(roots)


def _all_task_specs(specs: ProcessSpecs) -> Iterable[tuple[str, Any]]:
    seen: set[int] = set()
    for _pid, (spec, subs) in specs.items():
        for process_spec in (spec, *subs.values()):
            for task_spec in process_spec.task_specs.values():
                if id(task_spec) not in seen:
                    seen.add(id(task_spec))
                    yield process_spec.name, task_spec


def user_task_infos(specs: ProcessSpecs) -> list[TaskSpecInfo]:
    infos = []
    for pid, ts in _all_task_specs(specs):
        if isinstance(ts, (UserTask, ManualTask)):
            props = dict(ts.extensions.get("properties", {}))
            infos.append(TaskSpecInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ts.lane, pid, props))
    return infos


def other_element_infos(specs: ProcessSpecs) -> list[TaskSpecInfo]:
    """Elements other than user tasks that carry properties (e.g. a catch event's ``customerNotice``)."""
    infos = []
    for pid, ts in _all_task_specs(specs):
        props = dict(getattr(ts, "extensions", {}).get("properties", {}))
        if props and not isinstance(ts, (UserTask, ManualTask)):
            infos.append(TaskSpecInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, getattr(ts, "lane", None), pid, props))
    return infos


def check_specs(specs: ProcessSpecs, sandbox: Sandbox, operations: Iterable[str]) -> list[Problem]:
    """Compile every script and condition under the sandbox; check service operators exist."""
    problems: list[Problem] = []
    known_ops = set(operations)

    def compiles(source: str | None, mode: str, ts: Any, what: str) -> None:
        if not source:
            return
        try:
            sandbox.compile(source, mode)
        except SandboxError as exc:
            code = "expression_line" if exc.line else "expression"
            found = problem(code, None, ts.bpmn_id, None, what=what, what_zh=_what_zh(what), at=exc.line,
                            reason=exc.message)
            problems.append(replace(found, source=source, source_line=exc.line))

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
        if isinstance(ts, ServiceTask):
            if ts.operation_name not in known_ops:
                problems.append(problem("unknown_operator", None, ts.bpmn_id, None, operator=ts.operation_name,
                                        operators=", ".join(sorted(known_ops))))
            for name, param in ts.operation_params.items():
                compiles(param.get("value"), "eval", ts, f"parameter '{name}'")
        for what, source in _other_expressions(ts):
            compiles(source, "eval", ts, what)
    return problems


_WHAT_ZH = {"pre-script": "前置脚本", "post-script": "后置脚本", "script": "脚本", "condition": "条件",
            "timer expression": "计时器表达式", "message expression": "消息表达式", "loop cardinality": "循环次数",
            "loop condition": "循环条件"}


def _what_zh(what: str) -> str:
    if what.startswith("parameter "):
        return "参数 " + what[len("parameter "):]
    if what.startswith("correlation "):
        return "关联 " + what[len("correlation "):]
    return _WHAT_ZH.get(what, what)


def _other_expressions(ts: Any) -> Iterable[tuple[str, str]]:
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
            kind = type(event).__name__
            yield ("timer expression" if "Timer" in kind else "condition" if "Conditional" in kind
                   else "message expression"), expression
        for prop in getattr(event, "correlation_properties", None) or []:
            if isinstance(prop.retrieval_expression, str):
                yield f"correlation '{prop.name}'", prop.retrieval_expression


def _element_index(files: Mapping[str, bytes]) -> dict[str, list[tuple[str, etree._Element]]]:
    index: dict[str, list[tuple[str, etree._Element]]] = {}
    for name, content in files.items():
        try:
            root = etree.fromstring(content)
        except etree.XMLSyntaxError:
            continue  # its own problem already names the file and line
        for node in root.iter():
            element_id = node.get("id") if isinstance(node.tag, str) else None
            if element_id:
                index.setdefault(element_id, []).append((name, node))
    return index


def _source_line(node: etree._Element, source: str | None, source_line: int | None) -> int | None:
    """The file line of ``source_line`` within the script ``source`` inside ``node``."""
    if source and source_line:
        for child in node.iter():
            text = child.text if isinstance(child.tag, str) else None
            if text and source.strip() and source.strip() in text:
                before = text[:text.index(source.strip())]
                line: int = child.sourceline + before.count("\n") + source_line - 1
                return line
    sourceline: int | None = node.sourceline
    return sourceline


def locate(problems: list[Problem], files: Mapping[str, bytes]) -> list[Problem]:
    """Fill in the file and line of problems that name their element but not where it is."""
    if all(not p.element or (p.file and p.line) for p in problems):
        return problems
    index = _element_index(files)
    located = []
    for item in problems:
        candidates = index.get(item.element, []) if item.element else []
        found = next((c for c in candidates if item.file in (None, c[0])), None)
        if found is None or (item.file and item.line):
            located.append(item)
            continue
        file, node = found
        located.append(replace(item, file=file,
                               line=item.line or _source_line(node, item.source, item.source_line)))
    return located


def build(files: Mapping[str, bytes], sandbox: Sandbox,
          operations: Iterable[str]) -> tuple[ProcessSpecs, list[Problem]]:
    """Parse (raising DefinitionError if the files cannot be parsed), then check every element;
    the problems of the check come back with the specs so callers can add their own."""
    operations = list(operations)
    roots, problems = lint.check_files(files, sandbox, operations)
    for name, root in roots.items():
        if name.endswith(".bpmn"):
            problems += lint.schema_problems(name, root, VALIDATOR)
    if any(p.code in lint.UNREADABLE for p in problems):
        raise DefinitionError(problems)
    specs, parse_problems = parse_roots(roots)
    if parse_problems:
        # what the checks above already named is not repeated in the parser's words
        explained = {p.file for p in problems}
        raise DefinitionError(problems + [p for p in locate(parse_problems, files)
                                          if p.file not in explained and not (problems and p.file is None)])
    checked = locate(check_structure(files) + check_specs(specs, sandbox, operations), files)
    # an element the checks above already explain (a JUEL condition, an unquoted timer) is not
    # told again in the compiler's words
    explained_elements = {(p.file, p.element) for p in problems}
    return specs, problems + [p for p in checked if (p.file, p.element) not in explained_elements]
