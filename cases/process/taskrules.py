"""Who may work on a task, and who gets it first (the task's ``assignment`` property)."""
from __future__ import annotations

from cases.core.models import Case, Role, Task, User
from cases.process import assignment
from engine.model import UserTask

FORM_PROPERTY = "formJsonSchemaFilename"
#: pool: claimable by the lane's role; round_robin: pre-assigned in turn among the role's users;
#: case_owner: the case's owner; case_customer: claimable by the case's customer users.
ASSIGNMENT_RULES = ("pool", "round_robin", "case_owner", "case_customer")
CUSTOMER_LANE = Role.CUSTOMER.value


def also_roles(user_task: UserTask) -> list[str]:
    return [r.strip() for r in user_task.prop("alsoRoles", "").split(",") if r.strip()]


def initial_assignee(user_task: UserTask, case: Case) -> User | None:
    rule = user_task.prop("assignment", "pool")
    if rule == "round_robin" and user_task.lane:
        return assignment.next_user(user_task.lane)
    if rule == "case_owner":
        return case.owner
    return None


def can_work_on(user: User, task: Task) -> bool:
    """May ``user`` claim or complete ``task``?"""
    if task.lane == CUSTOMER_LANE and user.is_customer and user.customer_id == task.case.customer_id:
        return True
    if task.lane != CUSTOMER_LANE and user.has_role(Role.SUPERVISOR.value):
        return True  # supervisors take over any staff task
    roles = {task.lane, *(task.also_roles or [])} - {CUSTOMER_LANE}
    return bool(roles) and user.has_role(*roles)
