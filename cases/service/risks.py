"""The risk register (seed 004 6.1-6.3): risks by kind and level, each with an owner, a contingency
plan and a review date, linked to the cases (and escalations) that are evidence of it.

A risk is raised from the register or from a case (then that case is its first evidence and its
timeline says so). Its reviews are a process the process owners can change: each risk gets a case of
kind ``risk_review`` of the service's own organisation (``records.own_organisation``: risks belong to
no customer) running ``processes/risk_review.bpmn``: a date timer at 09:00 on the review date → the
step ``risk_review_due`` (the owner is mailed, the review is due in the register) → the task "Review
the risk" (form ``review_risk``: keep, change the level or close; a note; the next review date),
assigned to the risk's owner → the step ``apply_risk_review`` records it here with the rules of the
API → closed: the process ends; otherwise back to the timer at the next date. A changed review date
or owner re-times or re-assigns the waiting process; a review entered through the register while the
task is open completes that task, and one entered before the date re-times (or, closing, ends) the
process. The quarterly review lists the open high risks.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, NoReturn

from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from cases.casework import intake, tasks
from cases.core import audit, events
from cases.core.access import require_role, restrict_cases, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import STAFF_ROLES, Case, CaseKind, Customer, Role, Task, User, utcnow
from cases.core.services import ServiceContext, operation
from cases.core.texts import N_
from cases.customers import records
from cases.kpis.figures import Period
from cases.outbox import notifications
from cases.process import forms
from cases.process.after_step import synchronise
from cases.process.deploy import current_version
from cases.process.locking import lock_instance
from cases.process.models import CaseCollaborator
from cases.process.runs import load_run
from cases.service import review, service_process
from cases.service.oversight_models import Risk, RiskLink, RiskReview
from cases.sla import calendars
from cases.sla.models import Escalation
from engine.errors import HandlerError

KINDS = {"technical": N_("Technical"), "operational": N_("Operational"), "security": N_("Security"),
         "market": N_("Market")}
LEVELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
OPEN, CLOSED = "open", "closed"
#: anyone on the staff may raise a risk or link evidence; these also review, re-own and close any risk
MANAGERS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.TECHNICAL_LEAD.value, Role.ADMIN.value)
STAFF = tuple(sorted(STAFF_ROLES))
FIELDS = ("title", "description", "kind", "level", "contingency_plan", "review_on")
#: the review process: its id, the variable its date timer waits for, the review task's element
PROCESS = "risk_review"
DATE_VARIABLE = "review_due"
REVIEW_TASK = "review_risk"
#: why the risk's owner collaborates on its review case (case_collaborators.source)
OWNER_SOURCE = "risk_owner"


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationFailed(message, [{"field": field, "message": message}])


def _risk(risk_id: int, lock: bool = False) -> Risk:
    query = select(Risk).where(Risk.id == risk_id)
    if lock:
        query = query.with_for_update(of=Risk)
    row: Risk | None = db.session.scalar(query)
    if row is None:
        raise NotFound(f"risk {risk_id} not found", resource="risk", id=risk_id)
    return row


def _check_seen(row: Risk, seen: int | None) -> None:
    if seen is None:
        raise PreconditionRequired("send the risk version you saw (If-Match header)")
    if seen != row.version:
        raise Conflict(f"the risk changed since version {seen}; it is now at {row.version}",
                       code="stale_version", current_version=row.version)


def _owner(username: str) -> User:
    user: User | None = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.is_staff:
        _refuse("owner", f"no active member of staff {username!r}")
    return user


def _check(fields: dict[str, Any], today: date) -> None:
    if "kind" in fields and fields["kind"] not in KINDS:
        _refuse("kind", f"one of {', '.join(KINDS)}")
    if "level" in fields and fields["level"] not in LEVELS:
        _refuse("level", f"one of {', '.join(LEVELS)}")
    if "review_on" in fields and not today <= fields["review_on"] <= date(today.year + 5, 12, 31):
        _refuse("review_on", "a date from today to five years ahead")


def today(now: datetime) -> date:
    """The service's date at ``now`` (the default calendar's zone)."""
    return now.astimezone(calendars.get(calendars.DEFAULT).tz).date()


# -- reading -------------------------------------------------------------------------------------
def register(actor: User, filters: dict[str, Any] | None = None) -> list[Risk]:
    """The register: open risks first, the highest level first, then the nearest review."""
    require_role(actor, *STAFF)
    filters = filters or {}
    order = sql_case({"high": 0, "medium": 1, "low": 2}, value=Risk.level)
    query = select(Risk).order_by(Risk.status.desc(), order, Risk.review_on, Risk.id)
    for name in ("kind", "level", "status"):
        if filters.get(name):
            query = query.where(getattr(Risk, name) == filters[name])
    if filters.get("case_id"):
        query = query.where(Risk.links.any(RiskLink.case_id == filters["case_id"]))
    if filters.get("review_due"):
        query = query.where(Risk.review_due_since.is_not(None), Risk.status == OPEN)
    return list(db.session.scalars(query))


def risk(actor: User, risk_id: int) -> Risk:
    require_role(actor, *STAFF)
    return _risk(risk_id)


def case_numbered(actor: User, number: str) -> Case | None:
    """The case with this number that ``actor`` may see (None: none)."""
    found: Case | None = db.session.scalar(restrict_cases(actor, select(Case).where(Case.number == number.strip())))
    return found


def of_case(case_id: int) -> list[Risk]:
    """The risks a case is evidence of (the case page lists them)."""
    return list(db.session.scalars(select(Risk).join(RiskLink, RiskLink.risk_id == Risk.id)
                                   .where(RiskLink.case_id == case_id).order_by(Risk.id)))


# -- writing -------------------------------------------------------------------------------------
def _link(actor: User, row: Risk, case_id: int, escalation_id: int | None, note: str | None) -> RiskLink:
    try:
        case = visible_case(actor, case_id)
    except NotFound:
        _refuse("case_id", f"no case {case_id}")
    if escalation_id is not None:
        escalation = db.session.get(Escalation, escalation_id)
        if escalation is None or escalation.case_id != case.id:
            _refuse("escalation_id", "not an escalation of that case")
    if any(link.case_id == case.id for link in row.links):
        _refuse("case_id", f"{case.number} is already evidence of this risk")
    link = RiskLink(risk=row, case_id=case.id, escalation_id=escalation_id, note=note, linked_by_id=actor.id,
                    linked_at=utcnow())
    db.session.add(link)
    db.session.flush()
    events.record(case, "risk_linked", actor, risk_id=row.id, title=row.title, risk_kind=row.kind, level=row.level,
                  escalation_id=escalation_id)
    return link


@use_case
def raise_risk(actor: User, fields: dict[str, Any], now: datetime | None = None) -> Risk:
    """Enter a risk; ``case_id`` (with ``escalation_id``): raised from that case, its first evidence."""
    require_role(actor, *STAFF)
    now = now or utcnow()
    for name in ("title", "kind", "level", "contingency_plan", "review_on"):
        if not fields.get(name):
            _refuse(name, "required")
    _check(fields, today(now))
    owner = _owner(fields["owner"]) if fields.get("owner") else actor
    customer = None
    if fields.get("customer_id") is not None:
        customer = db.session.get(Customer, fields["customer_id"])
        if customer is None:
            _refuse("customer_id", f"no customer {fields['customer_id']}")
    row = Risk(**{k: fields.get(k) for k in FIELDS}, owner=owner, owner_id=owner.id, status=OPEN,
               customer_id=customer.id if customer else None, created_by_id=actor.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    if fields.get("case_id") is not None:
        link = _link(actor, row, fields["case_id"], fields.get("escalation_id"), fields.get("note"))
        if row.customer_id is None:
            row.customer_id = link.case.customer_id
    elif fields.get("escalation_id") is not None:
        _refuse("escalation_id", "an escalation is linked with its case (case_id)")
    _start_review(actor, row)
    audit.record(actor, "risk_raised", row.id, kind=row.kind, level=row.level,
                 review_case=row.review_case.number if row.review_case else None)
    return row


@use_case
def update(actor: User, risk_id: int, fields: dict[str, Any], seen: int | None,
           now: datetime | None = None) -> Risk:
    """Change what is known of a risk: its texts, kind, level, owner, review date (a new date
    answers a review that was due)."""
    row = _risk(risk_id, lock=True)
    if not (actor.has_role(*MANAGERS) or actor.id == row.owner_id):
        require_role(actor, *MANAGERS)
    _check_seen(row, seen)
    if not row.is_open:
        raise Conflict("the risk is closed", code="risk_closed")
    now = now or utcnow()
    _check(fields, today(now))
    for name in FIELDS:
        if name in fields:
            if fields[name] in (None, "") and name != "description":
                _refuse(name, "required")
            setattr(row, name, fields[name])
    if fields.get("owner"):
        row.owner = _owner(fields["owner"])
        _give_to_owner(row)
    if "review_on" in fields and _retime(actor, row, review_moment(row.review_on)):
        row.review_due_since = None
    db.session.flush()
    audit.record(actor, "risk_updated", row.id, fields=sorted(fields))
    return row


@use_case
def link_case(actor: User, risk_id: int, fields: dict[str, Any]) -> RiskLink:
    require_role(actor, *STAFF)
    row = _risk(risk_id, lock=True)
    if fields.get("case_id") is None:
        _refuse("case_id", "required")
    return _link(actor, row, fields["case_id"], fields.get("escalation_id"), fields.get("note"))


@use_case
def review_risk(actor: User, risk_id: int, fields: dict[str, Any], seen: int | None,
                now: datetime | None = None) -> RiskReview:
    """The owner's review: the level now, notes, and either the next review date or ``close``."""
    row = _risk(risk_id, lock=True)
    if not (actor.has_role(*MANAGERS) or actor.id == row.owner_id):
        require_role(actor, *MANAGERS)
    _check_seen(row, seen)
    if not row.is_open:
        raise Conflict("the risk is closed", code="risk_closed")
    now = now or utcnow()
    if not fields.get("notes"):
        _refuse("notes", "required")
    level = fields.get("level") or row.level
    _check({"level": level}, today(now))
    close = bool(fields.get("close"))
    next_on: date | None = fields.get("next_review_on")
    if close and next_on is not None:
        _refuse("next_review_on", "a closed risk is not reviewed again")
    if not close:
        if next_on is None:
            _refuse("next_review_on", "required unless the risk is closed")
        _check({"review_on": next_on}, today(now))
        if next_on <= today(now):
            _refuse("next_review_on", "a date after today")
    task = _open_review_task(row)
    if task is not None:  # the review is due: this review is its task's completion (one way to review)
        outcome = "close" if close else "change_level" if level != row.level else "keep"
        data: dict[str, Any] = {"outcome": outcome, "note": fields["notes"]}
        if outcome == "change_level":
            data["level"] = level
        if next_on is not None and not close:
            data["next_review_on"] = next_on.isoformat()
        tasks.complete_in_unit(actor, task.id, data)
        return row.reviews[-1]
    entry = _record(actor, row, level, fields["notes"], close, next_on, now)
    if close:
        _end_early(actor, row, now)
    elif next_on is not None:
        _retime(actor, row, review_moment(next_on))
    return entry


