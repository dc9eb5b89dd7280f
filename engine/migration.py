"""Moving a running instance onto another deployed version of its process.

SpiffWorkflow aligns the task specs of two versions by BPMN id (``bpmn/util/diff.py``); an
instance can move when every task it is at (ready or waiting) still exists in the target, or is
mapped by the owner to a user task of the target (a renamed id: ``mapping`` {old id: new id}).
Its ready and waiting branches are then re-predicted on the new spec.

Why a case cannot move is a :class:`Reason` (a code and its parameters, rendered in English or
Chinese from ``engine.messages``): the pages and the API render it in the reader's language.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.specs.defaults import UserTask
from SpiffWorkflow.util.task import TaskState

from engine import history, messages
from engine.errors import EngineError
from engine.model import ProcessSpecs, SpecPair

ACTIVE = TaskState.READY | TaskState.WAITING


@dataclass(frozen=True)
class Reason:
    """Why a case cannot move (or move back): a code of ``engine.messages`` and its parameters."""

    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    def text(self, lang: str = "en") -> str:
        return messages.render(self.code, self.params, lang)

    def __str__(self) -> str:
        return self.text("en")

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "message": self.text(lang)}


@dataclass(frozen=True)
class MigrationCheck:
    migratable: bool
    reasons: tuple[Reason, ...]


class MigrationBlocked(EngineError):
    def __init__(self, reasons: tuple[Reason, ...]):
        super().__init__("; ".join(str(r) for r in reasons))
        self.reasons = reasons


def _name_zh(spec: Any) -> str | None:
    properties = getattr(spec, "extensions", None) or {}
    value = properties.get("properties", {}).get("nameZh") if isinstance(properties, dict) else None
    return value if isinstance(value, str) and value else None


def _remap(diff: Any, new_spec: Any, mapping: Mapping[str, str]) -> None:
    """Align the tasks at a mapped (renamed) id with the new id's task spec."""
    if not mapping:
        return
    for task in list(diff.removed):
        # the library's own specs around a step are named after it (e.g. "assign.BoundaryEventSplit")
        old_name = task.task_spec.name
        base, dot, rest = old_name.partition(".")
        new_name = mapping.get(old_name) or (mapping[base] + dot + rest if base in mapping else None)
        new_ts = new_spec.task_specs.get(new_name) if new_name else None
        if new_ts is not None:
            diff.removed.remove(task)
            diff.alignment[task] = new_ts


def _diffs(registry: Any, workflow: Any, target: SpecPair,
           mapping: Mapping[str, str] | None = None) -> tuple[Any, dict[Any, Any]]:
    """(the top workflow's diff, subprocess id -> its diff or None when the target lacks its spec)."""
    spec, dependencies = target
    top, subprocesses = diff_workflow(registry, workflow, spec, dependencies)
    _remap(top, spec, mapping or {})
    for sp_id, diff in subprocesses.items():
        if diff is not None:
            _remap(diff, dependencies[workflow.subprocesses[sp_id].spec.name], mapping or {})
    return top, subprocesses


def _step(task: Any) -> tuple[str, str | None, str | None]:
    """The step a task belongs to, by its BPMN id and names (en, zh): the nearest task up the tree
    that is a diagram element (the library's own structural tasks, e.g. a boundary event's parent,
    have none)."""
    found = task
    while found is not None and not getattr(found.task_spec, "bpmn_id", None):
        found = found.parent
    if found is None:
        return workflow_name(task), None, None
    spec = found.task_spec
    name = getattr(spec, "bpmn_name", None)
    return spec.bpmn_id, (name if name and name != spec.bpmn_id else None), _name_zh(spec)


def workflow_name(task: Any) -> str:
    return f"start of {task.workflow.spec.name}"


def removed_step(task: Any) -> Reason:
    step, name, name_zh = _step(task)
    if name:
        return Reason("move_step_removed_named", {"step": step, "name": name, "name_zh": name_zh or name})
    return Reason("move_step_removed", {"step": step})


def check(registry: Any, workflow: Any, target: SpecPair | None,
          mapping: Mapping[str, str] | None = None) -> MigrationCheck:
    """Can ``workflow`` move to ``target`` = (spec, subprocess specs)? If not, why."""
    if target is None:
        return MigrationCheck(False, (Reason("move_no_process", {"process": workflow.spec.name}),))
    top, subprocesses = _diffs(registry, workflow, target, mapping)
    reasons = _removed(workflow, top, _pruned_removed(registry, workflow, target[0], mapping or {}))
    for sp_id, diff in subprocesses.items():
        sub = workflow.subprocesses[sp_id]
        if diff is None:
            reasons.append(Reason("move_subprocess_removed", {"process": sub.spec.name}))
            continue
        reasons += _removed(sub, diff)
    return MigrationCheck(not reasons, tuple(dict.fromkeys(reasons)))


