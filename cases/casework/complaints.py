"""Complaints: a case of their own, running ``complaint_handling.bpmn``, linked to the case they are about.

A complaint gets its own process and its own SLA clock (the policy's ``case_kind: complaint`` rule:
acknowledge = first response, resolve = resolution), so it is a case of kind ``complaint`` whose
``parent_case_id`` names the original case; the original stays open (its support process waits
for the message ``complaint_closed``) or, if it was closed already, simply gets the link in its
history. A complaint comes from the complaint branch of the support process, from a customer or a
staff member filing one against a case, or from a low satisfaction score (≤ 2).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.casework import intake
from cases.casework.tasks import deliver_message
from cases.core import events
from cases.core.access import FRONT_LINE_ROLES, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Forbidden, ValidationFailed
from cases.core.models import Case, CaseKind, User
from cases.core.services import ServiceContext, operation
from cases.outbox import notifications

ORIGINS = ("case", "customer", "staff", "low_score")
#: a score at or below this opens a complaint (DOMAIN.md: "a low score opens a complaint")
LOW_SCORE = 2
CLOSED_MESSAGE = "complaint_closed"


def open_linked(parent: Case, actor: User | None, origin: str, reason: str | None) -> Case:
    """Open a complaint about ``parent`` in the caller's unit of work; the parent's history links it."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown complaint origin {origin!r}")
    description = (reason or "").strip() or parent.description
    title = f"Complaint about {parent.number}: {parent.title}"[:200]
    fields = {"channel": parent.channel, "title": title, "description": description[:20000],
              "contact_name": parent.contact_name, "contact_phone": parent.contact_phone,
              "contact_email": parent.contact_email, "priority_hint": parent.priority or "medium"}
    complaint = intake.start_case(parent.customer, actor, fields, kind=CaseKind.COMPLAINT.value, parent=parent,
                                  data={"complaint_origin": origin, "original_case": parent.number})
    if complaint.reporter_id is None:
        complaint.reporter_id = parent.reporter_id
    events.record(parent, "complaint_opened", actor, public=True, complaint_id=complaint.id,
                  complaint=complaint.number, origin=origin)
    return complaint


@use_case
def file_complaint(actor: User, case_id: int, description: str) -> Case:
    """A customer (about their organisation's case) or a front-line staff member files a complaint."""
    case = visible_case(actor, case_id)
    if not (actor.is_customer or actor.has_role(*FRONT_LINE_ROLES)):
        raise Forbidden(f"filing a complaint needs one of the roles: customer, {', '.join(FRONT_LINE_ROLES)}")
    if case.kind == CaseKind.FOLLOW_UP.value:
        raise ValidationFailed("a follow-up programme is not a case to complain about",
                               [{"field": "case_id", "message": "a follow-up programme"}])
    return open_linked(case, actor, "customer" if actor.is_customer else "staff", description)


def linked_cases(case: Case) -> list[Case]:
    """The cases that name ``case`` as theirs (its complaints), oldest first."""
    return list(db.session.scalars(select(Case).where(Case.parent_case_id == case.id).order_by(Case.id)))


def report_outcome(complaint: Case, actor: User | None, outcome: dict[str, Any]) -> dict[str, Any]:
    """The complaint process ended: the original case hears of it. If its support process waits for
    the complaint (the complaint branch), the message moves it on to the customer's confirmation."""
    parent = db.session.get(Case, complaint.parent_case_id) if complaint.parent_case_id else None
    if parent is None:
        return {"reported_to": None}
    payload = {"complaint": complaint.number, **outcome}
    if parent.is_open and parent.stage == f"waiting:{CLOSED_MESSAGE}":
        deliver_message(parent, actor, CLOSED_MESSAGE, payload)
        # the complaint branch: the signed-off response is the case's solution, to be confirmed
        if outcome.get("response"):
            parent.solution = outcome["response"]
    events.record(parent, "complaint_closed", actor, public=True, complaint_id=complaint.id,
                  complaint=complaint.number, outcome=outcome.get("outcome"))
    return {"reported_to": parent.number}


@operation("open_complaint")
def _open_operation(ctx: ServiceContext, origin: str, reason: str | None) -> dict[str, Any]:
    complaint = open_linked(ctx.case, ctx.actor, origin, reason)
    return {"case_id": complaint.id, "number": complaint.number}


@operation("send_complaint_response")
def _respond_operation(ctx: ServiceContext, response: str, outcome: str | None) -> dict[str, Any]:
    """The signed-off response: the case's solution, in its public history, mailed to the contact."""
    ctx.case.solution = response
    events.record(ctx.case, "complaint_response", ctx.actor, public=True, response=response, outcome=outcome)
    address = ctx.case.contact_email
    if address:
        subject, body = notifications.complaint_response_mail(ctx.case, response)
        notifications.enqueue("complaint_response", [address], subject, body, case=ctx.case)
    return {"mailed_to": address}


@operation("report_complaint_outcome")
def _outcome_operation(ctx: ServiceContext, outcome: dict[str, Any]) -> dict[str, Any]:
    return report_outcome(ctx.case, ctx.actor, outcome)
