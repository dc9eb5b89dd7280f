"""The quarterly review gathers the sections its parts register, in their order."""
from __future__ import annotations

from datetime import date

import pytest

from cases.kpis.figures import Period
from cases.service import review


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(review, "_SOURCES", {})
    return review


def test_sections_are_computed_in_their_order_for_the_period_and_customer(registry):
    seen = []

    @registry.section("second", order=20)
    def second(period, customer_id):
        seen.append(("second", period, customer_id))
        return review.Section("second", "Second", (review.Figure("n", "N", 3),))

    @registry.section("first", order=10)
    def first(period, customer_id):
        seen.append(("first", period, customer_id))
        return review.Section("first", "First")

    quarter = Period(date(2026, 7, 1), date(2026, 9, 30))
    assert [s.key for s in registry.sections(quarter, 7)] == ["first", "second"]
    assert seen == [("first", quarter, 7), ("second", quarter, 7)]


def test_a_key_registered_by_two_sources_is_refused(registry):
    registry.section("same", 1)(lambda period, customer_id: review.Section("same", "Same"))
    with pytest.raises(ValueError, match="same"):
        registry.section("same", 2)(lambda period, customer_id: review.Section("same", "Same"))


@pytest.mark.parametrize(("value", "target", "higher", "meets"), [
    (0.85, 0.8, True, True), (0.75, 0.8, True, False), (3, 5, False, True), (None, 0.8, True, None),
    (0.5, None, True, None)])
def test_a_figure_says_whether_it_meets_its_target(value, target, higher, meets):
    assert review.Figure("k", "K", value, "ratio", target, higher).meets_target is meets


def test_a_figure_with_an_unknown_unit_is_a_programming_error():
    with pytest.raises(ValueError, match="furlongs"):
        review.Figure("k", "K", 1, "furlongs")
