"""Who may see what: staff see every case, a customer user only their organisation's."""
from __future__ import annotations

from sqlalchemy import Select, select

from cases.core.db import db
from cases.core.errors import Forbidden, NotFound
from cases.core.models import Case, Role, Task, User

#: Roles that may open cases on behalf of a customer and answer for them.
FRONT_LINE_ROLES = (Role.AGENT.value, Role.SERVICE_CONSULTANT.value, Role.SUPERVISOR.value,
                    Role.ADMIN.value)


def restrict_cases(user: User, query: Select) -> Select:
    if user.is_staff:
        return query
    if user.is_customer and user.customer_id is not None:
        return query.where(Case.customer_id == user.customer_id)
    return query.where(False)


def visible_case(user: User, case_id: int) -> Case:
    case = db.session.scalar(restrict_cases(user, select(Case).where(Case.id == case_id)))
    if case is None:  # the same answer whether it does not exist or is not theirs
        raise NotFound(f"case {case_id} not found", resource="case", id=case_id)
    return case


def visible_task(user: User, task_id: str, task: Task | None = None) -> Task:
    """The task if ``user`` may see it (``task``: already loaded), else NotFound."""
    task = task if task is not None else db.session.get(Task, task_id)
    if task is None or not (user.is_staff or (user.is_customer and task.case.customer_id == user.customer_id
                                               and task.lane == Role.CUSTOMER.value)):
        raise NotFound(f"task {task_id} not found", resource="task", id=task_id)
    return task


def require_role(user: User, *roles: str) -> None:
    if not user.has_role(*roles):
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", required_roles=list(roles))
