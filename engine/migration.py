"""Moving a running instance onto another deployed version of its process.

SpiffWorkflow aligns the task specs of two versions by BPMN id (``bpmn/util/diff.py``); an
instance can move when every task it is at (ready or waiting) still exists in the target. Its
ready and waiting branches are then re-predicted on the new spec.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import EngineError
from engine.model import SpecPair

ACTIVE = TaskState.READY | TaskState.WAITING


@dataclass(frozen=True)
class MigrationCheck:
    migratable: bool
    reasons: tuple[str, ...]


class MigrationBlocked(EngineError):
    def __init__(self, reasons: tuple[str, ...]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _diffs(registry: Any, workflow: Any, target: SpecPair) -> tuple[Any, dict[Any, Any]]:
    """(the top workflow's diff, subprocess id -> its diff or None when the target lacks its spec)."""
    spec, dependencies = target
    diffs: tuple[Any, dict[Any, Any]] = diff_workflow(registry, workflow, spec, dependencies)
    return diffs


def _step_name(task: Any) -> tuple[str, str | None]:
    """The step a task belongs to, by its BPMN id and name: the nearest task up the tree that is
    a diagram element (the library's own structural tasks, e.g. a boundary event's parent, have
    none)."""
    found = task
    while found is not None and not getattr(found.task_spec, "bpmn_id", None):
        found = found.parent
    if found is None:
        return workflow_name(task), None
    spec = found.task_spec
    name = getattr(spec, "bpmn_name", None)
    return spec.bpmn_id, (name if name and name != spec.bpmn_id else None)


def workflow_name(task: Any) -> str:
    return f"start of {task.workflow.spec.name}"


def check(registry: Any, workflow: Any, target: SpecPair | None) -> MigrationCheck:
    """Can ``workflow`` move to ``target`` = (spec, subprocess specs)? If not, why."""
    if target is None:
        return MigrationCheck(False, (f"the target version has no process '{workflow.spec.name}'",))
    top, subprocesses = _diffs(registry, workflow, target)
    reasons = []
    for task in workflow.get_tasks(state=ACTIVE, skip_subprocesses=True):
        if task in top.removed:
            step, name = _step_name(task)
            reasons.append(f"the current step '{step}' does not exist in the target version" + (f" ({name})" if name else ""))
    for sp_id, diff in subprocesses.items():
        if diff is None:
            reasons.append(f"the running subprocess '{workflow.subprocesses[sp_id].spec.name}' does not exist "
                           "in the target version")
    return MigrationCheck(not reasons, tuple(dict.fromkeys(reasons)))


def migrate(registry: Any, workflow: Any, target: SpecPair | None) -> None:
    """Move ``workflow`` onto ``target`` in place; raise MigrationBlocked if it cannot move."""
    verdict = check(registry, workflow, target)
    if not verdict.migratable:
        raise MigrationBlocked(verdict.reasons)
    target = cast(SpecPair, target)  # check() refuses a missing target
    spec, dependencies = target
    top, subprocesses = _diffs(registry, workflow, target)
    migrate_workflow(top, workflow, spec)
    for sp_id, diff in subprocesses.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, dependencies[sub.spec.name])
    workflow.subprocess_specs = dependencies
