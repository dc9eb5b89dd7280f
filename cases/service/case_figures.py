"""The quarterly review's first sections: the cases and their time promises, and satisfaction —
the service KPIs (cases/kpis/report.py) of the quarter, for the customer or the whole service."""
from __future__ import annotations

from cases.core.texts import N_
from cases.kpis.figures import Kpis, Period, Ratio
from cases.kpis.report import compute
from cases.service.review import Figure, Section, section


def _kpis(period: Period, customer_id: int | None) -> Kpis:
    filters = {} if customer_id is None else {"customer_id": customer_id}
    return compute(period.first, period.last, filters=filters).totals


def _ratio(key: str, label: str, ratio: Ratio, higher_is_better: bool = True) -> Figure:
    return Figure(key, label, ratio.value, "ratio", ratio.target, higher_is_better)


@section("cases", order=10)
def cases_and_promises(period: Period, customer_id: int | None) -> Section:
    kpis = _kpis(period, customer_id)
    return Section("cases", N_("Cases and time promises"), (
        Figure("cases_opened", N_("Cases opened"), kpis.cases.value),
        _ratio("first_response_within_sla", N_("First response within the promised time"),
               kpis.first_response_within_sla),
        Figure("first_response_average", N_("Average first response (business time)"),
               kpis.first_response_average_seconds.value, "seconds"),
        _ratio("resolution_within_sla", N_("Resolved within the promised time"), kpis.resolution_within_sla),
        _ratio("resolution_rate", N_("Resolution rate"), kpis.resolution_rate),
        _ratio("reopen_rate", N_("Reopened after the solution"), kpis.reopen_rate, higher_is_better=False),
        Figure("backlog", N_("Open at the end of the quarter"), kpis.backlog.value),
        Figure("complaints", N_("Complaints"), kpis.complaints.value),
    ))


@section("satisfaction", order=20)
def satisfaction(period: Period, customer_id: int | None) -> Section:
    kpis = _kpis(period, customer_id)
    return Section("satisfaction", N_("Satisfaction"), (
        _ratio("csat", N_("Satisfied customers (4 or 5 of 5)"), kpis.csat),
        Figure("satisfaction_average", N_("Average score"), kpis.satisfaction_average.value, "score"),
        Figure("feedback", N_("Feedback received"), kpis.feedback_volume.value,
               target=kpis.feedback_volume.target if customer_id is None else None),
        _ratio("self_service", N_("Answered by the knowledge base"), kpis.self_service),
    ))
