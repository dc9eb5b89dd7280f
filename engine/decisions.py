"""One decision table on its own: read from DMN text with the checks a deploy makes, then evaluated
on given inputs exactly as a business-rule task evaluates it (SpiffWorkflow's DMN engine, every cell
in the sandbox). What-if uses it to replay a draft classification table over stored cases."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine.errors import DefinitionError, EngineError, problem
from engine.lint import check_dmn, read
from engine.runtime import _root_cause
from engine.sandbox import Sandbox, SandboxError
from engine.scripting import CaseflowScriptEngine


class DecisionFailed(EngineError):
    """The table could not decide on these inputs (a cell failed in the sandbox)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Workflow:
    script_engine: CaseflowScriptEngine


@dataclass
class _Inputs:
    """What the DMN engine reads of a task: its data and its workflow's script engine."""

    data: dict[str, Any]
    workflow: _Workflow


class Decision:
    """A parsed decision table; :meth:`evaluate` gives the outputs of the rule(s) that hit."""

    def __init__(self, decision_id: str, engine: DMNEngine, sandbox: Sandbox) -> None:
        self.id = decision_id
        self._engine = engine
        self._workflow = _Workflow(CaseflowScriptEngine(sandbox, {}))

    def evaluate(self, data: dict[str, Any]) -> dict[str, Any]:
        """The outputs by name ({} when no rule hits), as a business-rule task would merge them."""
        try:
            return dict(self._engine.result(_Inputs(dict(data), self._workflow)))
        except Exception as exc:  # every cell runs in the sandbox: a failure is the table's, not ours
            cause = _root_cause(exc)
            reason = cause.message if isinstance(cause, SandboxError) else type(cause).__name__
            raise DecisionFailed(f"the decision table {self.id} fails on these inputs: {reason}") from exc


def parse(name: str, content: bytes, decision_id: str, sandbox: Sandbox) -> Decision:
    """The decision ``decision_id`` of one DMN file, or DefinitionError with every problem found."""
    root, problems = read(name, content)
    if root is not None:
        problems += check_dmn(name, root, sandbox)
    if problems or root is None:
        raise DefinitionError(problems)
    parser = BpmnDmnParser()
    try:
        parser.add_dmn_xml(root, filename=name)
    except Exception as exc:  # the library's own complaint: named by file, never its text
        raise DefinitionError([problem("unreadable_file", name, None, None)]) from exc
    if decision_id not in parser.dmn_parsers:
        raise DefinitionError([problem("dmn_decision_missing", name, decision_id, None, decision=decision_id)])
    try:
        engine = parser.get_engine(decision_id, None)
    except Exception as exc:
        raise DefinitionError([problem("unreadable_file", name, decision_id, None)]) from exc
    return Decision(decision_id, engine, sandbox)


# -- where a decision leads: an exclusive gateway's branch for given data --------------------------
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


@dataclass(frozen=True)
class Branch:
    flow: str
    name: str
    name_zh: str | None


class Gateway:
    """An exclusive gateway of a BPMN file: which outgoing flow data takes (conditions in the sandbox,
    in document order, the default flow when none holds) — what a decision's outputs route to."""

    def __init__(self, flows: list[tuple[Branch, str | None]], default: Branch | None, sandbox: Sandbox) -> None:
        self._flows = flows
        self._default = default
        self._sandbox = sandbox

    @classmethod
    def find(cls, name: str, content: bytes, gateway_id: str, sandbox: Sandbox) -> Gateway | None:
        """The gateway ``gateway_id`` of the file, or None when the file has none by that id."""
        root, problems = read(name, content)
        if root is None or problems:
            return None
        gateway = next((node for node in root.iter(f"{{{BPMN_NS}}}exclusiveGateway")
                        if node.get("id") == gateway_id), None)
        if gateway is None:
            return None
        flows, default = [], None
        for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            if flow.get("sourceRef") != gateway_id:
                continue
            zh = next((p.get("value") for p in flow.iter(f"{{{SPIFF_NS}}}property") if p.get("name") == "nameZh"),
                      None)
            branch = Branch(flow.get("id") or "", flow.get("name") or flow.get("targetRef") or "", zh)
            condition = flow.findtext(f"{{{BPMN_NS}}}conditionExpression")
            if flow.get("id") == gateway.get("default"):
                default = branch
            else:
                flows.append((branch, (condition or "").strip() or None))
        return cls(flows, default, sandbox)

    def route(self, data: dict[str, Any]) -> Branch | None:
        """The branch ``data`` takes; None when no condition holds and there is no default, or a
        condition cannot be judged on this data alone."""
        for branch, condition in self._flows:
            if condition is None:
                continue
            try:
                if self._sandbox.evaluate(condition, dict(data)):
                    return branch
            except Exception:  # the condition needs more than the data given: no branch is claimed
                return None
        return self._default
