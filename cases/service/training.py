"""Training (seeds 000, 001, 004): sessions planned, invitations, reminders, attendance, assessments,
follow-up for those who missed, and the KPIs the plans set.

Three kinds of session: customer user training (at a deployment, or when a case shows an operation
problem: the case's re-training step can enrol its user), new-staff induction (a week, seed 004 2.3)
and the quarterly staff technical training (seed 000: "每季度进行一次技术培训 ... 覆盖率达到90%以上").

- Planning a session invites its participants by mail (the outbox, ``cases/outbox/notifications.py``).
- Its reminder is due ``reminder_hours`` before it starts; the scheduler's service job
  (``cases/service/due.py``) sends it once to everyone invited.
- After the session the trainer records who attended and each one's assessment score (0-100); those
  who missed it get a follow-up mail, and may be moved to a later session.

KPIs for a period (the sessions held in it): participation = attended / (attended + missed), target
80 % (DOMAIN.md); staff knowledge coverage = the active support staff (agents, service consultants)
who passed a staff training's assessment (score >= 60) / all of them, target 90 % (seed 000); the
number of assessments (seed 004: 每季度进行一次在职员工的综合考核).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cases.core import audit, events
from cases.core.access import require_role, visible_case
from cases.core.db import db, unit_of_work, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import STAFF_ROLES, Customer, Role, User, UserRole, utcnow
from cases.core.services import ServiceContext, operation
from cases.core.texts import N_
from cases.kpis.figures import Period
from cases.outbox import notifications
from cases.service import review
from cases.service.oversight_models import TrainingParticipant, TrainingSession

CUSTOMER_USER, INDUCTION, STAFF_TECHNICAL = "customer_user", "induction", "staff_technical"
KINDS = {CUSTOMER_USER: N_("Customer user training"), INDUCTION: N_("New-staff induction"),
         STAFF_TECHNICAL: N_("Staff technical training")}
STAFF_KINDS = (INDUCTION, STAFF_TECHNICAL)
MODES = ("on_site", "remote", "online")
PLANNED, HELD, CANCELLED = "planned", "held", "cancelled"
STATUSES = (PLANNED, HELD, CANCELLED)
ATTENDED, MISSED = "attended", "missed"

#: an induction lasts a week (seed 004 2.3: 为期一周的全方位培训); other sessions two hours unless said
INDUCTION_LENGTH = timedelta(days=7)
DEFAULT_LENGTH = timedelta(hours=2)
DEFAULT_REMINDER_HOURS = 24
MAX_AHEAD = timedelta(days=2 * 366)
MAX_LENGTH = timedelta(days=30)
MAX_REMINDER_HOURS = 24 * 30
PASS_SCORE = 60
PARTICIPATION_TARGET = 0.8  # DOMAIN.md: training participation >= 80 % quarterly
COVERAGE_TARGET = 0.9  # seed 000: 专业知识覆盖率达到90%以上
#: the support staff whose knowledge the coverage counts (seed 000: 所有支持人员参与培训)
SUPPORT_STAFF = (Role.AGENT.value, Role.SERVICE_CONSULTANT.value)

PLANNERS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.TECHNICAL_LEAD.value, Role.ADMIN.value)
#: who may enrol someone: the planners, and the front line whose re-training step finds the need
ENROLLERS = (*PLANNERS, Role.AGENT.value, Role.SERVICE_CONSULTANT.value)
READERS = tuple(sorted(STAFF_ROLES))
MAIL_ZONE = ZoneInfo("Asia/Shanghai")


def _refuse(field: str, message: str) -> NoReturn:
    raise ValidationFailed(message, [{"field": field, "message": message}])


def _session(session_id: int, lock: bool = False) -> TrainingSession:
    query = select(TrainingSession).where(TrainingSession.id == session_id)
    if lock:
        query = query.with_for_update(of=TrainingSession)
    row: TrainingSession | None = db.session.scalar(query)
    if row is None:
        raise NotFound(f"training session {session_id} not found", resource="training_session", id=session_id)
    return row


def _user(username: str, field: str) -> User:
    user: User | None = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _refuse(field, f"no active user {username!r}")
    return user


# -- reading -------------------------------------------------------------------------------------
def sessions(actor: User, kind: str | None = None, status: str | None = None) -> list[TrainingSession]:
    require_role(actor, *READERS)
    query = select(TrainingSession).order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())
    if kind:
        query = query.where(TrainingSession.kind == kind)
    if status:
        query = query.where(TrainingSession.status == status)
    return list(db.session.scalars(query))


def session_reader(actor: User) -> None:
    require_role(actor, *READERS)


def session(actor: User, session_id: int) -> TrainingSession:
    require_role(actor, *READERS)
    return _session(session_id)


def later_sessions(row: TrainingSession) -> list[TrainingSession]:
    """Planned sessions of the same kind (and customer) after ``row``: where a missed one can go."""
    return list(db.session.scalars(select(TrainingSession).where(
        TrainingSession.kind == row.kind, TrainingSession.customer_id.is_(None) if row.customer_id is None
        else TrainingSession.customer_id == row.customer_id, TrainingSession.status == PLANNED,
        TrainingSession.starts_at > row.starts_at).order_by(TrainingSession.starts_at)))


# -- mail ------------------------------------------------------------------------------------------
def _when(moment: datetime) -> str:
    return f"{moment.astimezone(MAIL_ZONE):%Y-%m-%d %H:%M} (Asia/Shanghai)"


def _mail(kind: str, row: TrainingSession, people: list[TrainingParticipant]) -> int:
    heads = {"training_invitation": ("培训邀请", "Training invitation"),
             "training_reminder": ("培训提醒", "Training reminder"),
             "training_follow_up": ("您错过了培训", "You missed a training")}[kind]
    lines = {"training_invitation": ("诚邀您参加以下培训。", "You are invited to the training below."),
             "training_reminder": ("提醒：以下培训即将开始。", "A reminder: the training below starts soon."),
             "training_follow_up": ("您未能参加以下培训，我们会为您安排下一次培训。",
                                    "You could not attend the training below; we will offer you the next one.")}[kind]
    body = (f"{lines[0]}\n{lines[1]}\n\n{row.title}\n{_when(row.starts_at)} – {_when(row.ends_at)}\n"
            f"{row.location or row.mode}\n{row.topic or ''}\n")
    queued = 0
    for person in people:
        recipient = person.user if person.user is not None else person.email
        if recipient is None:
            continue
        queued += len(notifications.enqueue(kind, [recipient],
                                            f"{heads[0]} / {heads[1]}: {row.title}", body, case=person.case))
    return queued


# -- planning ------------------------------------------------------------------------------------
def _invitee(row: TrainingSession, username: str | None, name: str | None, email: str | None,
             field: str) -> tuple[User | None, str, str | None]:
    if username:
        user = _user(username, field)
        if row.kind == CUSTOMER_USER and user.customer_id != row.customer_id:
            _refuse(field, f"{username} is not a user of the session's customer")
        if row.kind in STAFF_KINDS and not user.is_staff:
            _refuse(field, f"{username} is not a member of staff")
        return user, name or user.display_name, user.email
    if row.kind in STAFF_KINDS:
        _refuse(field, "staff are invited by their user name")
    if not name or not email or "@" not in email:
        _refuse(field, "a user name, or a name and an e-mail address")
    return None, name, email


def _add(actor: User | None, row: TrainingSession, user: User | None, name: str, email: str | None, case_id: int | None,
         field: str) -> TrainingParticipant:
    if any((user is not None and p.user_id == user.id) or (email and (p.email or "").lower() == email.lower())
           for p in row.participants):
        _refuse(field, f"{name} is already invited to this session")
    person = TrainingParticipant(session=row, user=user, user_id=user.id if user else None, name=name[:200],
                                 email=email, case_id=case_id, invited_at=utcnow())
    db.session.add(person)
    db.session.flush()
    if person.case is not None:
        events.record(person.case, "training_enrolled", actor, public=True, session_id=row.id, title=row.title,
                      starts_at=row.starts_at.isoformat(), participant=name)
    return person


@use_case
def plan(actor: User, fields: dict[str, Any], now: datetime | None = None) -> TrainingSession:
    """Plan a session and invite its participants (``invitees``: user names; ``people``: a customer's
    persons as ``{name, email}``)."""
    require_role(actor, *PLANNERS)
    now = now or utcnow()
    kind = fields.get("kind")
    if kind not in KINDS:
        _refuse("kind", f"one of {', '.join(KINDS)}")
    customer = None
    if kind == CUSTOMER_USER:
        if fields.get("customer_id") is None:
            _refuse("customer_id", "a customer user training names the customer")
        customer = db.session.get(Customer, fields["customer_id"])
        if customer is None:
            _refuse("customer_id", f"no customer {fields['customer_id']}")
    elif fields.get("customer_id") is not None:
        _refuse("customer_id", "only a customer user training is for a customer")
    if fields.get("mode", "on_site") not in MODES:
        _refuse("mode", f"one of {', '.join(MODES)}")
    starts = fields.get("starts_at")
    if starts is None:
        _refuse("starts_at", "required")
    if starts <= now:
        _refuse("starts_at", "a session is planned ahead: a moment in the future")
    if starts > now + MAX_AHEAD:
        _refuse("starts_at", "at most two years ahead")
    if fields.get("ends_at") is not None and fields["ends_at"] > starts + MAX_LENGTH:
        _refuse("ends_at", "at most 30 days after the start")
    ends = fields.get("ends_at") or starts + (INDUCTION_LENGTH if kind == INDUCTION else DEFAULT_LENGTH)
    if ends <= starts:
        _refuse("ends_at", "after the start")
    hours = fields.get("reminder_hours", DEFAULT_REMINDER_HOURS)
    if not 0 <= hours <= MAX_REMINDER_HOURS:
        _refuse("reminder_hours", f"from 0 to {MAX_REMINDER_HOURS}")
    trainer = _user(fields["trainer"], "trainer") if fields.get("trainer") else None
    if trainer is not None and not trainer.is_staff:
        _refuse("trainer", "a trainer is a member of staff")
    row = TrainingSession(kind=kind, title=fields["title"], topic=fields.get("topic"), customer=customer,
                          customer_id=customer.id if customer else None, trainer=trainer,
                          trainer_id=trainer.id if trainer else None, mode=fields.get("mode", "on_site"),
                          location=fields.get("location"), starts_at=starts, ends_at=ends, reminder_hours=hours,
                          reminder_due_at=starts - timedelta(hours=hours), status=PLANNED,
                          created_by_id=actor.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    people = []
    for i, username in enumerate(fields.get("invitees") or []):
        user, name, email = _invitee(row, username, None, None, f"invitees.{i}")
        people.append(_add(actor, row, user, name, email, None, f"invitees.{i}"))
    for i, person in enumerate(fields.get("people") or []):
        user, name, email = _invitee(row, None, person.get("name"), person.get("email"), f"people.{i}")
        people.append(_add(actor, row, user, name, email, None, f"people.{i}"))
    _mail("training_invitation", row, people)
    audit.record(actor, "training_planned", row.id, kind=kind, invited=len(people))
    return row


@use_case
def enrol(actor: User, session_id: int, fields: dict[str, Any], now: datetime | None = None) -> TrainingParticipant:
    """Invite one more person: a user (``user``), a customer's person (``name``, ``email``), or, with
    ``case_id`` alone, the person who reported the case (a case's re-training found the need)."""
    require_role(actor, *ENROLLERS)
    now = now or utcnow()
    row = _session(session_id, lock=True)
    if row.status != PLANNED or row.starts_at <= now:
        raise Conflict("only a planned session that has not started takes participants", code="session_closed")
    case = None
    if fields.get("case_id") is not None:
        try:
            case = visible_case(actor, fields["case_id"])
        except NotFound:
            _refuse("case_id", f"no case {fields['case_id']}")
        if row.customer_id is None or case.customer_id != row.customer_id:
            _refuse("case_id", "the case is not of the session's customer")
    username, name, email = fields.get("user"), fields.get("name"), fields.get("email")
    if case is not None and not (username or name or email):
        reporter = db.session.get(User, case.reporter_id) if case.reporter_id else None
        if reporter is not None:
            username = reporter.username
        else:
            name, email = case.contact_name, case.contact_email
        field = "case_id"
    else:
        field = "user" if username else "email"
    user, name, email = _invitee(row, username, name, email, field)
    person = _add(actor, row, user, name, email, case.id if case else None, field)
    _mail("training_invitation", row, [person])
    audit.record(actor, "training_enrolled", row.id, participant=person.name, case=case.number if case else None)
    return person


@use_case
def record_attendance(actor: User, session_id: int, seen: int | None, entries: list[dict[str, Any]],
                      now: datetime | None = None) -> TrainingSession:
    """After the session: who attended (``attended``) and each one's assessment ``score`` (0-100).
    The session is held from then on; those who missed it get a follow-up mail."""
    require_role(actor, *PLANNERS)
    now = now or utcnow()
    row = _session(session_id, lock=True)
    if seen is None:
        raise PreconditionRequired("send the session version you saw (\"version\")")
    if seen != row.version:
        raise Conflict(f"the session changed since version {seen}; it is now at {row.version}",
                       code="stale_version", current_version=row.version)
    if row.status == CANCELLED:
        raise Conflict("the session was cancelled", code="session_closed")
    if row.starts_at > now:
        _refuse("attendance", "attendance is recorded once the session has started")
    by_id = {p.id: p for p in row.participants}
    problems, missed = [], []
    for i, entry in enumerate(entries):
        person = by_id.get(entry.get("participant_id", 0))
        if person is None:
            problems.append({"field": f"attendance.{i}.participant_id", "message": "not a participant of the session"})
        elif entry.get("score") is not None and not entry.get("attended"):
            problems.append({"field": f"attendance.{i}.score", "message": "only who attended is assessed"})
        elif entry.get("score") is not None and not 0 <= entry["score"] <= 100:
            problems.append({"field": f"attendance.{i}.score", "message": "from 0 to 100"})
    if not entries:
        problems.append({"field": "attendance", "message": "at least one participant"})
    if problems:
        raise ValidationFailed("the attendance is not valid", problems)
    for entry in entries:
        person = by_id[entry["participant_id"]]
        person.attendance = ATTENDED if entry["attended"] else MISSED
        person.score = entry.get("score") if entry["attended"] else None
        if person.attendance == MISSED and person.followed_up_at is None:
            person.followed_up_at = now
            missed.append(person)
        if person.case is not None:
            events.record(person.case, f"training_{person.attendance}", actor, public=True, session_id=row.id,
                          title=row.title, participant=person.name, score=person.score)
    row.status, row.held_at = HELD, row.held_at or now
    db.session.flush()
    _mail("training_follow_up", row, missed)
    audit.record(actor, "training_attendance", row.id, recorded=len(entries), missed=len(missed))
    return row


@use_case
def move(actor: User, session_id: int, participant_id: int, to_session_id: int,
         now: datetime | None = None) -> TrainingParticipant:
    """Follow-up for one who missed a session: invite them to a later planned session."""
    require_role(actor, *PLANNERS)
    now = now or utcnow()
    row = _session(session_id)
    person = next((p for p in row.participants if p.id == participant_id), None)
    if person is None:
        raise NotFound(f"participant {participant_id} not found", resource="training_participant", id=participant_id)
    if person.attendance != MISSED or person.moved_to_id is not None:
        raise Conflict("only one who missed the session, not yet moved, is moved", code="not_missed")
    try:
        target = _session(to_session_id, lock=True)
    except NotFound:
        _refuse("to_session_id", f"no training session {to_session_id}")
    if target.id not in {s.id for s in later_sessions(row)} or target.starts_at <= now:
        _refuse("to_session_id", "a later planned session of the same kind and customer")
    moved = _add(actor, target, person.user, person.name, person.email, person.case_id, "to_session_id")
    person.moved_to_id = target.id
    _mail("training_invitation", target, [moved])
    return moved


@operation("enrol_for_training")
def enrol_for_training(ctx: ServiceContext, wanted: bool) -> dict[str, Any]:
    """The support process's step after re-training a user: when asked, the case's user (its reporter,
    else its contact) joins the customer's next planned user training, invited by mail, and the case's
    timeline says so. Nothing to join or nobody to enrol is an answer, not a failure of the step."""
    if not wanted:
        return {"enrolled": False, "reason": "not asked"}
    case, now = ctx.case, utcnow()
    row = db.session.scalar(select(TrainingSession).where(
        TrainingSession.kind == CUSTOMER_USER, TrainingSession.customer_id == case.customer_id,
        TrainingSession.status == PLANNED, TrainingSession.starts_at > now)
        .order_by(TrainingSession.starts_at, TrainingSession.id).limit(1))
    if row is None:
        return {"enrolled": False, "reason": "no planned user training for the customer"}
    reporter = db.session.get(User, case.reporter_id) if case.reporter_id else None
    if reporter is None and not (case.contact_name and case.contact_email):
        return {"enrolled": False, "reason": "the case names nobody to enrol", "session_id": row.id}
    name = reporter.display_name if reporter is not None else case.contact_name
    email = reporter.email if reporter is not None else case.contact_email
    if any((reporter is not None and p.user_id == reporter.id) or (email and (p.email or "").lower() == email.lower())
           for p in row.participants):
        return {"enrolled": False, "reason": "already invited", "session_id": row.id}
    person = _add(ctx.actor, row, reporter, name or "", email, case.id, "case_id")
    _mail("training_invitation", row, [person])
    return {"enrolled": True, "session_id": row.id, "starts_at": row.starts_at.isoformat(), "participant": person.name}


# -- reminders (the scheduler's service job, cases/service/due.py) -------------------------------
def send_due_reminders(now: datetime | None = None) -> list[int]:
    """Mail the reminder of every planned session whose reminder is due and not yet sent, once each
    (each session in its own transaction, its row locked and read again). The sessions reminded."""
    now = now or utcnow()
    due = list(db.session.scalars(select(TrainingSession.id).where(
        TrainingSession.status == PLANNED, TrainingSession.reminded_at.is_(None),
        TrainingSession.reminder_due_at <= now, TrainingSession.starts_at > now).order_by(TrainingSession.id)))
    db.session.rollback()
    sent = []
    for session_id in due:
        with unit_of_work():
            row = db.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id)
                                    .with_for_update(skip_locked=True, of=TrainingSession))
            if row is None or row.reminded_at is not None or row.status != PLANNED:
                continue
            row.reminded_at = now
            _mail("training_reminder", row, [p for p in row.participants if p.attendance is None])
            sent.append(row.id)
    return sent


