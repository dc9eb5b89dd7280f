"""Training (seeds 000, 001, 004): sessions planned, invitations, reminders, attendance, assessments,
follow-up for those who missed, and the KPIs the plans set.

Three kinds of session: customer user training (at a deployment, or when a case shows an operation
problem: the case's re-training step can enrol its user), new-staff induction (a week, seed 004 2.3)
and the quarterly staff technical training (seed 000: "每季度进行一次技术培训 ... 覆盖率达到90%以上").

Each session runs as a process the process owners can change (``processes/training_session.bpmn``),
as a case of kind ``training`` of the service's own organisation (``records.own_organisation``: like
a risk's reviews, a session belongs to no customer's case list), owned by the session's trainer (else
its organiser), started when the session is planned:

- the step ``training_invitations`` mails the invitations (the outbox, ``cases/outbox/notifications.py``);
- a date timer at the reminder moment (``reminder_hours`` before the start) → ``training_reminder``
  mails everyone not yet recorded, once (``reminded_at`` marks it; none once the session has started);
- a date timer at the session's end → ``training_attendance_due`` → the task "Record attendance"
  (form ``record_attendance``: one entry per participant, ``{participant_id, attended, score}``),
  assigned to the trainer/organiser; the session's page and the attendance API complete it (a session
  that started but whose end timer has not fired is moved on first) → ``apply_training_attendance``
  writes it (those who missed it get a follow-up mail) → anyone absent: the task "Follow up on
  absentees" (form ``follow_up_absentees``: per absentee, move to a later session or excuse, and why);
  the move API used meanwhile counts as that absentee's decision → ``apply_training_follow_up``.
- Rescheduling moves the waiting timer; cancelling (before the start) ends the process.

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

from cases.casework import intake, tasks
from cases.core import audit, events
from cases.core.access import require_role, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import STAFF_ROLES, Case, CaseKind, Customer, Role, Task, User, UserRole, utcnow
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
from cases.service.oversight_models import TrainingParticipant, TrainingSession
from engine.errors import HandlerError

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
#: the session's process: its id, the variables its two date timers wait for, its two tasks
PROCESS = "training_session"
REMIND_VARIABLE, END_VARIABLE = "remind_at", "session_end"
ATTENDANCE_TASK, FOLLOW_UP_TASK = "record_attendance", "follow_up_absentees"
#: why the trainer (else the organiser) collaborates on the session's case (case_collaborators.source)
TRAINER_SOURCE = "trainer"
MOVE, EXCUSE = "move", "excuse"


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
             "training_follow_up": ("您错过了培训", "You missed a training"),
             "training_moved": ("培训时间变更", "Training rescheduled"),
             "training_cancelled": ("培训取消", "Training cancelled")}[kind]
    lines = {"training_invitation": ("诚邀您参加以下培训。", "You are invited to the training below."),
             "training_reminder": ("提醒：以下培训即将开始。", "A reminder: the training below starts soon."),
             "training_follow_up": ("您未能参加以下培训，我们会为您安排下一次培训。",
                                    "You could not attend the training below; we will offer you the next one."),
             "training_moved": ("以下培训的时间已变更，请以新的时间为准。",
                                "The training below has moved: please note its new time."),
             "training_cancelled": ("以下培训已取消。", "The training below is cancelled.")}[kind]
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
    if _start_process(actor, row, invite=True) is None:  # no process deployed yet: invite here
        _mail("training_invitation", row, people)
    audit.record(actor, "training_planned", row.id, kind=kind, invited=len(people),
                 process_case=row.process_case.number if row.process_case else None)
    return row


def _check_moments(starts: datetime, ends: datetime | None, hours: int, now: datetime) -> None:
    if starts <= now:
        _refuse("starts_at", "a session is planned ahead: a moment in the future")
    if starts > now + MAX_AHEAD:
        _refuse("starts_at", "at most two years ahead")
    if ends is not None and ends > starts + MAX_LENGTH:
        _refuse("ends_at", "at most 30 days after the start")
    if ends is not None and ends <= starts:
        _refuse("ends_at", "after the start")
    if not 0 <= hours <= MAX_REMINDER_HOURS:
        _refuse("reminder_hours", f"from 0 to {MAX_REMINDER_HOURS}")


def _check_version(row: TrainingSession, seen: int | None) -> None:
    if seen is None:
        raise PreconditionRequired("send the session version you saw (\"version\")")
    if seen != row.version:
        raise Conflict(f"the session changed since version {seen}; it is now at {row.version}",
                       code="stale_version", current_version=row.version)


def may_run(actor: User, row: TrainingSession) -> bool:
    """Who records a session's attendance and follows up its absentees: the planners, and the
    session's trainer whatever their role."""
    return actor.has_role(*PLANNERS) or (row.trainer_id is not None and actor.id == row.trainer_id)