def _record(actor: User | None, row: Risk, level: str, notes: str, close: bool, next_on: date | None,
            now: datetime) -> RiskReview:
    """Write a review into the register (the API's review and the process's ``apply_risk_review``)."""
    entry = RiskReview(risk=row, reviewed_by_id=actor.id if actor else None, reviewed_at=now, level=level,
                       notes=notes, next_review_on=next_on, closed=close)
    db.session.add(entry)
    row.level, row.review_due_since = level, None
    if close:
        row.status, row.closed_at = CLOSED, now
    elif next_on is not None:
        row.review_on = next_on
    db.session.flush()
    for link in row.links:
        events.record(link.case, "risk_reviewed", actor, risk_id=row.id, title=row.title, level=level, closed=close)
    audit.record(actor, "risk_reviewed", row.id, level=level, closed=close)
    return entry


# -- the review process (processes/risk_review.bpmn) ----------------------------------------------
def review_moment(day: date) -> datetime:
    """A review date comes at 09:00 on that day in the default calendar's zone."""
    return datetime.combine(day, time(9), tzinfo=calendars.get(calendars.DEFAULT).tz)


def _review_variables(row: Risk) -> dict[str, Any]:
    # the form's fields start empty (the service step reads them whatever the form sent); the level
    # is the form's starting value
    return {"risk_id": row.id, DATE_VARIABLE: review_moment(row.review_on).isoformat(), "level": row.level,
            "outcome": None, "note": None, "next_review_on": None}


