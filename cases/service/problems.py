"""Recurring problems (seeds 000, 001: 减少问题重复发生率, 识别出常见问题): the problems that keep
coming back, by product, version, category and customer, with the cases behind each; a group marked
as a *known problem* with its workaround in a knowledge-base article; the recurrence rate.

A **group** is the classified support cases opened in a period that share a customer, a category and
the product and version they are about. Cases carry no product of their own: a case is about the
product its customer has installed (``installed_products``) when the customer has exactly one; a
customer with none or several gives ``""`` for product and version (the group still narrows by
customer and category). A group **recurs** when it holds at least ``min_cases`` cases (2).

The **recurrence rate** of a period: the cases that repeat a problem already reported in the period,
over all classified support cases opened in it — the sum over groups of (cases − 1), divided by the
cases. 0 when every problem came once; near 1 when one problem came again and again. The plan's aim is
to bring it down (target: at most 20 %, :data:`RECURRENCE_TARGET`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, ValidationFailed
from cases.core.models import CATEGORIES, STAFF_ROLES, Case, CaseKind, Customer, Role, User, utcnow
from cases.core.texts import N_
from cases.customers.models import InstalledProduct
from cases.knowledge.models import KnowledgeArticle
from cases.kpis.figures import Period, period_problems
from cases.service import review
from cases.service.models import KnownProblem

#: who marks a group as a known problem (the knowledge base's writers, the technical lead, managers)
MARKERS = (Role.AGENT.value, Role.SERVICE_CONSULTANT.value, Role.SUPERVISOR.value, Role.ADMIN.value,
           Role.TECHNICAL_LEAD.value, Role.MANAGER.value)
MIN_CASES = 2
RECURRENCE_TARGET = 0.2


@dataclass(frozen=True)
class Key:
    product: str
    product_version: str
    category: str
    customer_id: int


@dataclass
class Group:
    key: Key
    customer: Customer
    cases: list[Case] = field(default_factory=list)
    known: KnownProblem | None = None

    @property
    def count(self) -> int:
        return len(self.cases)


def products_by_customer(customer_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(product, version) of each customer with exactly one installed product."""
    rows = db.session.execute(select(InstalledProduct.customer_id, InstalledProduct.product,
                                     InstalledProduct.product_version)
                              .where(InstalledProduct.customer_id.in_(customer_ids))).all() if customer_ids else []
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for customer_id, product, version in rows:
        found[customer_id].append((product, version))
    return {cid: items[0] for cid, items in found.items() if len(items) == 1}


def _cases(period: Period, customer_id: int | None) -> list[Case]:
    query = select(Case).where(Case.kind == CaseKind.SUPPORT.value, Case.category.is_not(None),
                               Case.created_at >= period.start, Case.created_at < period.end)
    if customer_id is not None:
        query = query.where(Case.customer_id == customer_id)
    return list(db.session.scalars(query.order_by(Case.created_at, Case.id)))


def all_groups(period: Period, customer_id: int | None = None) -> list[Group]:
    """Every group of the period's classified support cases, the largest first."""
    cases = _cases(period, customer_id)
    products = products_by_customer({c.customer_id for c in cases})
    groups: dict[Key, Group] = {}
    for case in cases:
        product, version = products.get(case.customer_id, ("", ""))
        key = Key(product, version, case.category or "", case.customer_id)
        groups.setdefault(key, Group(key, case.customer)).cases.append(case)
    known = {Key(k.product, k.product_version, k.category, k.customer_id): k
             for k in db.session.scalars(select(KnownProblem))}
    for key, group in groups.items():
        group.known = known.get(key)
    return sorted(groups.values(), key=lambda g: (-g.count, g.customer.code, g.key.category, g.key.product))


def recurring(user: User, first: date, last: date, min_cases: int = MIN_CASES,
              customer_id: int | None = None) -> list[Group]:
    """The groups of at least ``min_cases`` cases opened from ``first`` to ``last`` (staff only)."""
    require_role(user, *sorted(STAFF_ROLES))
    problems = period_problems(first, last)
    if not 1 <= min_cases <= 1000:
        problems.append({"field": "min_cases", "message": "from 1 to 1000"})
    if problems:
        raise ValidationFailed("the request is not valid", problems)
    return [g for g in all_groups(Period(first, last), customer_id) if g.count >= min_cases]


@dataclass(frozen=True)
class Recurrence:
    cases: int
    repeats: int
    recurring_groups: int
    known_groups: int

    @property
    def rate(self) -> float | None:
        return self.repeats / self.cases if self.cases else None