def _may_run(actor: User, row: TrainingSession) -> None:
    if not may_run(actor, row):
        require_role(actor, *PLANNERS)


@use_case
def reschedule(actor: User, session_id: int, fields: dict[str, Any], seen: int | None,
               now: datetime | None = None) -> TrainingSession:
    """Move a planned session that has not started: a new start (``starts_at``), end (``ends_at``) or
    reminder lead (``reminder_hours``). The waiting timer of its process moves with it; the
    participants are told the new time by mail."""
    require_role(actor, *PLANNERS)
    now = now or utcnow()
    row = _session(session_id, lock=True)
    _check_version(row, seen)
    if row.status != PLANNED or row.starts_at <= now:
        raise Conflict("only a planned session that has not started is moved", code="session_closed")
    starts = fields.get("starts_at") or row.starts_at
    length = row.ends_at - row.starts_at
    ends = fields.get("ends_at") or (starts + length if fields.get("starts_at") else row.ends_at)
    hours = fields["reminder_hours"] if fields.get("reminder_hours") is not None else row.reminder_hours
    _check_moments(starts, ends, hours, now)
    row.starts_at, row.ends_at, row.reminder_hours = starts, ends, hours
    row.reminder_due_at = starts - timedelta(hours=hours)
    db.session.flush()
    case = _running_case(row)
    if case is not None:
        instance = lock_instance(case_id=case.id)
        run = load_run(instance, case, actor)
        moved = run.move_date_timers(REMIND_VARIABLE, row.reminder_due_at)
        moved += run.move_date_timers(END_VARIABLE, row.ends_at)
        if moved:
            events.record(case, "training_rescheduled", actor, session_id=row.id, starts_at=starts.isoformat(),
                          ends_at=ends.isoformat(), reminder_due_at=row.reminder_due_at.isoformat())
            synchronise(case, instance, run, actor)
    _mail("training_moved", row, [p for p in row.participants if p.attendance is None])
    audit.record(actor, "training_rescheduled", row.id, fields=sorted(k for k in fields if fields[k] is not None))
    return row


