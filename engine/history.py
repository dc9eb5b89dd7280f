"""Finished history a long-lived instance no longer needs in its stored state.

SpiffWorkflow never drops a finished task: a case reopened 50 times carries every task of its 50
earlier rounds (~780 tasks, 320 KB), and every load, step and save walks them all. Before a save,
:func:`prune` cuts the finished tasks far above where the instance is now out of the tree, once the
tree has grown past ``PRUNE_ABOVE`` tasks (a fresh case never gets there, so its state is the
library's own). What is cut:

- only the top workflow's tasks on the finished chain from the root down to where its unfinished
  tasks branch or begin, and the finished side branches of that chain, keeping the last
  ``KEEP_FINISHED`` tasks of the chain (a few rounds: the loop's gateways, the last task's data and
  everything a gateway or a reset looks at nearby stay as they were);
- never a task with a called process, never the workflow's last task, nothing of an unfinished or
  finished workflow's unfinished part.

What the cut tasks said that the application still reads is kept on the root task
(``internal_data[PRUNED_KEY]``): the elements they completed, per process, in the order first met
(the diagram's progress, :func:`pruned_elements`), and the task specs they had (a move to a
version without one of them is refused as before, :func:`pruned_specs`). The case's history and
timeline come from its events, not from the engine state.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

#: Prune once the top workflow holds more tasks than this (a fresh support case has ~45).
PRUNE_ABOVE = 150
#: Finished tasks of the chain kept above where the instance is (two to three rounds of a loop).
KEEP_FINISHED = 40
#: Where the root task keeps what the cut tasks said.
PRUNED_KEY = "caseflow_pruned"

_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def prune(workflow: Any) -> int:
    """Cut the far finished history out of ``workflow`` (in place); returns how many tasks went."""
    tasks = workflow.tasks
    if len(tasks) <= PRUNE_ABOVE:
        return 0
    root = workflow.task_tree
    unfinished_below: set[UUID] = set()  # tasks with an unfinished task at or below them
    for task in tasks.values():
        if task.has_state(_FINISHED):
            continue
        node = task
        while node is not None and node.id not in unfinished_below:
            unfinished_below.add(node.id)
            node = node.parent
    if not unfinished_below:
        return 0  # a finished workflow stays as it ended
    chain = []
    node = root
    while node.has_state(_FINISHED):
        onward = [child for child in node.children if child.id in unfinished_below]
        if len(onward) != 1:
            break
        chain.append(node)
        node = onward[0]
    if len(chain) <= KEEP_FINISHED + 1:
        return 0
    top = chain[-KEEP_FINISHED]
    kept = _subtree(top) | {root.id}
    cut = [task for task_id, task in tasks.items() if task_id not in kept]
    last = workflow.last_task
    if (last is not None and last.id not in kept) or any(task.id in workflow.subprocesses for task in cut):
        return 0
    _remember(root, cut)
    for task in cut:
        del tasks[task.id]
    top._parent = root.id
    root._children = [top.id]
    return len(cut)


def _subtree(top: Any) -> set[UUID]:
    found: set[UUID] = set()
    stack = [top]
    while stack:
        task = stack.pop()
        found.add(task.id)
        stack.extend(task.children)
    return found


def _remember(root: Any, cut: list[Any]) -> None:
    record = root.internal_data.setdefault(PRUNED_KEY, {"tasks": 0, "elements": {}, "specs": []})
    record["tasks"] += len(cut)
    elements: dict[str, list[str]] = record["elements"]
    specs = dict.fromkeys(record["specs"])
    for task in _in_tree_order(root, {task.id for task in cut}):
        specs.setdefault(task.task_spec.name)
        element = getattr(task.task_spec, "bpmn_id", None)
        if element and task.state == TaskState.COMPLETED:
            met = elements.setdefault(task.workflow.spec.name, [])
            if element not in met:
                met.append(element)
    record["specs"] = list(specs)


def _in_tree_order(root: Any, ids: set[UUID]) -> list[Any]:
    """The tasks of ``ids`` in the library's depth-first order (without its depth limit)."""
    ordered, stack = [], [root]
    while stack:
        task = stack.pop()
        if task.id in ids:
            ordered.append(task)
        stack.extend(reversed(task.children))
    return ordered


def pruned_elements(workflow: Any) -> dict[str, list[str]]:
    """The elements the cut tasks completed: process -> element ids, in the order first met."""
    record = workflow.task_tree.internal_data.get(PRUNED_KEY)
    return {process: list(ids) for process, ids in record["elements"].items()} if record else {}


def pruned_specs(workflow: Any) -> list[str]:
    """The task spec names the cut tasks had, in the order first met."""
    record = workflow.task_tree.internal_data.get(PRUNED_KEY)
    return list(record["specs"]) if record else []
