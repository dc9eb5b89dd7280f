"""Follow-ups after a deployment: a customer's deployment date starts their follow-up programme.

DOMAIN.md: callbacks after deployment at 1 month, 3 months, 6 months and 1 year. The programme is
a case of kind ``follow_up`` running ``customer_follow_up.bpmn``: four date timers, each due at
10:00 (Shanghai) on the day the milestone falls (moved to the next working moment of the
``default`` calendar on a weekend or holiday), each mailing its own survey link and opening a
follow-up call for an agent. The due times are computed here and handed to the process as the
variables ``follow_up_due_<months>``; a corrected deployment date moves the timers not yet fired.
The programme has no SLA targets and is left out of the case KPIs (its survey answers count).
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from cases.casework import intake
from cases.core import audit, events
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import NotFound, ValidationFailed
from cases.core.models import STAFF_ROLES, Case, CaseKind, CaseStatus, Customer, Role, User
from cases.process.after_step import synchronise
from cases.process.locking import lock_instance
from cases.process.runs import load_run
from cases.sla import business_time, calendars

MILESTONES = (1, 3, 6, 12)  # months after the deployment
FOLLOW_UP_HOUR = time(10, 0)
SETTERS = (Role.ADMIN.value, Role.MANAGER.value)


def _plus_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def milestone_dues(deployed_on: date) -> dict[int, datetime]:
    """When each follow-up is due: 10:00 on the milestone's day in the default calendar's zone, or the
    next working moment after it."""
    cal = calendars.get(calendars.DEFAULT)
    return {months: business_time.next_working_moment(
        cal, datetime.combine(_plus_months(deployed_on, months), FOLLOW_UP_HOUR, tzinfo=cal.tz))
        for months in MILESTONES}


def running_programme(customer_id: int) -> Case | None:
    return db.session.scalar(select(Case).where(
        Case.customer_id == customer_id, Case.kind == CaseKind.FOLLOW_UP.value,
        Case.status == CaseStatus.OPEN.value).order_by(Case.id.desc()).limit(1))


def _variables(dues: dict[int, datetime]) -> dict[str, Any]:
    # the calls' form fields start empty: a branch's gateway reads them whatever the form sent
    return {**{f"follow_up_due_{months}": due.isoformat() for months, due in dues.items()},
            "reached": False, "satisfaction": None, "feedback": None}


def read_deployment(actor: User, customer_id: int) -> tuple[Customer, Case | None]:
    """A customer's deployment date and follow-up programme (the latest running one), for staff."""
    require_role(actor, *sorted(STAFF_ROLES))
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", resource="customer", id=customer_id)
    return customer, running_programme(customer.id)


@use_case
def set_deployment(actor: User, customer_id: int, deployed_on: date) -> tuple[Customer, Case]:
    """Record when the software went live at the customer and start (or re-time) its follow-ups."""
    require_role(actor, *SETTERS)
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", resource="customer", id=customer_id)
    if not 2000 <= deployed_on.year <= 2200:
        raise ValidationFailed("the deployment date is not valid",
                               [{"field": "deployed_on", "message": "a date from the year 2000 to 2200"}])
    previous, customer.deployed_on = customer.deployed_on, deployed_on
    dues = milestone_dues(deployed_on)
    programme = running_programme(customer.id)
    if programme is None:
        fields = {"channel": "phone", "title": f"Follow-ups after the deployment on {deployed_on.isoformat()}",
                  "description": f"Follow-up calls and surveys at {', '.join(map(str, MILESTONES))} months "
                                 f"after {customer.name} went live on {deployed_on.isoformat()}."}
        programme = intake.start_case(customer, actor, fields, kind=CaseKind.FOLLOW_UP.value,
                                      data={**_variables(dues), "deployed_on": deployed_on.isoformat()})
    else:
        instance = lock_instance(case_id=programme.id)
        run = load_run(instance, programme, actor)
        moved = [months for months, due in dues.items() if run.move_date_timers(f"follow_up_due_{months}", due)]
        events.record(programme, "follow_ups_moved", actor, deployed_on=deployed_on.isoformat(),
                      previous=previous.isoformat() if previous else None, milestones=moved)
        synchronise(programme, instance, run, actor)
    audit.record(actor, "deployment_date_set", customer.code, deployed_on=deployed_on.isoformat(),
                 previous=previous.isoformat() if previous else None, follow_up_case=programme.number)
    return customer, programme