@use_case
def cancel(actor: User, session_id: int, seen: int | None, reason: str | None = None,
           now: datetime | None = None) -> TrainingSession:
    """Cancel a planned session that has not started: its participants are told by mail and its
    process ends (its waiting timer fires now and the step, finding the session cancelled, ends it)."""
    require_role(actor, *PLANNERS)
    now = now or utcnow()
    row = _session(session_id, lock=True)
    _check_version(row, seen)
    if row.status != PLANNED or row.starts_at <= now:
        raise Conflict("only a planned session that has not started is cancelled", code="session_closed")
    row.status = CANCELLED
    db.session.flush()
    _mail("training_cancelled", row, list(row.participants))
    case = _running_case(row)
    if case is not None:
        events.record(case, "training_cancelled", actor, session_id=row.id, reason=reason)
        _advance(actor, row, to_end=True)
    audit.record(actor, "training_cancelled", row.id, reason=reason)
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
    The session is held from then on; those who missed it get a follow-up mail. With the session's
    process running this completes its task "Record attendance" (moving the process on to it first
    when the session has started but its end timer has not fired yet); a later correction, or a
    session without a process, is written directly."""
    row = _session(session_id, lock=True)
    _may_run(actor, row)
    now = now or utcnow()
    _check_version(row, seen)
    if row.status == CANCELLED:
        raise Conflict("the session was cancelled", code="session_closed")
    if row.starts_at > now:
        _refuse("attendance", "attendance is recorded once the session has started")
    problems = _attendance_problems(row, entries, "attendance")
    if problems:
        raise ValidationFailed("the attendance is not valid", problems)
    task = _open_task(row, ATTENDANCE_TASK)
    if task is None and _running_case(row) is not None and _open_task(row, FOLLOW_UP_TASK) is None:
        _advance(actor, row, to_end=True)
        task = _open_task(row, ATTENDANCE_TASK)
    if task is not None:
        data = {"entries": [{"participant_id": e["participant_id"], "attended": bool(e["attended"]),
                             "score": e.get("score") if e["attended"] else None} for e in entries]}
        tasks.complete_in_unit(actor, task.id, data)
        db.session.refresh(row)
    else:
        _write_attendance(actor, row, entries, utcnow())
    if now != row.held_at and row.held_at is not None and now < row.held_at:
        row.held_at = now  # recorded afterwards for a moment in the past (the demo data)
    return row


def _attendance_problems(row: TrainingSession, entries: list[dict[str, Any]], prefix: str) -> list[dict[str, str]]:
    by_id = {p.id: p for p in row.participants}
    problems, seen = [], set()
    for i, entry in enumerate(entries):
        person = by_id.get(entry.get("participant_id", 0))
        if person is None:
            problems.append({"field": f"{prefix}.{i}.participant_id", "message": "not a participant of the session"})
        elif person.id in seen:
            problems.append({"field": f"{prefix}.{i}.participant_id", "message": "named twice"})
        elif entry.get("score") is not None and not entry.get("attended"):
            problems.append({"field": f"{prefix}.{i}.score", "message": "only who attended is assessed"})
        elif entry.get("score") is not None and not 0 <= entry["score"] <= 100:
            problems.append({"field": f"{prefix}.{i}.score", "message": "from 0 to 100"})
        if person is not None:
            seen.add(person.id)
    if not entries:
        problems.append({"field": prefix, "message": "at least one participant"})
    return problems


def _write_attendance(actor: User | None, row: TrainingSession, entries: list[dict[str, Any]],
                      now: datetime) -> list[TrainingParticipant]:
    """Write attendance and scores (checked); the session is held; those who missed are mailed a
    follow-up. The participants who missed it."""
    by_id = {p.id: p for p in row.participants}
    missed = []
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
    return missed


def undecided(row: TrainingSession) -> list[TrainingParticipant]:
    """Who missed the session and has no follow-up decision yet (moved or excused)."""
    return [p for p in row.participants if p.attendance == MISSED and p.moved_to_id is None and p.excused_at is None]


def _move_person(actor: User | None, row: TrainingSession, person: TrainingParticipant, to_session_id: int,
                 now: datetime, field: str = "to_session_id") -> TrainingParticipant:
    try:
        target = _session(to_session_id, lock=True)
    except NotFound:
        _refuse(field, f"no training session {to_session_id}")
    if target.id not in {s.id for s in later_sessions(row)} or target.starts_at <= now:
        _refuse(field, "a later planned session of the same kind and customer")
    moved = _add(actor, target, person.user, person.name, person.email, person.case_id, field)
    person.moved_to_id = target.id
    _mail("training_invitation", target, [moved])
    audit.record(actor, "training_moved", row.id, participant=person.name, to_session=target.id)
    return moved


@use_case
def move(actor: User, session_id: int, participant_id: int, to_session_id: int,
         now: datetime | None = None) -> TrainingParticipant:
    """Follow-up for one who missed a session: invite them to a later planned session. While the
    session's task "Follow up on absentees" is open this is that absentee's decision (the last one
    decided completes the task)."""
    require_role(actor, *PLANNERS)
    now = now or utcnow()
    row = _session(session_id, lock=True)
    person = next((p for p in row.participants if p.id == participant_id), None)
    if person is None:
        raise NotFound(f"participant {participant_id} not found", resource="training_participant", id=participant_id)
    if person.attendance != MISSED or person.moved_to_id is not None or person.excused_at is not None:
        raise Conflict("only one who missed the session, not yet moved or excused, is moved", code="not_missed")
    task = _open_task(row, FOLLOW_UP_TASK)
    if task is not None and [p.id for p in undecided(row)] == [person.id]:
        decision = {"participant_id": person.id, "decision": MOVE, "to_session_id": to_session_id}
        if follow_up_problems(row, [decision], now, "decisions"):
            _refuse("to_session_id", "a later planned session of the same kind and customer")
        tasks.complete_in_unit(actor, task.id, {"decisions": [decision]})
        found: TrainingParticipant | None = db.session.scalar(select(TrainingParticipant).where(
            TrainingParticipant.session_id == to_session_id, TrainingParticipant.name == person.name)
            .order_by(TrainingParticipant.id.desc()).limit(1))
        assert found is not None  # the step moved them
        return found
    return _move_person(actor, row, person, to_session_id, now)


@use_case
def follow_up(actor: User, session_id: int, decisions: list[dict[str, Any]],
              now: datetime | None = None) -> TrainingSession:
    """The organiser's follow-up of those who missed a session: per absentee, ``move`` to a later
    session (``to_session_id``) or ``excuse`` (``reason``). Completes the session's open task "Follow
    up on absentees" when they decide every absentee still waiting; otherwise written directly (the
    task waits for the others)."""
    row = _session(session_id, lock=True)
    _may_run(actor, row)
    now = now or utcnow()
    problems = follow_up_problems(row, decisions, now, "decisions", complete=False)
    if not decisions:
        problems.append({"field": "decisions", "message": "at least one decision"})
    if problems:
        raise ValidationFailed("the follow-up is not valid", problems)
    task = _open_task(row, FOLLOW_UP_TASK)
    if task is not None and not follow_up_problems(row, decisions, now, "decisions"):
        tasks.complete_in_unit(actor, task.id, {"decisions": decisions})  # the last absentees decided
    else:
        _apply_decisions(actor, row, decisions, now)
    return row


def follow_up_problems(row: TrainingSession, decisions: list[dict[str, Any]], now: datetime,
                       prefix: str, complete: bool = True) -> list[dict[str, str]]:
    """What is wrong with follow-up decisions (none: fine): each names an absentee not yet decided,
    once; a move names a later planned session; with ``complete`` every such absentee is decided."""
    waiting = {p.id for p in undecided(row)}
    later = {s.id for s in later_sessions(row) if s.starts_at > now}
    problems, named = [], set()
    for i, decision in enumerate(decisions):
        pid = decision.get("participant_id")
        if pid not in waiting or pid in named:
            problems.append({"field": f"{prefix}.{i}.participant_id",
                             "message": "not an absentee of the session waiting for a decision"})
        elif decision.get("decision") == MOVE and decision.get("to_session_id") not in later:
            problems.append({"field": f"{prefix}.{i}.to_session_id",
                             "message": "a later planned session of the same kind and customer"})
        elif decision.get("decision") == EXCUSE and not (decision.get("reason") or "").strip():
            problems.append({"field": f"{prefix}.{i}.reason", "message": "say why they are excused"})
        elif decision.get("decision") not in (MOVE, EXCUSE):
            problems.append({"field": f"{prefix}.{i}.decision", "message": "move or excuse"})
        named.add(pid)
    if complete and not problems and waiting - named:
        problems.append({"field": prefix, "message": "decide for every absentee: "
                         + ", ".join(p.name for p in undecided(row) if p.id not in named)})
    return problems


def _apply_decisions(actor: User | None, row: TrainingSession, decisions: list[dict[str, Any]],
                     now: datetime) -> dict[str, int]:
    by_id = {p.id: p for p in row.participants}
    moved = excused = 0
    for i, decision in enumerate(decisions):
        person = by_id[decision["participant_id"]]
        person.follow_up_note = (decision.get("reason") or "").strip() or None
        if decision["decision"] == MOVE:
            _move_person(actor, row, person, decision["to_session_id"], now, f"decisions.{i}.to_session_id")
            moved += 1
        else:
            person.excused_at = now
            excused += 1
            if person.case is not None:
                events.record(person.case, "training_excused", actor, public=True, session_id=row.id,
                              title=row.title, participant=person.name)
    db.session.flush()
    audit.record(actor, "training_followed_up", row.id, moved=moved, excused=excused)
    return {"moved": moved, "excused": excused}


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


# -- the session's process (processes/training_session.bpmn) -------------------------------------
def _organiser(row: TrainingSession) -> User | None:
    """Who runs the session's tasks: its trainer, else whoever planned it."""
    if row.trainer is not None:
        return row.trainer
    return db.session.get(User, row.created_by_id) if row.created_by_id else None


