"""The first-response average and nearest-rank 90th percentile, per group and in total, against
figures worked out by hand — on PostgreSQL taken in SQL (``percentile_disc`` in the cohort's one
pass, the total from a grouping set), on SQLite from the values in Python; on PostgreSQL both
paths are run on the same rows and must give the same report.

The quarter's support cases (Q3 2026), by priority, with the business seconds of their met first
response (cycle 1); cases whose first response is not met, complaints, a later cycle and a case
of another quarter must not count:

| priority | met first responses (seconds) | n | nearest rank ⌈0.9 n⌉ | p90 | average |
| --- | --- | ---: | ---: | ---: | ---: |
| high | 60 × 1..10 shuffled | 10 | 9 | 540 | 330.0 |
| medium | 100, 100, 100, 700, 5000 (ties) | 5 | 5 (4.5 up) | 5000 | 1200.0 |
| low | 30 × 1..11 | 11 | 10 (9.9 up) | 300 | 180.0 |
| not set | 7 | 1 | 1 | 7 | 7.0 |
| urgent | none met (one running, one breached) | 0 | — | None | None |
| total | the 27 above: 7, 30, 60, 60, 90, 100 ×3, …, 480, 540, 600, 700, 5000 | 27 | 25 (24.3 up) | 600 | 418.0 (11287 / 27 = 418.04) |
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cases.core.db import db
from cases.core.models import Case, CaseKind
from cases.kpis import report
from cases.sla.models import SlaTarget

Q3 = (datetime(2026, 7, 1).date(), datetime(2026, 9, 30).date())
NOW = datetime(2026, 10, 15, 4, 0, tzinfo=timezone.utc)
OPENED = datetime(2026, 8, 3, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, inside Q3

MET = {
    "high": [60 * i for i in (3, 9, 1, 10, 5, 2, 8, 4, 7, 6)],
    "medium": [100, 700, 100, 5000, 100],
    "low": [30 * i for i in range(1, 12)],
    None: [7],
}
EXPECTED = {  # priority: (count, p90, average)
    "high": (10, 540, 330.0), "medium": (5, 5000, 1200.0), "low": (11, 300, 180.0), None: (1, 7, 7.0),
    "urgent": (0, None, None),
}
TOTAL = (27, 600, 418.0)


def _case(world, n: int, priority: str | None, kind: str = CaseKind.SUPPORT.value,
          opened: datetime = OPENED) -> Case:
    case = Case(number=f"CF-2026-9{n:05d}", customer_id=world.customers["ACME"].id, channel="web",
                title=f"case {n}", description="d", priority=priority, kind=kind, stage="resolution",
                status="open", created_at=opened + timedelta(minutes=n), updated_at=opened)
    db.session.add(case)
    db.session.flush()
    return case


def _target(case: Case, state: str, seconds: int, cycle: int = 1, breached: bool = False) -> None:
    due = case.created_at + timedelta(hours=4)
    db.session.add(SlaTarget(case_id=case.id, kind="first_response", cycle=cycle, policy_version=0,
                             calendar="default", target_minutes=240, extended_minutes=0, warning_percent=75,
                             manager_after_minutes=120, started_at=case.created_at, elapsed_seconds=seconds,
                             running_since=case.created_at if state == "running" else None, state=state,
                             warning_at=due - timedelta(hours=1), due_at=due,
                             met_at=case.created_at + timedelta(seconds=seconds) if state == "met" else None,
                             breached_at=due if breached else None))


@pytest.fixture
def quarter(world):
    n = 0
    for priority, values in MET.items():
        for seconds in values:
            n += 1
            _target(_case(world, n, priority), "met", seconds)
    for state, breached in (("running", False), ("running", True)):
        n += 1
        _target(_case(world, n, "urgent"), state, 99_999, breached=breached)
    n += 1  # a met target of a later cycle does not count
    case = _case(world, n, "urgent")
    _target(case, "running", 50)
    _target(case, "met", 1_000_000, cycle=2)
    n += 1  # nor a complaint's
    _target(_case(world, n, "high", kind=CaseKind.COMPLAINT.value), "met", 2_000_000)
    n += 1  # nor a case opened in another quarter
    _target(_case(world, n, "high", opened=OPENED - timedelta(days=60)), "met", 3_000_000)
    db.session.commit()


def _times(kpis) -> tuple[int, int | None, float | None]:
    return (kpis.first_response_p90_seconds.count, kpis.first_response_p90_seconds.value,
            kpis.first_response_average_seconds.value)


def test_the_percentile_and_average_per_group_and_in_total_are_the_hand_computed_ones(quarter):
    grouped = report.compute(*Q3, group_by="priority", now=NOW)
    assert {g.key: _times(g.kpis) for g in grouped.groups} == EXPECTED
    assert {g.key: g.kpis.first_response_average_seconds.count for g in grouped.groups} == \
        {k: v[0] for k, v in EXPECTED.items()}
    assert _times(grouped.totals) == TOTAL
    assert _times(report.compute(*Q3, now=NOW).totals) == TOTAL
    assert _times(report.compute(*Q3, filters={"priority": "medium"}, now=NOW).totals) == EXPECTED["medium"]
    assert _times(report.compute(*Q3, filters={"priority": "urgent"}, now=NOW).totals) == (0, None, None)
    assert grouped.totals.cases.value == 30  # 27 met, 3 urgent


@pytest.mark.parametrize("group_by", ["priority", "none", "category"])
def test_the_sql_and_the_python_percentile_give_the_same_report(quarter, monkeypatch, group_by):
    """Where the database takes the percentile (PostgreSQL), the Python path gives the same report
    on the same rows; on SQLite both are the Python path (the test still checks the figures)."""
    in_database = report.compute(*Q3, group_by=group_by, now=NOW)
    monkeypatch.setattr(report, "_percentile_in_sql", lambda: False)
    in_python = report.compute(*Q3, group_by=group_by, now=NOW)
    assert in_database == in_python
    assert _times(in_python.totals) == TOTAL