# -- KPIs ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingKpis:
    sessions_held: int
    attended: int
    missed: int
    participation: float | None
    support_staff: int
    staff_covered: int
    coverage: float | None
    assessments: int
    average_score: float | None


def _support_staff() -> list[int]:
    return list(db.session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.active.is_(True), User.customer_id.is_(None), UserRole.role.in_(SUPPORT_STAFF)).distinct()))


def kpis(period: Period, customer_id: int | None = None) -> TrainingKpis:
    """The figures of the sessions held in ``period`` (their start in it), for one customer's user
    training or the whole service. Coverage is a staff figure: None for a customer."""
    held = select(TrainingSession.id).where(
        TrainingSession.status == HELD, TrainingSession.starts_at >= period.start,
        TrainingSession.starts_at < period.end)
    if customer_id is not None:
        held = held.where(TrainingSession.customer_id == customer_id)
    held_ids = list(db.session.scalars(held))
    rows = db.session.execute(select(TrainingParticipant.attendance, func.count(), func.count(TrainingParticipant.score),
                                     func.sum(TrainingParticipant.score))
                              .where(TrainingParticipant.session_id.in_(held_ids))
                              .group_by(TrainingParticipant.attendance)).all() if held_ids else []
    counts = {attendance: (n, scored, total or 0) for attendance, n, scored, total in rows}
    attended, missed = counts.get(ATTENDED, (0, 0, 0))[0], counts.get(MISSED, (0, 0, 0))[0]
    scored, total = counts.get(ATTENDED, (0, 0, 0))[1], counts.get(ATTENDED, (0, 0, 0))[2]
    staff, covered = 0, 0
    if customer_id is None:
        staff_ids = _support_staff()
        staff = len(staff_ids)
        if staff_ids and held_ids:
            covered = db.session.scalar(select(func.count(func.distinct(TrainingParticipant.user_id)))
                                        .join(TrainingSession, TrainingSession.id == TrainingParticipant.session_id)
                                        .where(TrainingParticipant.session_id.in_(held_ids),
                                               TrainingSession.kind.in_(STAFF_KINDS),
                                               TrainingParticipant.user_id.in_(staff_ids),
                                               TrainingParticipant.score >= PASS_SCORE)) or 0
    return TrainingKpis(
        sessions_held=len(held_ids), attended=attended, missed=missed,
        participation=attended / (attended + missed) if attended + missed else None,
        support_staff=staff, staff_covered=covered,
        coverage=covered / staff if staff and customer_id is None else None,
        assessments=scored, average_score=total / scored if scored else None)


@review.section("training", 30)
def review_section(period: Period, customer_id: int | None) -> review.Section:
    k = kpis(period, customer_id)
    figures = [
        review.Figure("sessions_held", N_("Training sessions held"), k.sessions_held),
        review.Figure("participation", N_("Training participation"), k.participation, "ratio", PARTICIPATION_TARGET),
        review.Figure("assessments", N_("Assessments"), k.assessments),
        review.Figure("average_score", N_("Average assessment score (of 100)"),
                      round(k.average_score, 1) if k.average_score is not None else None),
    ]
    if customer_id is None:
        figures.insert(2, review.Figure("coverage", N_("Staff knowledge coverage"), k.coverage, "ratio",
                                        COVERAGE_TARGET))
    return review.Section("training", N_("Training"), tuple(figures))