def _start_process(actor: User | None, row: TrainingSession, invite: bool) -> Case | None:
    """Start the session's process as a case of the own organisation, owned by its trainer (else its
    organiser); ``invite``: its first step mails the invitations. None when no deployed version has
    the process yet (the service job starts it once one has: :func:`start_missing_processes`)."""
    if current_version(PROCESS) is None:
        return None
    fields = {"channel": "internal", "title": row.title[:200],
              "description": f"Training session {row.id} ({row.kind}) from {row.starts_at.isoformat()}."}
    case = intake.start_case(records.own_organisation(), actor, fields, kind=CaseKind.TRAINING.value, data={
        "session_id": row.id, "invite": invite, REMIND_VARIABLE: row.reminder_due_at.isoformat(),
        "entries": None, "decisions": None})
    row.process_case, row.process_case_id = case, case.id
    _give_to_organiser(row)
    return case


def start_missing_processes(now: datetime | None = None) -> list[int]:
    """Planned sessions still ahead without a process get one (sessions planned before the process
    was deployed; their invitations went out then, so none again). Run by the scheduler's service job
    (cases/service/due.py); the sessions started."""
    if current_version(PROCESS) is None:
        return []
    now = now or utcnow()

    def start_one(row: TrainingSession) -> bool:
        if row.status != PLANNED or row.process_case_id is not None:
            return False
        _start_process(None, row, invite=False)
        return True

    return service_process.start_missing(TrainingSession, select(TrainingSession.id).where(
        TrainingSession.status == PLANNED, TrainingSession.process_case_id.is_(None),
        TrainingSession.starts_at > now).order_by(TrainingSession.id), start_one)


