"""The quarterly review's section on visits and maintenance (``review.py``): visits done in the
period, the share where the technician arrived within the confirmed window, and the share of the
maintenance and backup-check tasks due in the period that were done by their date."""
from __future__ import annotations

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case
from cases.core.texts import N_
from cases.customers.models import InstalledProduct
from cases.kpis.figures import Period
from cases.service import review
from cases.service.common import local_day
from cases.service.visit_models import InternalTask, MaintenanceSchedule, Visit
from cases.service.visits import within_window


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@review.section("visits", 80)
def visits_section(period: Period, customer_id: int | None) -> review.Section:
    query = select(Visit).join(Case, Visit.case_id == Case.id).where(
        Visit.status == "done", Visit.done_at >= period.start, Visit.done_at < period.end)
    if customer_id is not None:
        query = query.where(Case.customer_id == customer_id)
    done = list(db.session.scalars(query))
    logged = [within_window(v) for v in done]
    in_window = sum(1 for w in logged if w)
    tasks = select(InternalTask).join(MaintenanceSchedule, InternalTask.schedule_id == MaintenanceSchedule.id).where(
        InternalTask.due_on >= period.first, InternalTask.due_on <= period.last)
    if customer_id is not None:
        tasks = tasks.join(InstalledProduct, MaintenanceSchedule.installed_product_id == InstalledProduct.id).where(
            InstalledProduct.customer_id == customer_id)
    due = list(db.session.scalars(tasks))
    on_time = sum(1 for t in due if t.done_at is not None and t.due_on is not None
                  and local_day(t.done_at) <= t.due_on)
    figures = (
        review.Figure("visits_done", N_("Visits and repairs done"), len(done)),
        review.Figure("visits_within_window", N_("Arrived within the confirmed window"),
                      _ratio(in_window, sum(1 for w in logged if w is not None)), "ratio"),
        review.Figure("maintenance_due", N_("Maintenance and backup checks due"), len(due)),
        review.Figure("maintenance_on_time", N_("Maintenance and backup checks done on time"),
                      _ratio(on_time, len(due)), "ratio"),
    )
    return review.Section("visits", N_("Repairs, visits and maintenance"), figures)
