"""Which variables the steps ahead of a case read that it does not have.

For a dry run: from the steps an instance is at, walk the target version's diagram forward and
find every variable a script, condition, service parameter, decision table input, timer or
message expression reads, that is neither in the case's data nor written before it on EVERY path
leading there (a forward must-analysis: what is written on all incoming paths). User tasks write
their form's fields; decision tables write their outputs; scripts write what they assign.

A call activity (or an embedded subprocess) is followed into the process it calls, with the data
that process receives (the caller's data, or only its data inputs when the called process declares
some); what it hands back (all its data, or its data outputs) is written at the call activity. A
variable missing inside a called process is named with that process. A case that is inside a
called process is walked from there to the called process's end and on after its call activity.

Limits (said, not hidden): a message's payload is taken to write nothing; a process that calls
itself (directly or through others) is walked once per call chain."""
from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, ManualTask, ScriptTask, ServiceTask, UserTask

from engine.sandbox.builtins import HELPERS, SAFE_BUILTINS

KNOWN = frozenset(HELPERS) | frozenset(SAFE_BUILTINS) | {"True", "False", "None"}


@dataclass(frozen=True)
class MissingVariable:
    name: str
    element: str
    element_name: str
    #: the called process the element is in (None: the case's own process)
    process: str | None = None
    element_name_zh: str | None = None


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


Writes = set[str] | Callable[[set[str]], set[str]]


def _parts(ts: Any, form_fields: Mapping[str, dict[str, Any]], skip_before: bool,
           call: Callable[[Any, set[str]], set[str]] | None = None) -> list[tuple[set[str], Writes]]:
    """The reads and writes of one step, in the order they happen. A call activity's writes are
    a function of what the caller has when it calls (``call`` walks the called process)."""
    parts: list[tuple[set[str], Writes]] = []
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
    if isinstance(ts, SubWorkflowTask) and call is not None:
        def walk_in(have: set[str], ts: Any = ts) -> set[str]:
            return call(ts, have)
        parts.append((set(), walk_in))
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


def _io_names(spec: Any, kind: str) -> list[str] | None:
    """The names of a process's declared data inputs or outputs (None: it declares none)."""
    io = getattr(spec, "io_specification", None)
    declared = getattr(io, kind, None) if io is not None else None
    return [v.bpmn_id for v in declared] if declared else None