def _running_case(row: TrainingSession) -> Case | None:
    case = row.process_case
    return case if case is not None and case.is_open else None


def _open_task(row: TrainingSession, element: str) -> Task | None:
    return service_process.open_task(row.process_case_id, element)


def open_task(row: TrainingSession) -> Task | None:
    """The session's open task (record attendance, or follow up on absentees), if any: its page links it."""
    return _open_task(row, ATTENDANCE_TASK) or _open_task(row, FOLLOW_UP_TASK)


def _give_to_organiser(row: TrainingSession) -> None:
    """The session's case is its trainer's (else its organiser's): its owner, a collaborator (who may
    work its tasks whatever their role), and the open task's assignee."""
    case, person = _running_case(row), _organiser(row)
    if case is None or person is None:
        return
    case.owner, case.owner_id = person, person.id
    db.session.execute(CaseCollaborator.__table__.delete().where(
        CaseCollaborator.case_id == case.id, CaseCollaborator.source == TRAINER_SOURCE,
        CaseCollaborator.user_id != person.id))
    if db.session.get(CaseCollaborator, (case.id, person.id, TRAINER_SOURCE)) is None:
        db.session.add(CaseCollaborator(case_id=case.id, user_id=person.id, source=TRAINER_SOURCE, added_at=utcnow()))
    task = open_task(row)
    if task is not None and task.assignee_id != person.id:
        task.assignee, task.assignee_id = person, person.id
    db.session.flush()


def _advance(actor: User | None, row: TrainingSession, to_end: bool) -> None:
    """Fire the session's waiting timers now (in this transaction): the reminder's (its step sends
    nothing once the session has started) and, with ``to_end``, the end's. A cancelled session's
    process then ends; a held one's reaches "Record attendance"."""
    case = _running_case(row)
    if case is None:
        return
    instance = lock_instance(case_id=case.id)
    run = load_run(instance, case, actor)
    past = utcnow() - timedelta(seconds=1)
    if run.move_date_timers(REMIND_VARIABLE, past):
        run.fire_due_timers()
    if to_end and run.move_date_timers(END_VARIABLE, past):
        run.fire_due_timers()
    synchronise(case, instance, run, actor)


def _session_of(ctx: ServiceContext, session_id: Any) -> TrainingSession:
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        raise HandlerError("bad_parameter", "the training steps need the process variable 'session_id' (a number)")
    row: TrainingSession | None = db.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id)
                                                    .with_for_update(of=TrainingSession))
    # (None: its process is starting: the first steps run before the session notes its case)
    if row is None or row.process_case_id not in (None, ctx.case_id):
        raise HandlerError("bad_parameter", f"training session {session_id} is not run by this case")
    return row


