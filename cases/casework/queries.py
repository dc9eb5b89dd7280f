"""Read side: inboxes, case lists, a case with its tasks and history."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, and_, any_, bindparam, func, literal_column, or_, select

from cases.core.access import restrict_cases, visible_case, visible_task
from cases.core.db import db
from cases.core.errors import Forbidden, ValidationFailed
from cases.core.models import Case, CaseEvent, Customer, Task, TaskState, User
from cases.core.paging import Page, paginate
from cases.customers.models import InstalledProduct
from cases.process import forms
from cases.process.models import ProcessInstance, ProcessVersion
from cases.process.runs import load_run
from cases.process.taskrules import CUSTOMER_LANE, collaborating_cases
from cases.sla.clock import RUNNING
from cases.sla.models import SlaTarget

TASK_SCOPES = ("mine", "claimable", "all")
#: inbox orders: oldest task first, or the case whose running SLA target is due soonest first
TASK_ORDERS = ("created", "due")


def _user_id(user: User, username: str, field: str) -> int:
    """The id of the user a filter names. Staff are told about an unknown name; for customers an
    unknown name just matches nothing, so the filters cannot be used to probe for staff names."""
    found = db.session.scalar(select(User.id).where(User.username == username))
    if found is None:
        if not user.is_staff:
            return -1
        raise ValidationFailed("unknown user", [{"field": f"query.{field}", "message": f"no user '{username}'"}])
    return found


def list_tasks(user: User, scope: str, filters: dict[str, Any], page: int, per_page: int,
               order: str = "created") -> Page:
    query = select(Task).where(Task.state == filters.get("state", TaskState.OPEN.value))
    if scope == "mine":
        query = query.where(Task.assignee_id == user.id)
    elif scope == "claimable":
        query = query.where(Task.assignee_id.is_(None))
        lanes = set(user.roles) - {CUSTOMER_LANE}
        conditions: list[ColumnElement[bool]] = [Task.lane.in_(lanes)] if lanes else []
        if user.is_staff:  # a major incident's team works the staff tasks of its linked cases
            conditions.append((Task.lane != CUSTOMER_LANE) & Task.case_id.in_(collaborating_cases(user)))
        if user.is_customer:
            conditions.append((Task.lane == CUSTOMER_LANE) & (Case.customer_id == user.customer_id))
        query = query.where(or_(*conditions)) if conditions else query.where(False)
    if not user.is_staff:
        query = query.where(Task.lane == CUSTOMER_LANE, Case.customer_id == user.customer_id)
    for key, column in (("element_id", Task.element_id), ("lane", Task.lane), ("case_id", Task.case_id),
                        ("priority", Case.priority), ("category", Case.category),
                        ("customer_id", Case.customer_id)):
        if filters.get(key) is not None:
            query = query.where(column == filters[key])
    if filters.get("assignee"):
        query = query.where(Task.assignee_id == _user_id(user, filters["assignee"], "assignee"))
    if filters.get("q"):
        query = query.where(case_text_matches(filters["q"]))
    if (not user.is_staff or user.is_customer or filters.get("q")
            or any(filters.get(k) is not None for k in ("priority", "category", "customer_id"))):
        # only a condition on the case needs the join: without it the page and its count read the
        # task indexes alone (every task has its case, so the rows are the same)
        query = query.join(Task.case)
    if order == "due":  # cases without a running target last
        due = (select(SlaTarget.case_id, func.min(SlaTarget.due_at).label("due_at"))
               .where(SlaTarget.state == RUNNING, SlaTarget.due_at.is_not(None))
               .group_by(SlaTarget.case_id).subquery())
        query = query.outerjoin(due, due.c.case_id == Task.case_id).order_by(
            due.c.due_at.is_(None), due.c.due_at, Task.created_at, Task.id)
        return paginate(query, page, per_page)
    return paginate(query.order_by(Task.created_at, Task.id), page, per_page)


def list_customers(user: User) -> list[Customer]:
    """Every customer, by name: for staff opening a case on a customer's behalf."""
    if not user.is_staff:
        raise Forbidden("only staff see the list of customers")
    return list(db.session.scalars(select(Customer).where(Customer.internal.is_(False)).order_by(Customer.name)))


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards taken literally (escape ``\\``)."""
    return "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


#: the case columns the text search reads, in the order of the trigram index's expression
SEARCH_COLUMNS = ("number", "title", "description", "environment", "contact_name", "contact_phone", "contact_email")


def search_text_expression() -> Any:
    """On PostgreSQL, the expression the trigram index ``ix_cases_search_trgm`` is built on
    (migrations/versions/0019_h16v): the searched columns joined by spaces. It must be spelled
    exactly as in the index (constants inline, not bound) for the planner to use it."""
    blank: Any = literal_column("''")
    space: Any = literal_column("' '")
    parts: list[Any] = []
    for name in SEARCH_COLUMNS:
        if parts:
            parts.append(space)
        parts.append(func.coalesce(getattr(Case, name), blank))
    return functools.reduce(lambda left, right: left.op("||")(right), parts)


def case_text_matches(text: str) -> Any:
    """Cases whose number, title, description, environment, contact (name, phone, mail) or customer
    (name or code: all of its cases) contain ``text``, case-insensitively; ``%``, ``_`` and ``\\``
    in ``text`` are taken literally.

    On PostgreSQL the same conditions are first narrowed by the trigram index over the columns
    joined (a column containing ``text`` makes the joined text contain it, so the narrowing drops
    no case; the per-column conditions then decide exactly), and the matching customers are looked
    up first, so that both halves of the OR are index scans instead of a scan of every case."""
    pattern = _like(text)
    customers = select(Customer.id).where(or_(Customer.name.ilike(pattern, escape="\\"),
                                              Customer.code.ilike(pattern, escape="\\")))
    columns = [getattr(Case, name) for name in SEARCH_COLUMNS]
    in_columns = or_(*(c.ilike(pattern, escape="\\") for c in columns))
    if db.session.get_bind().dialect.name != "postgresql":
        return or_(in_columns, Case.customer_id.in_(customers))
    customer_ids = list(db.session.scalars(customers))
    narrowed = and_(search_text_expression().ilike(pattern, escape="\\"), in_columns)
    return or_(narrowed, Case.customer_id == any_(bindparam("search_customer_ids", customer_ids,
                                                            type_=ARRAY(Integer)))) \
        if customer_ids else narrowed


def case_product_matches(product: str) -> Any:
    """Cases about a product: its customer has it installed (the customer record), or the case's
    environment names it."""
    pattern = _like(product)
    installed = select(InstalledProduct.customer_id).where(InstalledProduct.product.ilike(pattern, escape="\\"))
    return or_(Case.customer_id.in_(installed), Case.environment.ilike(pattern, escape="\\"))


def case_stages(user: User) -> list[str]:
    """The stages the user's visible cases are in (for the case list's stage filter)."""
    return sorted(s for s in db.session.scalars(restrict_cases(user, select(Case.stage)).distinct()) if s)


def list_cases(user: User, filters: dict[str, Any], page: int, per_page: int) -> Page:
    query = restrict_cases(user, select(Case))
    for key in ("status", "stage", "priority", "category", "channel", "customer_id", "kind", "parent_case_id"):
        if filters.get(key) is not None:
            query = query.where(getattr(Case, key) == filters[key])
    if filters.get("owner"):
        query = query.where(Case.owner_id == _user_id(user, filters["owner"], "owner"))
    if filters.get("q"):
        query = query.where(case_text_matches(filters["q"]))
    if filters.get("product"):
        query = query.where(case_product_matches(filters["product"]))
    return paginate(query.order_by(Case.created_at.desc(), Case.id.desc()), page, per_page)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """A history event as a case's page shows it: CaseEvent's columns and its actor, read as rows
    (a long-lived case has hundreds of events; building an ORM object of each cost more than the
    rest of the read). Read-only: write events through ``cases.core.events``."""

    id: int
    case_id: int
    at: datetime
    actor_id: int | None
    kind: str
    public: bool
    data: dict[str, Any]
    actor: User | None


#: the columns of a HistoryEvent, in its order (the actor last, as an entity)
_HISTORY_COLUMNS = (CaseEvent.id, CaseEvent.case_id, CaseEvent.at, CaseEvent.actor_id, CaseEvent.kind,
                    CaseEvent.public, CaseEvent.data)


def case_history(case_id: int, public_only: bool = False) -> list[HistoryEvent]:
    """The case's events, oldest first (``at``, then ``id``), with their actors, in one statement."""
    query = (select(*_HISTORY_COLUMNS, User).outerjoin(User, User.id == CaseEvent.actor_id)
             .where(CaseEvent.case_id == case_id))
    if public_only:
        query = query.where(CaseEvent.public.is_(True))
    return [HistoryEvent(*row) for row in db.session.execute(query.order_by(CaseEvent.at, CaseEvent.id))]