class _Walk:
    """One dry run's walk: the processes it may call, the missing variables found so far."""

    def __init__(self, form_fields: Mapping[str, dict[str, Any]], subprocesses: Mapping[str, Any],
                 max_steps: int) -> None:
        self.form_fields = form_fields
        self.subprocesses = subprocesses
        self.steps_left = max_steps
        self.found: dict[tuple[str | None, str, str], MissingVariable] = {}
        self.calls: dict[tuple[str, frozenset[str]], set[str]] = {}
        self.stack: list[str] = []

    def _apply(self, have: set[str], writes: Writes) -> None:
        have |= writes(have) if callable(writes) else writes

    def call(self, ts: Any, have: set[str]) -> set[str]:
        """Walk the process ``ts`` calls with what it receives; what it hands back."""
        name = getattr(ts, "spec", None)
        if not isinstance(name, str) or name in self.stack or self.subprocesses.get(name) is None:
            return set()
        spec = self.subprocesses[name]
        inputs = _io_names(spec, "data_inputs")
        if inputs is not None:  # only the declared inputs are handed over; the call activity reads them
            for missing in sorted(set(inputs) - have):
                self._note(missing, ts, self.stack[-1] if self.stack else None)
            received = set(inputs) & have
        else:
            received = set(have)
        key = (name, frozenset(received))
        if key not in self.calls:
            self.stack.append(name)
            try:
                end = spec.task_specs.get("End")
                have_in = self.flow({spec.start: received}, set(), {}, process=name)
                self.calls[key] = set(have_in.get(end, set())) if end is not None else set()
            finally:
                self.stack.pop()
        outputs = _io_names(spec, "data_outputs")
        returned = self.calls[key]
        return set(outputs) if outputs is not None else returned

    def _note(self, variable: str, ts: Any, process: str | None = None) -> None:
        element = getattr(ts, "bpmn_id", None)
        if element:
            properties = (getattr(ts, "extensions", None) or {}).get("properties", {})
            self.found.setdefault((process, variable, element),
                                  MissingVariable(variable, element, ts.bpmn_name or element, process,
                                                  properties.get("nameZh")))

    def flow(self, starts: Mapping[Any, set[str]], started: set[Any], returned: Mapping[Any, set[str]],
             process: str | None = None) -> dict[Any, set[str]]:
        """The forward must-analysis from ``starts`` (task spec -> the data it has); ``started``:
        the steps already begun (only what follows their beginning counts); ``returned``: a begun
        call activity -> what its called process hands back. Notes each missing variable; returns
        what is certainly there on entering each step."""
        have_in: dict[Any, set[str]] = {ts: set(data) for ts, data in starts.items()}
        queue = deque(starts)
        out_sets: dict[Any, set[str]] = {}

        def parts(ts: Any) -> list[tuple[set[str], Writes]]:
            if ts in returned:  # the called process runs already: what it hands back is known
                found = _parts(ts, self.form_fields, skip_before=True)
                return [(set(), returned[ts])] + found
            return _parts(ts, self.form_fields, skip_before=ts in started, call=self.call)

        while queue and self.steps_left > 0:  # fixpoint: the sets only shrink, so it ends
            self.steps_left -= 1
            ts = queue.popleft()
            have = set(have_in[ts])
            for _reads, writes in parts(ts):
                self._apply(have, writes)
            if out_sets.get(ts) == have:
                continue
            out_sets[ts] = have
            for follower in ts.outputs:
                before = have_in.get(follower)
                after = set(have) if before is None else before & have
                if before is None or after != before:
                    have_in[follower] = after
                    queue.append(follower)
        for ts, entering in have_in.items():
            have = set(entering)
            for reads, writes in parts(ts):
                for name in sorted(reads - have):
                    self._note(name, ts, process)
                self._apply(have, writes)
        return have_in


def missing_variables(active: Iterable[tuple[Any, set[str]] | tuple[Any, set[str], tuple[Any, ...]]],
                      form_fields: Mapping[str, dict[str, Any]], max_steps: int = 20_000,
                      subprocesses: Mapping[str, Any] | None = None) -> list[MissingVariable]:
    """``active``: (task spec the instance is at, the variables it has there[, the call activities
    it is inside, innermost first, each as (task spec, process name)]); ``form_fields``: form file
    -> its JSON schema (a user task writes its form's properties); ``subprocesses``: process name
    -> its spec (the called processes walked). Returns each variable read ahead that is not
    certainly there, once per (variable, element, process)."""
    walk = _Walk(form_fields, subprocesses or {}, max_steps)
    # group the positions by the call chain they are in; walk the innermost first
    groups: dict[tuple[Any, ...], dict[Any, set[str]]] = {}
    for entry in active:
        ts, data = entry[0], entry[1]
        chain = tuple(entry[2]) if len(entry) > 2 else ()
        group = groups.setdefault(chain, {})
        group[ts] = set(data) if ts not in group else group[ts] & set(data)
    for chain in list(groups):
        for k in range(1, len(chain) + 1):
            groups.setdefault(chain[k:], {})
    returned: dict[tuple[Any, ...], dict[Any, set[str]]] = {}
    for chain in sorted(groups, key=len, reverse=True):
        starts = groups[chain]
        process = chain[0][1] if chain else None
        begun = returned.get(chain, {})
        have_in = walk.flow({**{ts: set() for ts in begun}, **starts}, set(starts) | set(begun), begun, process)
        if chain:  # the called process ends and hands back at its call activity in the caller
            caller, _name = chain[0]
            spec = walk.subprocesses.get(_name)
            end = spec.task_specs.get("End") if spec is not None else None
            handed = set(have_in.get(end, set())) if end is not None else set()
            outputs = _io_names(spec, "data_outputs")
            handed = set(outputs) if outputs is not None else handed
            outer = returned.setdefault(chain[1:], {})
            outer[caller] = outer[caller] & handed if caller in outer else handed
    return sorted(walk.found.values(), key=lambda m: (m.process or "", m.element, m.name))
