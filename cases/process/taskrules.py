"""Who may work on a task, and who gets it first (the task's ``assignment`` property)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from cases.core.db import db
from cases.core.models import Role, Task, User
from cases.process.models import CaseCollaborator
from engine.model import UserTask

FORM_PROPERTY = "formJsonSchemaFilename"
#: pool: claimable by the lane's role; round_robin, least_loaded, skills, on_duty: pre-assigned to a
#: user of the lane by that strategy (cases/process/strategies.py); case_owner: the case's owner;
#: case_customer: claimable by the case's customer users.
STRATEGIES = ("round_robin", "least_loaded", "skills", "on_duty")
ASSIGNMENT_RULES = ("pool", *STRATEGIES, "case_owner", "case_customer")
CUSTOMER_LANE = Role.CUSTOMER.value


def also_roles(user_task: UserTask) -> list[str]:
    return [r.strip() for r in user_task.prop("alsoRoles", "").split(",") if r.strip()]


def can_work_on(user: User, task: Task) -> bool:
    """May ``user`` claim or complete ``task``?"""
    if task.lane == CUSTOMER_LANE and user.is_customer and user.customer_id == task.case.customer_id:
        return True
    if task.lane != CUSTOMER_LANE and user.has_role(Role.SUPERVISOR.value):
        return True  # supervisors take over any staff task
    roles = {task.lane, *(task.also_roles or [])} - {CUSTOMER_LANE}
    if roles and user.has_role(*roles):
        return True
    return task.lane != CUSTOMER_LANE and user.is_staff and is_collaborator(user, task.case_id)


def is_collaborator(user: User, case_id: int) -> bool:
    """Does ``user`` work ``case_id`` beside its lanes (a major incident's team, ``case_collaborators``)?"""
    return db.session.scalar(select(CaseCollaborator.case_id).where(
        CaseCollaborator.case_id == case_id, CaseCollaborator.user_id == user.id).limit(1)) is not None


def collaborating_cases(user: User) -> Select[Any]:
    """The ids of the cases ``user`` collaborates on, as a subquery (the inbox's claimable tasks)."""
    return select(CaseCollaborator.case_id).where(CaseCollaborator.user_id == user.id)
