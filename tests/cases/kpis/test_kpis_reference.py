"""The KPIs' confirmation facts (resolved, rejected, judged) and self-service answers, read through
partial indexes since 0019_h16v, are the facts of the history as the report defined them before:
checked against a reference computed here in Python from every event, on the demo data and on a
hand-built history (a rejection then a confirmation, a timeout, a self-service answer, a
confirmation of another step, an event of another kind with the same element), on both databases."""
from __future__ import annotations

from datetime import timedelta

from cases.core.db import db
from cases.core.models import Case, CaseEvent, CaseKind, utcnow
from cases.demo import load as demo
from cases.kpis import report
from cases.kpis.figures import Period
from tests.conftest import FAST_HASH, PASSWORD


def _reference(period: Period) -> dict[str, int]:
    cohort = db.session.scalars(db.select(Case).where(Case.created_at >= period.start, Case.created_at < period.end,
                                                      Case.kind == CaseKind.SUPPORT.value)).all()
    counts = {"cases": len(cohort), "resolved": 0, "rejected": 0, "judged": 0, "self_served": 0}
    for case in cohort:
        events = db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == case.id)).all()

        def answered(e: CaseEvent) -> bool:
            return e.kind == "task_completed" and (e.data or {}).get("element") == "confirm"

        def timed_out(e: CaseEvent) -> bool:
            return e.kind == "timer_fired" and (e.data or {}).get("element") == "confirm_timeout"

        def answer(e: CaseEvent) -> object:
            return ((e.data or {}).get("data") or {}).get("confirmed")

        counts["resolved"] += any((answered(e) and answer(e) is True) or timed_out(e) for e in events)
        counts["rejected"] += any(answered(e) and answer(e) is False for e in events)
        counts["judged"] += any(answered(e) or timed_out(e) for e in events)
        counts["self_served"] += any(e.kind == "self_service" for e in events)
    return counts


def _figures(period: Period) -> dict[str, int]:
    totals = report.compute(period.first, period.last).totals
    return {"cases": totals.cases.value, "resolved": totals.resolution_rate.numerator,
            "rejected": totals.reopen_rate.numerator, "judged": totals.reopen_rate.denominator,
            "self_served": totals.self_service.numerator}


def _event(case: Case, kind: str, **data: object) -> None:
    db.session.add(CaseEvent(case_id=case.id, kind=kind, data=data, at=case.created_at + timedelta(hours=1)))


def test_the_demo_data_and_a_hand_built_history_give_the_reference_figures(app_ctx):
    demo.load(PASSWORD, FAST_HASH)
    today = utcnow().date()
    period = Period(today - timedelta(days=2 * 365), today)
    demo_figures = _figures(period)
    assert demo_figures == _reference(period)
    assert demo_figures["judged"] > 0  # the demo has confirmations to count

    cases = db.session.scalars(db.select(Case).where(Case.kind == CaseKind.SUPPORT.value,
                                                     Case.created_at >= period.start)
                                  .order_by(Case.id).limit(6)).all()
    assert len(cases) == 6
    rejected_then_confirmed, timed_out, self_served, other_step, other_kind, odd_answer = cases
    _event(rejected_then_confirmed, "task_completed", element="confirm", data={"confirmed": False})
    _event(rejected_then_confirmed, "task_completed", element="confirm", data={"confirmed": True})
    _event(timed_out, "timer_fired", element="confirm_timeout")
    _event(self_served, "self_service", article=1)
    _event(other_step, "task_completed", element="callback", data={"confirmed": True})  # not a confirmation
    _event(other_kind, "timer_fired", element="confirm")  # a timer of that name is not an answer
    _event(odd_answer, "task_completed", element="confirm", data={})  # judged, neither yes nor no
    db.session.commit()
    assert _figures(period) == _reference(period)
