"""Satisfaction surveys: sent by a process step, answered through a link that needs no log-in or
by the customer's users through the API.

A survey belongs to a case (``kind``: ``callback`` after a closed case, ``complaint`` for a
complaint's outcome, ``follow_up`` for a follow-up ``milestone`` after a deployment). The link's
token is 32 random bytes (URL-safe base64); only its SHA-256 is stored, so the table alone cannot
answer a survey. A token answers once and only until ``expires_at`` (``SURVEY_VALID_DAYS``); a
used one is a 409, an expired one a 410, an unknown one a 404. Unknown tokens count against the
caller's address: past ``MAX_UNKNOWN_PER_ADDRESS`` within ``FAILURE_WINDOW`` every survey request
from it is a 429 (tokens are unguessable anyway; this keeps the public pages from being a free
oracle).

An answer is the event ``survey_answered`` on the case (the KPIs count it: docs/kpis.md). If the
case's process waits for it (the complaint process waits for ``survey_answered``) the answer is
delivered as that message; otherwise a score of 2 or less opens a linked complaint
(cases/casework/complaints.py), whose own SLA gives the answer 2 working days.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from cases.casework import complaints
from cases.casework.models import Survey, SurveyFailure
from cases.casework.tasks import deliver_message
from cases.core import events
from cases.core.access import restrict_cases
from cases.core.db import db, unit_of_work, use_case
from cases.core.errors import Conflict, Forbidden, Gone, NotFound, TooManyAttempts, ValidationFailed
from cases.core.models import Case, Role, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.outbox import mail_templates, notifications

KINDS = ("callback", "complaint", "follow_up")
ANSWER_MESSAGE = "survey_answered"
DEFAULT_VALID_DAYS = 14
FAILURE_WINDOW = timedelta(minutes=15)
MAX_UNKNOWN_PER_ADDRESS = 20
MAX_COMMENT = 5000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _valid_days() -> int:
    return int(current_app.config.get("SURVEY_VALID_DAYS", DEFAULT_VALID_DAYS))


def survey_link(token: str) -> str:
    return f"{notifications.app_settings().base_url.rstrip('/')}/survey/{token}"


def _recipient(case: Case) -> str | None:
    """Where the link goes: the case's contact address, else its reporter's, else the first customer
    user of the organisation with an address."""
    if case.contact_email:
        return case.contact_email
    if case.reporter_id is not None:
        reporter = db.session.get(User, case.reporter_id)
        if reporter is not None and reporter.active and reporter.email:
            return reporter.email
    return db.session.scalar(
        select(User.email).join(UserRole, UserRole.user_id == User.id)
        .where(User.customer_id == case.customer_id, UserRole.role == Role.CUSTOMER.value,
               User.active.is_(True), User.email.is_not(None)).order_by(User.id).limit(1))


# -- sending -------------------------------------------------------------------------------------
def send(case: Case, actor: User | None, kind: str, milestone: int | None = None) -> dict[str, Any]:
    """Create a survey for ``case`` and mail its link (bilingual) in the caller's unit of work."""
    if kind not in KINDS:
        raise ValueError(f"unknown survey kind {kind!r}")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    recipient = _recipient(case)
    survey = Survey(case_id=case.id, case=case, kind=kind, milestone=milestone, token_hash=_digest(token),
                    recipient=recipient, created_at=now, expires_at=now + timedelta(days=_valid_days()))
    db.session.add(survey)
    db.session.flush()
    mailed = False
    if recipient is not None:
        subject, body = mail_templates.render_survey_invitation(
            kind, milestone, case_number=case.number, title=case.title, link=survey_link(token),
            expires=f"{survey.expires_at:%Y-%m-%d %H:%M} UTC")
        mailed = bool(notifications.enqueue("survey_invitation", [recipient], subject, body, case=case))
    events.record(case, "survey_sent", actor, public=True, survey_id=survey.id, survey_kind=kind,
                  milestone=milestone, mailed=mailed, expires_at=survey.expires_at.isoformat())
    return {"survey_id": survey.id, "mailed": mailed}


# -- answering -----------------------------------------------------------------------------------
def _check_answer(score: Any, comment: Any) -> None:
    problems = []
    if type(score) is not int or not 1 <= score <= 5:
        problems.append({"field": "score", "message": "a whole number from 1 to 5"})
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        problems.append({"field": "comment", "message": f"text of at most {MAX_COMMENT} characters"})
    if problems:
        raise ValidationFailed("the answer is not valid", problems)


def _check_open(survey: Survey, now: datetime) -> None:
    if survey.is_answered:
        raise Conflict("this survey has been answered already; thank you", code="survey_answered")
    if survey.expires_at <= now:
        raise Gone("this survey link has expired", code="survey_expired",
                   expired_at=survey.expires_at.isoformat())