def _start_review(actor: User | None, row: Risk) -> Case | None:
    """Start the risk's review process as a case of the own organisation, owned by the risk's owner.
    None when no deployed version has the process yet (an installation whose active files predate
    it): the service job starts it once one has (:func:`start_missing_reviews`)."""
    if current_version(PROCESS) is None:
        return None
    fields = {"channel": "internal", "title": row.title[:200],
              "description": f"Reviews of risk {row.id} ({row.kind}, {row.level}) from {row.review_on.isoformat()}."}
    case = intake.start_case(records.own_organisation(), actor, fields, kind=CaseKind.RISK_REVIEW.value,
                             data=_review_variables(row))
    row.review_case, row.review_case_id = case, case.id
    _give_to_owner(row)
    return case


def start_missing_reviews() -> list[int]:
    """Open risks without a review process get one (risks raised before the process was deployed);
    the risks started. Run by the scheduler's service job (cases/service/due.py); a date already past
    comes due on the scheduler's next timer run."""
    if current_version(PROCESS) is None:
        return []

    def start_one(row: Risk) -> bool:
        if not row.is_open or row.review_case_id is not None:
            return False
        _start_review(None, row)
        return True

    return service_process.start_missing(
        Risk, select(Risk.id).where(Risk.status == OPEN, Risk.review_case_id.is_(None)).order_by(Risk.id), start_one)


