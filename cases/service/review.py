"""The quarterly service review: one section per part of the service, each computed by the room part
that owns the facts and registered here, so the review page, its print view and its CSV gather them
without knowing them.

A section source is a function ``(period, customer_id) -> Section`` decorated with
``@section("key", order)``; ``customer_id`` None means the whole service. ``cases/wiring.py`` imports
the modules that register sections. Labels are message ids (:func:`cases.core.texts.N_`), translated
by the page.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cases.core.access import require_role
from cases.core.db import db
from cases.core.errors import ValidationFailed
from cases.core.models import Customer, Role, User, utcnow
from cases.kpis.figures import TIMEZONE, Period
from cases.kpis.report import READERS as KPI_READERS
from cases.sla import calendars

#: how a figure's value reads: a count, a share 0..1, a duration in seconds, a 1..5 score, or money
UNITS = ("count", "ratio", "seconds", "score", "money")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | int | None
    unit: str = "count"
    #: the service plan's target in the same unit, and whether a higher value is better
    target: float | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}")

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass(frozen=True)
class Table:
    """A detail list under the figures (e.g. the open high risks): column keys with their labels."""

    columns: tuple[tuple[str, str], ...]
    rows: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = field(default=())


SectionSource = Callable[[Period, "int | None"], Section]

_SOURCES: dict[str, tuple[int, SectionSource]] = {}


def section(key: str, order: int) -> Callable[[SectionSource], SectionSource]:
    """Register ``fn`` as the source of the review's section ``key`` (sections read by ``order``)."""

    def register(fn: SectionSource) -> SectionSource:
        if key in _SOURCES and _SOURCES[key][1] is not fn:
            raise ValueError(f"review section {key!r} registered twice")
        _SOURCES[key] = (order, fn)
        return fn

    return register


def section_keys() -> list[str]:
    return [key for key, _ in sorted(_SOURCES.items(), key=lambda item: (item[1][0], item[0]))]


def sections(period: Period, customer_id: int | None = None) -> list[Section]:
    """Every registered section for ``period``, for one customer or (None) the whole service."""
    return [_SOURCES[key][1](period, customer_id) for key in section_keys()]


# -- the review of a quarter ----------------------------------------------------------------------
#: who reads reviews: who reads the KPIs, and the business managers who hold the review with customers
READERS = (*KPI_READERS, Role.BUSINESS_MANAGER.value)
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_period(text: str) -> Period:
    """``2026-Q4`` → 1 October to 31 December 2026 (days in the reporting zone)."""
    match = QUARTER.match(text or "")
    if match is None or not calendars.FIRST_YEAR <= int(match.group(1)) <= calendars.LAST_YEAR:
        raise ValidationFailed("the quarter is not valid", [{
            "field": "quarter",
            "message": f"a quarter like 2026-Q4, in the years {calendars.FIRST_YEAR} to {calendars.LAST_YEAR}"}])
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, 3 * number - 2, 1)
    last = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(first, date.fromordinal(last.toordinal() - 1))


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Review:
    quarter: str
    period: Period
    timezone: str
    customer: Customer | None
    computed_at: datetime
    sections: list[Section]


def quarterly_review(user: User, quarter: str, customer_id: int | None = None) -> Review:
    """The review of ``quarter`` for one customer or (None) the whole service; staff who read KPIs."""
    require_role(user, *READERS)
    period = quarter_period(quarter)
    customer = None
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            raise ValidationFailed("there is no such customer", [{"field": "customer_id", "message": "no such customer"}])
    computed_at = utcnow()
    return Review(quarter, period, TIMEZONE, customer, computed_at, sections(period, customer_id))


CSV_COLUMNS = ("section", "figure", "label", "value", "unit", "target", "meets_target")


def as_csv(review: Review, translate: Callable[[str], str]) -> str:
    """Every figure of every section, one row each; ``label`` in the reader's language (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for part in review.sections:
        for figure in part.figures:
            meets = figure.meets_target
            writer.writerow((part.key, figure.key, translate(figure.label),
                             "" if figure.value is None else figure.value, figure.unit,
                             "" if figure.target is None else figure.target,
                             "" if meets is None else ("yes" if meets else "no")))
    return "\ufeff" + out.getvalue()


def csv_filename(review: Review) -> str:
    who = f"customer-{review.customer.id}" if review.customer is not None else "service"
    return f"service-review-{review.quarter}-{who}.csv"
