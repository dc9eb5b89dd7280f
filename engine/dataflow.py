"""Which variables the steps ahead of a case read that it does not have.

For a dry run: from the steps an instance is at, walk the target version's diagram forward and
find every variable a script, condition, service parameter, decision table input, timer or
message expression reads, that is neither in the case's data nor written before it on EVERY path
leading there (a forward must-analysis: what is written on all incoming paths). User tasks write
their form's fields; decision tables write their outputs; scripts write what they assign.

Limits (said, not hidden): a call activity's own process is not walked (its inputs are the
caller's data); a message's payload is taken to write nothing."""
from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, ManualTask, ScriptTask, ServiceTask, UserTask

from engine.sandbox.builtins import HELPERS, SAFE_BUILTINS

KNOWN = frozenset(HELPERS) | frozenset(SAFE_BUILTINS) | {"True", "False", "None"}


@dataclass(frozen=True)
class MissingVariable:
    name: str
    element: str
    element_name: str


def _names(source: str | None, mode: str) -> tuple[set[str], set[str]]:
    """(read before written, written) by a script or expression; unparsable code reads nothing."""
    if not source or not source.strip():
        return set(), set()
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return set(), set()
    loads: list[ast.Name] = []
    stores: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loads.append(node)
            else:
                stores.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            for arg in node.args.args:
                stores.add(arg.arg)
    first_store: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            where = (node.lineno, node.col_offset)
            first_store[node.id] = min(first_store.get(node.id, where), where)
    comprehension_targets = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension)
                             for n in ast.walk(c.target) if isinstance(n, ast.Name)}
    reads: set[str] = set()
    for node in loads:
        stored = first_store.get(node.id)
        if node.id in comprehension_targets:
            continue
        if stored is None or (node.lineno, node.col_offset) < stored:
            reads.add(node.id)
    return reads - KNOWN, stores


def _event_parts(ts: Any) -> list[tuple[set[str], set[str]]]:
    """A timer's or message's expression reads; a caught message writes its message variable."""
    parts: list[tuple[set[str], set[str]]] = []
    definition = getattr(ts, "event_definition", None)
    for event in getattr(definition, "event_definitions", None) or [definition]:
        expression = getattr(event, "expression", None)
        reads = _names(expression, "eval")[0] if isinstance(expression, str) else set()
        variable = getattr(event, "message_var", None)
        parts.append((reads, {variable} if variable else set()))
    return parts


def _parts(ts: Any, form_fields: Mapping[str, dict[str, Any]], skip_before: bool) -> list[tuple[set[str], set[str]]]:
    """The reads and writes of one step, in the order they happen."""
    parts: list[tuple[set[str], set[str]]] = []
    if not skip_before:
        parts.append(_names(getattr(ts, "prescript", None), "exec"))
        if isinstance(ts, ServiceTask):
            reads = set()
            for param in ts.operation_params.values():
                reads |= _names(param.get("value"), "eval")[0]
            parts.append((reads, {ts.result_variable} if getattr(ts, "result_variable", None) else set()))
        if isinstance(ts, ScriptTask):
            parts.append(_names(ts.script, "exec"))
        if isinstance(ts, BusinessRuleTask):
            table = ts.dmnEngine.decision_table
            reads = set()
            for table_input in table.inputs:
                reads |= _names(table_input.expression, "eval")[0]
            parts.append((reads, {o.name for o in table.outputs if o.name}))
        parts += _event_parts(ts)
        if isinstance(ts, LoopTask):
            for name in ("cardinality", "condition"):
                value = getattr(ts, name, None)
                if isinstance(value, str):
                    parts.append((_names(value, "eval")[0], set()))
    if skip_before:  # a message the step waits for writes its variable when it arrives
        parts += [(set(), writes) for _reads, writes in _event_parts(ts)]
    if isinstance(ts, (UserTask, ManualTask)):
        form = ts.extensions.get("properties", {}).get("formJsonSchemaFilename")
        parts.append((set(), set((form_fields.get(form) or {}).get("properties", {}))))
    parts.append(_names(getattr(ts, "postscript", None), "exec"))
    if isinstance(ts, MultiChoice):
        reads = set()
        for condition, _target in ts.cond_task_specs:
            args = getattr(condition, "args", None) or [None]
            reads |= _names(args[0], "eval")[0] if isinstance(args[0], str) else set()
        parts.append((reads, set()))
    return parts


def missing_variables(active: Iterable[tuple[Any, set[str]]], form_fields: Mapping[str, dict[str, Any]],
                      max_steps: int = 20_000) -> list[MissingVariable]:
    """``active``: (task spec the instance is at, the variables it has there); ``form_fields``:
    form file -> its JSON schema (a user task writes its form's properties). Returns each
    variable read ahead that is not certainly there, once per (variable, element)."""
    have_in: dict[Any, set[str]] = {}
    starts: dict[Any, set[str]] = {}
    for ts, data in active:
        starts[ts] = set(data) if ts not in starts else starts[ts] & set(data)
    queue = deque(starts)
    for ts, data in starts.items():
        have_in[ts] = set(data)
    out_sets: dict[Any, set[str]] = {}
    steps = 0
    while queue and steps < max_steps:  # fixpoint: the sets only shrink, so it ends
        steps += 1
        ts = queue.popleft()
        have = set(have_in[ts])
        for _reads, writes in _parts(ts, form_fields, skip_before=ts in starts):
            have |= writes
        if out_sets.get(ts) == have:
            continue
        out_sets[ts] = have
        for follower in ts.outputs:
            before = have_in.get(follower)
            after = set(have) if before is None else before & have
            if before is None or after != before:
                have_in[follower] = after
                queue.append(follower)
    found: dict[tuple[str, str], MissingVariable] = {}
    for ts, have in have_in.items():
        element = getattr(ts, "bpmn_id", None)
        if not element:
            continue
        have = set(have)
        for reads, writes in _parts(ts, form_fields, skip_before=ts in starts):
            for name in sorted(reads - have):
                found.setdefault((name, element), MissingVariable(name, element, ts.bpmn_name or element))
            have |= writes
    return sorted(found.values(), key=lambda m: (m.element, m.name))