def _running_case(row: Risk) -> Case | None:
    case = row.review_case
    return case if case is not None and case.is_open else None


def _open_review_task(row: Risk) -> Task | None:
    return service_process.open_task(row.review_case_id, REVIEW_TASK)


def review_task(row: Risk) -> Task | None:
    """The open "Review the risk" task of a risk, if its review is due (the risk page links it)."""
    return _open_review_task(row)


def _give_to_owner(row: Risk) -> None:
    """The review case is the risk owner's: its owner, a collaborator (who may work its task whatever
    their role), and the open review task's assignee. A former owner stops collaborating."""
    case = _running_case(row)
    if case is None:
        return
    case.owner, case.owner_id = row.owner, row.owner.id
    db.session.execute(CaseCollaborator.__table__.delete().where(
        CaseCollaborator.case_id == case.id, CaseCollaborator.source == OWNER_SOURCE,
        CaseCollaborator.user_id != row.owner.id))
    if db.session.get(CaseCollaborator, (case.id, row.owner.id, OWNER_SOURCE)) is None:
        db.session.add(CaseCollaborator(case_id=case.id, user_id=row.owner.id, source=OWNER_SOURCE, added_at=utcnow()))
    task = _open_review_task(row)
    if task is not None and task.assignee_id != row.owner.id:
        task.assignee, task.assignee_id = row.owner, row.owner.id
    db.session.flush()


def _retime(actor: User | None, row: Risk, due: datetime) -> bool:
    """Move the waiting review timer to ``due``; False when the process does not wait for it (the
    review task is open, or there is no process)."""
    case = _running_case(row)
    if case is None:
        return row.review_case_id is None
    instance = lock_instance(case_id=case.id)
    run = load_run(instance, case, actor)
    if not run.move_date_timers(DATE_VARIABLE, due):
        return False
    events.record(case, "risk_review_moved", actor, risk_id=row.id, review_due=due.isoformat())
    synchronise(case, instance, run, actor)
    return True


def _end_early(actor: User | None, row: Risk, now: datetime) -> None:
    """A risk closed before its review date: its review timer fires now and the process, finding the
    risk closed, ends (in this transaction)."""
    case = _running_case(row)
    if case is None:
        return
    instance = lock_instance(case_id=case.id)
    run = load_run(instance, case, actor)
    if run.move_date_timers(DATE_VARIABLE, now - timedelta(seconds=1)):
        run.fire_due_timers()
        events.record(case, "risk_closed", actor, risk_id=row.id)
        synchronise(case, instance, run, actor)


def _risk_of(ctx: ServiceContext, risk_id: int) -> Risk:
    row: Risk | None = db.session.scalar(select(Risk).where(Risk.id == risk_id).with_for_update(of=Risk))
    # (None: its process is starting, and the date has already come: the step runs in its first run)
    if row is None or row.review_case_id not in (None, ctx.case_id):
        raise HandlerError("bad_parameter", f"risk {risk_id} is not reviewed by this case")
    return row


