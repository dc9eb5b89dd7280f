"""The customers page for staff: each customer's tier, deployment date and follow-up programme
(cases/casework/follow_ups.py: the milestones at 1, 3, 6 and 12 months and their surveys); admins and
managers set the deployment date there (as PUT /api/v1/customers/{id}/deployment)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import flash, request
from flask_babel import gettext as _

from cases.casework import follow_ups, queries, surveys
from cases.casework.models import Survey
from cases.core.errors import ValidationFailed
from cases.core.models import Case, Customer
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("customer_pages", url_prefix="/customers")


@dataclass(frozen=True)
class Milestone:
    months: int
    due: datetime
    survey: Survey | None  # the survey its timer sent, once it fired


@dataclass(frozen=True)
class Row:
    customer: Customer
    programme: Case | None
    milestones: list[Milestone]


def _row(customer: Customer) -> Row:
    user = current_user()
    customer, programme = follow_ups.read_deployment(user, customer.id)
    if customer.deployed_on is None:
        return Row(customer, programme, [])
    sent = {s.milestone: s for s in surveys.list_surveys(user, programme.id, open_only=False)
            if s.kind == "follow_up"} if programme else {}
    dues = follow_ups.milestone_dues(customer.deployed_on)
    return Row(customer, programme, [Milestone(months, due, sent.get(months)) for months, due in dues.items()])


def _page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    rows = [_row(c) for c in queries.list_customers(current_user())]
    return render("customers.html", status, rows=rows, errors=errors or {}, values=values or {})


@blp.get("")
def index():
    return _page()


@blp.post("/<int(max=2147483647):customer_id>/deployment")
def set_deployment(customer_id: int):
    """Record the customer's deployment date: starts the follow-ups, or moves those not yet due."""
    raw = request.form.get("deployed_on", "").strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        message = _("This field is required.") if not raw else _("A date as YYYY-MM-DD.")
        return _page(422, {customer_id: message}, {customer_id: raw})
    try:
        customer, programme = follow_ups.set_deployment(current_user(), customer_id, day)
    except ValidationFailed:
        return _page(422, {customer_id: _("A date from the year 2000 to 2200.")}, {customer_id: raw})
    flash(_("%(customer)s went live on %(day)s; the follow-ups run in %(case)s.", customer=customer.name,
            day=day.isoformat(), case=programme.number), "success")
    return back_to("customer_pages.index")
