"""The quarterly service review: one section per part of the service, each computed by the room part
that owns the facts and registered here, so the review page, its print view and its CSV gather them
without knowing them.

A section source is a function ``(period, customer_id) -> Section`` decorated with
``@section("key", order)``; ``customer_id`` None means the whole service. ``cases/wiring.py`` imports
the modules that register sections. Labels are message ids (:func:`cases.core.texts.N_`), translated
by the page.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cases.kpis.figures import Period

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