@dataclass(frozen=True)
class CaseView:
    case: Case
    tasks: list[Task]
    history: list[HistoryEvent]
    process_version: str
    internal: bool


def case_view(user: User, case_id: int) -> CaseView:
    case = visible_case(user, case_id)
    tasks = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.state == TaskState.OPEN.value)
                               .order_by(Task.created_at)).all()
    if not user.is_staff:
        tasks = [t for t in tasks if t.lane == CUSTOMER_LANE]
    history = case_history(case.id, public_only=not user.is_staff)
    # the version's hash only: not the instance row, whose engine state a long-lived case makes large
    version = db.session.scalar(select(ProcessVersion.content_hash)
                                .join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
                                .where(ProcessInstance.case_id == case.id))
    return CaseView(case, list(tasks), history, version or "", internal=user.is_staff)


#: fields of a staff step's form that ask the customer something: shown to the customer while
#: the case waits for their answer, although the step itself is internal
QUESTION_FIELDS = ("question", "data_request")


def open_question(user: User, case_id: int) -> str | None:
    """What the case asks its customer while it waits for their message, if a step wrote it down."""
    case = visible_case(user, case_id)
    if not case.stage.startswith("waiting:"):
        return None
    recent = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.kind == "task_completed")
                                .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(20))
    for event in recent:
        data = (event.data or {}).get("data")
        if isinstance(data, dict):
            for name in QUESTION_FIELDS:
                if isinstance(data.get(name), str) and data[name]:
                    return data[name]
    return None


