"""The quarterly review's visits section against a hand-computed quarter: two visits done in it (one
arrived within its window, one late), one done after it; three maintenance dates in it (one done that
day, one two days late, one not done) — 2 visits, 50 % within the window, 3 due, 1/3 on time."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cases.core.db import db
from cases.customers.models import InstalledProduct
from cases.kpis.figures import Period
from cases.service import review, visits_review
from cases.service.visit_models import InternalTask, MaintenanceSchedule, RepairLog, Visit
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))


def _visit(case_id: int, start: datetime, arrived: datetime) -> None:
    visit = Visit(case_id=case_id, kind="repair", window_start=start, window_end=start + timedelta(hours=2),
                  status="done", proposed_by="staff", purpose="p", in_warranty=True, charge_cents=0,
                  done_at=arrived + timedelta(hours=1))
    db.session.add(visit)
    db.session.flush()
    db.session.add(RepairLog(visit_id=visit.id, arrived_at=arrived, minutes=60, parts=[], result="repaired",
                             notes="n"))


def test_the_visits_section_of_a_hand_computed_quarter(api, world):
    case = open_case(api, "acme_user")
    feb = datetime(2026, 2, 10, 9, tzinfo=SHANGHAI)
    _visit(case["id"], feb, feb + timedelta(minutes=30))  # within
    _visit(case["id"], feb + timedelta(days=7), feb + timedelta(days=7, hours=3))  # late
    _visit(case["id"], datetime(2026, 4, 2, 9, tzinfo=SHANGHAI), datetime(2026, 4, 2, 9, 5, tzinfo=SHANGHAI))
    product = InstalledProduct(customer_id=world.customers["ACME"].id, product="财务软件", product_version="7.2")
    db.session.add(product)
    db.session.flush()
    schedule = MaintenanceSchedule(installed_product_id=product.id, kind="maintenance", interval_days=28,
                                   next_due=date(2026, 4, 1), active=True)
    db.session.add(schedule)
    db.session.flush()
    for due_on, done_at in ((date(2026, 2, 1), datetime(2026, 2, 1, 23, 30, tzinfo=SHANGHAI)),
                            (date(2026, 3, 1), datetime(2026, 3, 3, 10, tzinfo=SHANGHAI)),
                            (date(2026, 3, 20), None)):
        db.session.add(InternalTask(schedule_id=schedule.id, title="t", state="done" if done_at else "open",
                                    due_on=due_on, done_at=done_at))
    db.session.commit()

    section = visits_review.visits_section(Q1, None)
    figures = {f.key: f.value for f in section.figures}
    assert figures == {"visits_done": 2, "visits_within_window": 0.5, "maintenance_due": 3,
                       "maintenance_on_time": 1 / 3}
    assert {f.key: f.value for f in visits_review.visits_section(Q1, world.customers["ACME"].id).figures} == figures
    other = {f.key: f.value for f in visits_review.visits_section(Q1, world.customers["OTHER"].id).figures}
    assert other == {"visits_done": 0, "visits_within_window": None, "maintenance_due": 0,
                     "maintenance_on_time": None}
    assert "visits" in review.section_keys()
