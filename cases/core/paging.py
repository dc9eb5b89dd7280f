"""A page of a query's results with the total: every list in the API and the pages uses it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from cases.core.db import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int


def paginate(query: Select, page: int, per_page: int) -> Page:
    """The page and its total in one statement: the total is a scalar subquery of the page's query
    (computed once, beside each row), so a list costs one round trip to the database, not two.
    A page past the end has no row to carry it: the total is then counted on its own."""
    count = select(func.count()).select_from(query.order_by(None).subquery())
    rows = db.session.execute(query.add_columns(count.scalar_subquery().label("page_total"))
                              .limit(per_page).offset((page - 1) * per_page)).unique().all()
    if rows:
        return Page([row[0] for row in rows], int(rows[0][-1]), page, per_page)
    return Page([], db.session.scalar(count) or 0, page, per_page)