def _pruned_removed(registry: Any, workflow: Any, new_spec: Any, mapping: Mapping[str, str]) -> list[Reason]:
    """The steps of the finished history cut from the stored state (``engine.history``) that the
    target lacks: passed steps, counted as when their tasks were still in the tree."""
    names = history.pruned_specs(workflow)
    if not names:
        return []
    removed = {spec.name for spec in SpecDiff(registry, workflow.spec, new_spec).removed}
    reasons = []
    for name in names:
        base, dot, rest = name.partition(".")
        new_name = mapping.get(name) or (mapping[base] + dot + rest if base in mapping else None)
        if name not in removed or (new_name and new_name in new_spec.task_specs):
            continue
        spec = workflow.spec.task_specs.get(name)
        reasons.append(Reason("move_history_removed", {"step": getattr(spec, "bpmn_id", None) or base}))
    return reasons


def _removed(workflow: Any, diff: Any, pruned: list[Reason] | None = None) -> list[Reason]:
    """The steps a case is at that the target lacks, then the steps it has passed that the target
    lacks (the moved state would name a step the target cannot read; ``pruned``: those of the
    history cut from the stored state, passed before any still in the tree). What follows a step
    the case is at is predicted again after the move, so it does not count."""
    active = set(workflow.get_tasks(state=ACTIVE, skip_subprocesses=True))
    at = [removed_step(task) for task in diff.removed if task in active]
    passed = list(pruned or [])
    for task in diff.removed:
        if task in active or task.has_state(TaskState.PREDICTED_MASK):
            continue
        ancestor = task.parent
        while ancestor is not None and ancestor not in active:
            ancestor = ancestor.parent
        if ancestor is None:
            # the library's own specs are named after their step ("assign.BoundaryEventSplit")
            step = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name.partition(".")[0]
            passed.append(Reason("move_history_removed", {"step": step}))
    at_steps = {r.params["step"] for r in at}
    return at + [r for r in passed if r.params["step"] not in at_steps]


def migrate(registry: Any, workflow: Any, target: SpecPair | None, mapping: Mapping[str, str] | None = None) -> None:
    """Move ``workflow`` onto ``target`` in place; raise MigrationBlocked if it cannot move."""
    verdict = check(registry, workflow, target, mapping)
    if not verdict.migratable:
        raise MigrationBlocked(verdict.reasons)
    target = cast(SpecPair, target)  # check() refuses a missing target
    spec, dependencies = target
    top, subprocesses = _diffs(registry, workflow, target, mapping)
    migrate_workflow(top, workflow, spec)
    for sp_id, diff in subprocesses.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, dependencies[sub.spec.name])
    workflow.subprocess_specs = dependencies


# -- renamed ids -----------------------------------------------------------------------------------
def _user_tasks(specs: ProcessSpecs) -> dict[str, str]:
    """Every user task of a version: its BPMN id -> the process it is in."""
    found: dict[str, str] = {}

    def processes() -> Iterator[Any]:
        for spec, dependencies in specs.values():
            yield spec
            yield from dependencies.values()

    for process in processes():
        for ts in process.task_specs.values():
            if isinstance(ts, UserTask):
                found.setdefault(ts.bpmn_id, process.name)
    return found


def _all_ids(specs: ProcessSpecs) -> set[str]:
    ids: set[str] = set()
    for spec, dependencies in specs.values():
        for process in (spec, *dependencies.values()):
            ids |= {getattr(ts, "bpmn_id", None) or "" for ts in process.task_specs.values()}
    return ids - {""}


def mapping_problems(source: ProcessSpecs, target: ProcessSpecs, mapping: Mapping[str, str]) -> dict[str, Reason]:
    """What is wrong with a mapping of renamed ids {old: new}: old id -> why (empty: usable).

    The old id must be a user task of the source version that the target no longer has; the new
    one a user task of the target in the same process; no two old ids may land on one new id."""
    old_tasks, new_tasks, kept = _user_tasks(source), _user_tasks(target), _all_ids(target)
    problems: dict[str, Reason] = {}
    for old, new in mapping.items():
        if old not in old_tasks:
            problems[old] = Reason("mapping_unknown_old", {"old": old})
        elif old in kept:
            problems[old] = Reason("mapping_old_kept", {"old": old})
        elif new not in new_tasks:
            problems[old] = Reason("mapping_unknown_new", {"new": new})
        elif old_tasks[old] != new_tasks[new]:
            problems[old] = Reason("mapping_other_process", {"old": old, "new": new, "old_process": old_tasks[old],
                                                             "new_process": new_tasks[new]})
    targets: dict[str, list[str]] = {}
    for old, new in mapping.items():
        targets.setdefault(new, []).append(old)
    for new, olds in targets.items():
        if len(olds) > 1:
            for old in olds:
                problems.setdefault(old, Reason("mapping_twice", {"new": new, "olds": ", ".join(sorted(olds))}))
    return problems
