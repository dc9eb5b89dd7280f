"""Every classified case has an owner and a deadline.

The process decides who: a user task drawn with ``caseOwner="assignee"`` hands the case to the
user its assignment strategy chose (taskrules.ASSIGNMENT_RULES) when the case has no owner yet
— the first staff step of each branch of support_case.bpmn carries it. Until a branch does, the
staff member who classified the case owns it (the software-bug branch waits for HQ before its
first staff step; a service order's owner is chosen in the Assign step).

The policy decides when: a classified case without a due date gets the due moment of its
resolution target (business time on the target's calendar); when the clock stands still at once
(a software bug waiting for HQ), the moment it would be due if it ran from now.

Both are case events (``case_updated`` with the rule), in the step's unit of work.
"""
from __future__ import annotations

from collections.abc import Iterable

from cases.core import events
from cases.core.models import Case, Task, User, utcnow
from cases.process.taskrules import CUSTOMER_LANE
from cases.sla import clock as sla
from engine.model import UserTask

OWNER_PROPERTY = "caseOwner"
ASSIGNEE = "assignee"


def settle(case: Case, opened: Iterable[tuple[UserTask, Task]], actor: User | None) -> None:
    """After a step: give the case its owner and its deadline if it lacks them."""
    if case.owner_id is None:
        _own(case, opened, actor)
    if case.due_at is None and (case.category is not None or case.owner_id is not None):
        _deadline(case, actor)  # classified, or owned (a complaint from its acknowledgement)


def _own(case: Case, opened: Iterable[tuple[UserTask, Task]], actor: User | None) -> None:
    for user_task, row in opened:
        if user_task.prop(OWNER_PROPERTY) == ASSIGNEE and row.assignee is not None and row.lane != CUSTOMER_LANE:
            _set_owner(case, row.assignee, actor, f"the assignee of {row.element_id}")
            return
    if case.category is not None and actor is not None and actor.is_staff:
        _set_owner(case, actor, actor, "the classifier, until a branch names an owner")


def _set_owner(case: Case, user: User, actor: User | None, rule: str) -> None:
    case.owner, case.owner_id = user, user.id
    events.record(case, "case_updated", actor, changes={"owner": [None, user.username]}, rule=rule)


def _deadline(case: Case, actor: User | None) -> None:
    # targets_of flushes the targets the case's first step just started (the step reads without autoflush)
    target = next((t for t in sla.targets_of(case) if t.kind == "resolution" and t.state in (sla.RUNNING, sla.PAUSED)),
                  None)
    if target is None:
        return
    # a clock that stands still at once (a bug waiting for HQ): the due moment if it ran from now
    due = target.due_at or sla.projected_due(target, utcnow())
    case.due_at = due
    events.record(case, "case_updated", actor, changes={"due_at": [None, due.isoformat()]},
                  rule="the SLA policy's resolution target")