@dataclass(frozen=True)
class TaskView:
    task: Task
    form: dict
    values: dict
    case: Case
    version_id: int  # the process version whose form this is


def _without_earlier_answers(task: Task, values: dict[str, Any]) -> dict[str, Any]:
    """A form starts empty of what an earlier round of the same step answered (the question of a
    first request for information is not the second one's): the process variables a completion of
    the step on this case wrote, with the value it wrote, are not offered again. Values the process
    computed since (a proposal, a changed variable) still are."""
    if not values:
        return values
    earlier = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == task.case_id,
                                                         CaseEvent.kind == "task_completed")).all()
    answered: dict[str, list[Any]] = {}
    for event in earlier:
        data = event.data or {}
        if data.get("element") == task.element_id and isinstance(data.get("data"), dict):
            for name, value in data["data"].items():
                answered.setdefault(name, []).append(value)
    return {name: value for name, value in values.items() if value not in answered.get(name, [])}


def task_view(user: User, task_id: str) -> TaskView:
    task = visible_task(user, task_id)
    instance = db.session.get(ProcessInstance, task.instance_id)
    schema = forms.schema(instance.version_id, task.form)
    values: dict = {}
    if task.is_open:
        run = load_run(instance, task.case, user)
        current = next((t for t in run.user_tasks() if t.id == task.id), None)
        if current is not None:
            values = _without_earlier_answers(task, forms.prefill(instance.version_id, task.form, current.data))
    return TaskView(task, schema, values, task.case, instance.version_id)