def recurrence(period: Period, customer_id: int | None = None) -> Recurrence:
    groups = all_groups(period, customer_id)
    return Recurrence(cases=sum(g.count for g in groups), repeats=sum(g.count - 1 for g in groups),
                      recurring_groups=sum(1 for g in groups if g.count >= MIN_CASES),
                      known_groups=sum(1 for g in groups if g.count >= MIN_CASES and g.known is not None))


# -- known problems ------------------------------------------------------------------------------

def _problem(name: str, message: str) -> ValidationFailed:
    return ValidationFailed("the request is not valid", [{"field": name, "message": message}])


def _text(fields: dict[str, Any], name: str, limit: int, required: bool = True) -> str:
    value = fields.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _problem(name, "a text")
    value = value.strip()
    if required and not value:
        raise _problem(name, "required")
    if len(value) > limit:
        raise _problem(name, f"at most {limit} characters")
    return value


@use_case
def mark_known(actor: User, fields: dict[str, Any]) -> KnownProblem:
    """Mark a group as a known problem: its key (product, product_version, category, customer_id),
    a title, the workaround, and the knowledge-base article that holds it (``article_id``)."""
    require_role(actor, *MARKERS)
    product = _text(fields, "product", 100, required=False)
    version = _text(fields, "product_version", 100, required=False)
    category = fields.get("category")
    if category not in CATEGORIES:
        raise _problem("category", f"one of: {', '.join(CATEGORIES)}")
    customer_id = fields.get("customer_id")
    customer = db.session.get(Customer, customer_id) if type(customer_id) is int and 0 < customer_id < 2**31 else None
    if customer is None:
        raise _problem("customer_id", f"no customer {customer_id}")
    title = _text(fields, "title", 200)
    workaround = _text(fields, "workaround", 10000)
    article_id = fields.get("article_id")
    article = (db.session.get(KnowledgeArticle, article_id)
               if type(article_id) is int and 0 < article_id < 2**31 else None)
    if article is None:
        raise _problem("article_id", f"no knowledge-base article {article_id}")
    existing = db.session.scalar(select(KnownProblem).where(
        KnownProblem.product == product, KnownProblem.product_version == version, KnownProblem.category == category,
        KnownProblem.customer_id == customer.id))
    if existing is not None:
        raise Conflict(f"this group is already the known problem {existing.id}", code="already_known",
                       known_problem=existing.id)
    row = KnownProblem(product=product, product_version=version, category=category, customer_id=customer.id,
                       title=title, workaround=workaround, article_id=article.id, article=article,
                       created_by_id=actor.id, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def known_problems(user: User) -> list[KnownProblem]:
    require_role(user, *sorted(STAFF_ROLES))
    return list(db.session.scalars(select(KnownProblem).order_by(KnownProblem.created_at.desc(), KnownProblem.id.desc())))


def get_known(user: User, known_id: int) -> KnownProblem:
    require_role(user, *sorted(STAFF_ROLES))
    row = db.session.get(KnownProblem, known_id)
    if row is None:
        raise NotFound(f"known problem {known_id} not found", resource="known_problem", id=known_id)
    return row


# -- the quarterly review's section ------------------------------------------------------------

@review.section("problems", 60)
def _review_section(period: Period, customer_id: int | None) -> review.Section:
    figures = recurrence(period, customer_id)
    groups = [g for g in all_groups(period, customer_id) if g.count >= MIN_CASES]
    rows = tuple({"customer": g.customer.code, "product": g.key.product, "version": g.key.product_version,
                  "category": g.key.category, "cases": g.count, "known": g.known is not None} for g in groups[:10])
    return review.Section("problems", N_("Recurring problems"), figures=(
        review.Figure("recurrence_rate", N_("Recurrence rate"), figures.rate, "ratio", target=RECURRENCE_TARGET,
                      higher_is_better=False),
        review.Figure("recurring_groups", N_("Problems that came back"), figures.recurring_groups),
        review.Figure("repeat_cases", N_("Cases repeating a problem"), figures.repeats),
        review.Figure("known_problems", N_("Of them known, with a workaround"), figures.known_groups),
    ), tables=(review.Table(columns=(("customer", N_("Customer")), ("product", N_("Product")),
                                     ("version", N_("Version")), ("category", N_("Category")),
                                     ("cases", N_("Cases")), ("known", N_("Known problem"))), rows=rows),))