def _record(survey: Survey, score: int, comment: str | None, via: str, user: User | None) -> Survey:
    now = utcnow()
    _check_open(survey, now)
    survey.score, survey.comment = score, (comment or None)
    survey.answered_at, survey.answered_via = now, via
    survey.answered_by_id = user.id if user is not None else None
    case = survey.case
    events.record(case, ANSWER_MESSAGE, user, public=True, survey_id=survey.id, survey_kind=survey.kind,
                  milestone=survey.milestone, score=score, comment=survey.comment, via=via)
    if survey.kind in ("callback", "complaint"):
        case.satisfaction = score  # a projection for display; the KPIs read the events
    if case.is_open and case.stage == f"waiting:{ANSWER_MESSAGE}":
        deliver_message(case, user, ANSWER_MESSAGE, {"score": score, "comment": survey.comment,
                                                     "survey_id": survey.id})
    elif score <= complaints.LOW_SCORE and survey.kind != "complaint":
        complaint = complaints.open_linked(case, user, "low_score", _low_score_reason(survey))
        survey.complaint_case_id = complaint.id
    return survey


def _low_score_reason(survey: Survey) -> str:
    which = f"{survey.kind} survey" + (f" ({survey.milestone} months)" if survey.milestone else "")
    text = f"Score {survey.score} of 5 in the {which}."
    return f"{text}\n{survey.comment}" if survey.comment else text


def check_rate(remote_addr: str | None) -> None:
    if remote_addr is None:
        return
    since = utcnow() - FAILURE_WINDOW
    count, oldest = db.session.execute(select(func.count(), func.min(SurveyFailure.at)).where(
        SurveyFailure.remote_addr == remote_addr, SurveyFailure.at > since)).one()
    if count >= MAX_UNKNOWN_PER_ADDRESS:
        retry_after = max(1, int((oldest + FAILURE_WINDOW - utcnow()).total_seconds()) + 1)
        raise TooManyAttempts("too many unknown survey links from your address; try again later", retry_after)


def _record_failure(remote_addr: str | None) -> None:
    with unit_of_work():
        db.session.execute(delete(SurveyFailure).where(SurveyFailure.at < utcnow() - FAILURE_WINDOW))
        db.session.add(SurveyFailure(remote_addr=(remote_addr or "")[:64] or None, at=utcnow()))


def _by_token(token: str, remote_addr: str | None, lock: bool = False) -> Survey:
    check_rate(remote_addr)
    query = select(Survey).where(Survey.token_hash == _digest(token))
    survey = db.session.scalar(query.with_for_update(of=Survey) if lock else query) if 16 <= len(token) <= 100 else None
    if survey is None:
        raise NotFound("no survey has this link; check that the whole link was copied", resource="survey")
    return survey


def _not_found_counts(fn):
    def wrapper(token: str, *args: Any, remote_addr: str | None = None, **kwargs: Any) -> Any:
        try:
            return fn(token, *args, remote_addr=remote_addr, **kwargs)
        except NotFound:
            _record_failure(remote_addr)
            raise
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@_not_found_counts
@use_case
def read_by_token(token: str, remote_addr: str | None = None) -> Survey:
    """The survey a link stands for, if it can still be answered (else 404, 409 or 410)."""
    survey = _by_token(token, remote_addr)
    _check_open(survey, utcnow())
    return survey


@_not_found_counts
@use_case
def answer_by_token(token: str, score: Any, comment: Any, remote_addr: str | None = None) -> Survey:
    """Answer through the link: no log-in; the token is the credential, good for one answer."""
    survey = _by_token(token, remote_addr, lock=True)
    _check_open(survey, utcnow())
    _check_answer(score, comment)
    return _record(survey, score, comment, "link", None)


def _visible(user: User, survey_id: int, lock: bool = False) -> Survey:
    query = restrict_cases(user, select(Survey).join(Case, Case.id == Survey.case_id)).where(Survey.id == survey_id)
    survey = db.session.scalar(query.with_for_update(of=Survey) if lock else query)
    if survey is None:
        raise NotFound(f"survey {survey_id} not found", resource="survey", id=survey_id)
    return survey


@use_case
def answer_as_customer(user: User, survey_id: int, score: Any, comment: Any) -> Survey:
    """A customer user answers a survey of their organisation's case through the API."""
    if not user.is_customer:
        raise Forbidden("only the customer answers a satisfaction survey (staff record a callback's score "
                        "in the callback task)")
    survey = _visible(user, survey_id, lock=True)
    _check_answer(score, comment)
    return _record(survey, score, comment, "api", user)


def list_surveys(user: User, case_id: int | None, open_only: bool) -> list[Survey]:
    """Surveys of the cases ``user`` may see (customers: their organisation's), newest first."""
    query = restrict_cases(user, select(Survey).join(Case, Case.id == Survey.case_id))
    if case_id is not None:
        query = query.where(Survey.case_id == case_id)
    if open_only:
        query = query.where(Survey.answered_at.is_(None), Survey.expires_at > utcnow())
    return list(db.session.scalars(query.order_by(Survey.id.desc()).limit(200)))


@operation("send_survey")
def _send_operation(ctx: ServiceContext, kind: str, milestone: int | None) -> dict[str, Any]:
    return send(ctx.case, ctx.actor, kind, milestone)