@operation("risk_review_due")
def review_due_step(ctx: ServiceContext, risk_id: int) -> dict[str, Any]:
    """The process's step on the review date: the review is due (the register's "reviews due"), its
    owner gets the task and a mail, once. A risk closed meanwhile: ``open`` false, the process ends."""
    row = _risk_of(ctx, risk_id)
    if not row.is_open:
        return {"open": False}
    row.review_due_since = utcnow()
    _give_to_owner(row)
    notifications.enqueue(
        "risk_review_due", [row.owner], f"风险复核到期 / Risk review due: {row.title}",
        f"风险“{row.title}”今天需要复核。\nThe risk \"{row.title}\" is due for review today.\n\n"
        f"{row.kind} · {row.level}\n{row.contingency_plan}\n")
    return {"open": True, "level": row.level}


@operation("apply_risk_review")
def apply_review_step(ctx: ServiceContext, risk_id: int, outcome: str, level: Any, note: Any,
                      next_review_on: Any) -> dict[str, Any]:
    """The process's step after "Review the risk": the form's outcome, recorded with the rules of the
    register's API (owner or manager; the level, a note, a next date after today unless closed)."""
    row, actor, now = _risk_of(ctx, risk_id), ctx.actor, utcnow()
    if not row.is_open:
        return {"closed": True, "level": row.level}
    if actor is None or not (actor.has_role(*MANAGERS) or actor.id == row.owner_id):
        raise HandlerError("not_allowed", "only the risk's owner or a manager reviews it")
    new_level = level if outcome == "change_level" else row.level
    if new_level not in LEVELS:
        raise HandlerError("bad_parameter", f"apply_risk_review: 'level' must be one of {', '.join(LEVELS)}")
    if not isinstance(note, str) or not note.strip():
        raise HandlerError("bad_parameter", "apply_risk_review: 'note' is required")
    close = outcome == "close"
    next_on = None
    if not close:
        problem = next_review_problem(next_review_on)
        if problem:
            raise HandlerError("bad_parameter", f"apply_risk_review: 'next_review_on': {problem}")
        next_on = date.fromisoformat(next_review_on)
    _record(actor, row, new_level, note, close, next_on, now)
    if close:
        return {"closed": True, "level": new_level}
    assert next_on is not None
    return {"closed": False, "level": new_level, "review_due": review_moment(next_on).isoformat()}


def next_review_problem(value: Any) -> str | None:
    """What is wrong with a next review date (None: fine): a date after today, at most five years on."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        return "a date (YYYY-MM-DD)"
    now = today(utcnow())
    if not now < day <= date(now.year + 5, 12, 31):
        return "a date after today, at most five years ahead"
    return None


#: the review form's next date is checked when the form is sent (422 naming the field, nothing run)
forms.reference("risk_review_date", next_review_problem, list)


# -- the quarterly review ------------------------------------------------------------------------
@review.section("risks", 40)
def review_section(period: Period, customer_id: int | None) -> review.Section:
    """The open high risks now (a register has no history by period), and the risks raised in the period."""
    scope = select(Risk)
    if customer_id is not None:
        scope = scope.where(Risk.customer_id == customer_id)
    open_high = list(db.session.scalars(scope.where(Risk.status == OPEN, Risk.level == "high")
                                        .order_by(Risk.review_on, Risk.id)))
    counts = dict(db.session.execute(select(Risk.level, func.count()).where(
        Risk.status == OPEN, *([Risk.customer_id == customer_id] if customer_id is not None else []))
        .group_by(Risk.level)).all())
    raised = db.session.scalar(select(func.count()).select_from(scope.where(
        Risk.created_at >= period.start, Risk.created_at < period.end).subquery())) or 0
    table = review.Table(
        (("title", N_("Risk")), ("kind", N_("Kind")), ("owner", N_("Owner")),
         ("contingency_plan", N_("Contingency plan")), ("review_on", N_("Review date")), ("cases", N_("Cases"))),
        tuple({"title": r.title, "kind": KINDS[r.kind], "owner": r.owner.display_name,
               "contingency_plan": r.contingency_plan, "review_on": r.review_on.isoformat(),
               "cases": ", ".join(link.case.number or "" for link in r.links)} for r in open_high))
    return review.Section("risks", N_("Risks"), (
        review.Figure("open_high", N_("Open high risks"), counts.get("high", 0), target=0, higher_is_better=False),
        review.Figure("open_medium", N_("Open medium risks"), counts.get("medium", 0)),
        review.Figure("open_low", N_("Open low risks"), counts.get("low", 0)),
        review.Figure("raised", N_("Risks raised in the period"), raised),
    ), (table,))