@operation("training_invitations")
def invitations_step(ctx: ServiceContext, session_id: Any, invite: Any = True) -> dict[str, Any]:
    """The session is planned: mail its invitations (``invite`` false: they went out before the
    process ran, e.g. a session planned before it was deployed)."""
    row = _session_of(ctx, session_id)
    if not invite or row.status != PLANNED:
        return {"invited": 0}
    return {"invited": _mail("training_invitation", row, list(row.participants))}


@operation("training_reminder")
def reminder_step(ctx: ServiceContext, session_id: Any) -> dict[str, Any]:
    """The reminder moment: mail everyone not yet recorded, once (``reminded_at``), and not once the
    session has started; ``cancelled`` ends the process; ``session_end`` is what the next timer waits for."""
    row, now = _session_of(ctx, session_id), utcnow()
    if row.status == CANCELLED:
        return {"cancelled": True, "reminded": 0, "session_end": row.ends_at.isoformat()}
    sent = 0
    if row.reminded_at is None and row.status == PLANNED and row.starts_at > now:
        row.reminded_at = now
        sent = _mail("training_reminder", row, [p for p in row.participants if p.attendance is None])
    return {"cancelled": False, "reminded": sent, "session_end": row.ends_at.isoformat()}


@operation("training_attendance_due")
def attendance_due_step(ctx: ServiceContext, session_id: Any) -> dict[str, Any]:
    """The session's end: its trainer (else organiser) gets "Record attendance"; a cancelled session ends."""
    row = _session_of(ctx, session_id)
    if row.status == CANCELLED:
        return {"cancelled": True}
    _give_to_organiser(row)
    return {"cancelled": False}


@operation("apply_training_attendance")
def apply_attendance_step(ctx: ServiceContext, session_id: Any, entries: Any) -> dict[str, Any]:
    """The task's entries written to the session (the rules of the API); ``absentees``: how many
    missed it and wait for a follow-up decision."""
    row = _session_of(ctx, session_id)
    if row.status == CANCELLED:
        raise HandlerError("not_allowed", "the session was cancelled")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise HandlerError("bad_parameter", "apply_training_attendance: 'entries' must be a list of entries")
    problems = _attendance_problems(row, entries, "entries")
    if problems:
        raise HandlerError("bad_parameter", f"apply_training_attendance: {problems[0]['field']}: "
                                            f"{problems[0]['message']}")
    _write_attendance(ctx.actor, row, entries, utcnow())
    return {"absentees": len(undecided(row)), "attended": sum(1 for p in row.participants if p.attendance == ATTENDED)}


@operation("apply_training_follow_up")
def apply_follow_up_step(ctx: ServiceContext, session_id: Any, decisions: Any) -> dict[str, Any]:
    """The follow-up decisions written: each absentee moved to a later session (invited) or excused."""
    row, now = _session_of(ctx, session_id), utcnow()
    if not isinstance(decisions, list) or not all(isinstance(d, dict) for d in decisions):
        raise HandlerError("bad_parameter", "apply_training_follow_up: 'decisions' must be a list")
    problems = follow_up_problems(row, decisions, now, "decisions", complete=False)
    if problems:
        raise HandlerError("bad_parameter", f"apply_training_follow_up: {problems[0]['field']}: "
                                            f"{problems[0]['message']}")
    return _apply_decisions(ctx.actor, row, decisions, now)


def session_of_case(case_id: int) -> TrainingSession | None:
    """The session a case of kind ``training`` runs (the task page links it)."""
    found: TrainingSession | None = db.session.scalar(select(TrainingSession).where(
        TrainingSession.process_case_id == case_id))
    return found


def _attendance_check(case_id: int, data: Any) -> list[dict[str, str]]:
    row = session_of_case(case_id)
    if row is None:
        return [{"field": "entries", "message": "this case runs no training session"}]
    return [{**p, "field": p["field"]} for p in _attendance_problems(row, data.get("entries") or [], "entries")]


def _follow_up_check(case_id: int, data: Any) -> list[dict[str, str]]:
    row = session_of_case(case_id)
    if row is None:
        return [{"field": "decisions", "message": "this case runs no training session"}]
    return follow_up_problems(row, data.get("decisions") or [], utcnow(), "decisions")


#: the two forms' rows are checked against the session when sent (422 naming e.g. data.entries.0.score)
forms.case_check("training_attendance", _attendance_check)
forms.case_check("training_follow_up", _follow_up_check)


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
