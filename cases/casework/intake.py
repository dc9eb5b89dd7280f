"""Opening a case: the row, its process instance, the first tasks and the first events."""
from __future__ import annotations

from typing import Any

from cases.core import events
from cases.core.access import FRONT_LINE_ROLES
from cases.core.db import db, use_case
from cases.core.errors import Conflict, Forbidden, ValidationFailed
from cases.core.models import Case, CaseKind, Customer, User, utcnow
from cases.customers import records as customer_records
from cases.process.after_step import synchronise
from cases.process.deploy import current_version
from cases.process.locking import engine_errors
from cases.process.models import ProcessInstance
from cases.process.runs import start_run
from cases.sla import clock as sla
from engine.errors import EngineError
from engine.serialization import SERIALIZER_VERSION

CASE_PROCESS = "support_case"
#: the process each kind of case runs
PROCESSES = {CaseKind.SUPPORT.value: CASE_PROCESS, CaseKind.COMPLAINT.value: "complaint_handling",
             CaseKind.FOLLOW_UP.value: "customer_follow_up", CaseKind.RISK_REVIEW.value: "risk_review",
             CaseKind.TRAINING.value: "training_session",
             CaseKind.MAJOR_INCIDENT.value: "major_incident",
             CaseKind.VISIT.value: "service_visit", CaseKind.MAINTENANCE.value: "maintenance_schedule"}
INTAKE_FIELDS = ("channel", "title", "description", "environment", "steps_to_reproduce",
                 "category_hint", "priority_hint", "contact_name", "contact_phone", "contact_email")


def _customer_for(actor: User, customer_id: int | None) -> Customer:
    if actor.is_customer:
        if customer_id is not None and customer_id != actor.customer_id:
            raise Forbidden("customers open cases for their own organisation only")
        return actor.customer
    if not actor.has_role(*FRONT_LINE_ROLES):
        raise Forbidden(f"opening a case needs one of the roles: {', '.join(FRONT_LINE_ROLES)}")
    if customer_id is None:
        raise ValidationFailed("customer_id is required", [{"field": "customer_id", "message": "required"}])
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.internal:  # the service's own organisation is no customer
        raise ValidationFailed("unknown customer",
                               [{"field": "customer_id", "message": f"no customer {customer_id}"}])
    return customer


@use_case
def open_case(actor: User, fields: dict[str, Any]) -> Case:
    return start_case(_customer_for(actor, fields.get("customer_id")), actor, fields)


def start_case(customer: Customer, actor: User | None, fields: dict[str, Any],
               kind: str = CaseKind.SUPPORT.value, parent: Case | None = None,
               data: dict[str, Any] | None = None) -> Case:
    """Open a case for ``customer`` in the caller's unit of work. ``actor`` None: the case came in
    through a channel integration (chat, e-mail), which vouched for the customer itself, or the
    application opened it (a complaint after a low score, a follow-up programme). ``kind`` picks the
    process (``PROCESSES``); ``parent`` is the case it is about; ``data`` more process variables."""
    process_id = PROCESSES[kind]
    customer_records.sync_tier(customer)  # a contract begun or ended since: the case gets today's tier
    version = current_version(process_id)
    if version is None:
        raise Conflict(f"no version of the process {process_id} is deployed", code="no_deployed_process")
    case = Case(customer=customer, customer_id=customer.id, created_by_id=actor.id if actor else None,
                reporter_id=actor.id if actor is not None and actor.is_customer else None, kind=kind,
                parent_case_id=parent.id if parent is not None else None, tier_at_open=customer.tier,
                **{k: fields.get(k) for k in INTAKE_FIELDS})
    if kind == CaseKind.COMPLAINT.value:
        case.category = "complaint"
    db.session.add(case)
    db.session.flush()
    case.number = f"CF-{case.created_at:%Y}-{case.id:06d}"
    linked = {} if parent is None else {"case_kind": kind, "parent": parent.number}
    events.record(case, "case_opened", actor, public=True, number=case.number, channel=case.channel,
                  title=case.title, **linked)
    variables = {k: fields.get(k) for k in INTAKE_FIELDS}
    variables.update(data or {}, case_id=case.id, case_number=case.number, customer_id=customer.id,
                     customer_tier=customer.tier)
    try:
        run = start_run(version, process_id, variables, case, actor)
    except EngineError as exc:
        raise engine_errors(exc) from exc
    instance = ProcessInstance(case_id=case.id, version_id=version.id, version=version,
                               process_id=process_id, state="", serializer_version=SERIALIZER_VERSION)
    db.session.add(instance)
    # the clock starts now, with the priority the intake proposes (the classifier may change it);
    # a follow-up programme promises nothing by itself (its surveys and calls have their own dates)
    with db.session.no_autoflush:
        case.priority = fields.get("priority_hint") or run.data.get("proposed_priority")
        if not case.is_follow_up and not case.is_internal:
            sla.start(case, utcnow())
    db.session.flush()  # the instance's id for its rows, with the case's number and priority and its targets
    synchronise(case, instance, run, actor)
    return case
