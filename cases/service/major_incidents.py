"""Major incidents (seeds 002, 004: 启动紧急响应机制, 组织专项小组): one fault that affects many
cases, handled by a team of its own. Not the *incidents* of cases/process/incidents.py (a process
error of one instance).

- **declare** from a case: the incident's title, description, priority, the team, more cases;
- **link** the cases it affects (as they come in), each noted on its timeline;
- **the team**: its members work every staff task of the linked cases (``case_collaborators``,
  read by cases/process/taskrules.py and the inbox), kept in line whenever the team or the links change;
- **post an update**: a public one reaches every affected customer once, on the channel of one of
  their linked open cases (cases/outbox/replies.py), and is noted on every linked case;
- **resolve** with the incident's solution: each linked case's process moves on as if its
  resolve step were completed with that solution — the real completion path
  (cases/casework/tasks.py), each case in a savepoint of its own, each result reported; a case not
  at a resolvable step is reported, not forced;
- **its own SLA**: the active SLA policy's targets for the case kind ``major_incident``
  (first response: the first public update; resolution) and the policy's escalation ladder
  (cases/sla/ladder.py).

**A process the process owners can change** (processes/major_incident.bpmn): each incident runs as a
case of the internal kind ``major_incident`` of the service's own organisation
(``records.own_organisation``; ``MajorIncident.process_case``), owned by its lead (the declarer), its
team collaborating on it. Declared → the task "Work the incident" (form
``resolve_major_incident.schema.json``) with a non-interrupting boundary timer per rung of the ladder,
each waiting for the rung's moment ``<target>_<rung>_at`` computed here on the target's business
calendar and leading to the step ``major_incident_escalate`` (:func:`escalate_step`: records and mails
the rung once, unless the target was met) → Resolve on the incident's page or API completes the task →
the step ``resolve_major_incident`` (:func:`resolve_step`) resolves the incident and its linked cases →
end, which cancels the rungs still waiting. Incidents declared before the process was deployed get it
from the scheduler's service job (:func:`start_missing_processes`); rungs reached before are not
reached again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm.attributes import flag_modified

from cases.casework import intake
from cases.casework import tasks as work
from cases.core import events
from cases.core.access import require_role, visible_case
from cases.core.db import db, unit_of_work, use_case
from cases.core.errors import Conflict, DomainError, Forbidden, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import PRIORITIES, STAFF_ROLES, Case, Role, Task, TaskState, User, UserRole, utcnow
from cases.core.paging import Page, paginate
from cases.core.services import ServiceContext, operation
from cases.core.texts import N_
from cases.customers import records
from cases.kpis.figures import Period
from cases.outbox import notifications, replies
from cases.process import forms
from cases.process.deploy import current_version
from cases.process.models import CaseCollaborator, ProcessInstance
from cases.service import review, service_process
from cases.service.models import MajorIncident, MajorIncidentCase, MajorIncidentMember, MajorIncidentUpdate
from cases.sla import business_time, calendars
from cases.sla import ladder as sla_ladder
from cases.sla import policies as sla_policies
from engine.errors import HandlerError

#: who declares a major incident and leads it (besides its team members)
LEADS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.TECHNICAL_LEAD.value, Role.ADMIN.value)
OPEN, RESOLVED = "open", "resolved"
#: the forms of the steps an incident's resolution completes (the support case's "Analyse and resolve")
RESOLVE_FORMS = ("resolve.schema.json",)
CASE_KIND = "major_incident"  # the SLA policy's case kind for its own targets, and its process case's kind
#: the process (processes/major_incident.bpmn) and its lead's task
PROCESS = "major_incident"
WORK_TASK = "work_incident"
#: the targets and rungs the shipped diagram waits for (one boundary timer each, ``<target>_<rung>_at``)
TARGETS = ("first_response", "resolution")
DIAGRAM_RUNGS = (sla_ladder.WARNING, sla_ladder.BREACH, sla_ladder.AFTER)
#: where the resolve step leaves its per-case results for the caller, in the transaction's session
_RESULTS = "major_incident_results"
MAX_LINKS = 500
MAX_TEAM = 50
TEXT_LIMIT = 10000


def _source(incident: MajorIncident) -> str:
    return f"major_incident:{incident.id}"


def _problem(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed("the request is not valid", [{"field": field_name, "message": message}])


def get(incident_id: int, lock: bool = False) -> MajorIncident:
    query = select(MajorIncident).where(MajorIncident.id == incident_id)
    incident: MajorIncident | None = db.session.scalar(query.with_for_update(of=MajorIncident) if lock else query)
    if incident is None:
        raise NotFound(f"major incident {incident_id} not found", resource="major_incident", id=incident_id)
    return incident


def linked(incident: MajorIncident) -> list[MajorIncidentCase]:
    return list(db.session.scalars(select(MajorIncidentCase).where(MajorIncidentCase.incident_id == incident.id)
                                   .order_by(MajorIncidentCase.linked_at, MajorIncidentCase.case_id)))


def team(incident: MajorIncident) -> list[User]:
    """The team, by user name."""
    return list(db.session.scalars(select(User).join(MajorIncidentMember, MajorIncidentMember.user_id == User.id)
                                   .where(MajorIncidentMember.incident_id == incident.id).order_by(User.username)))


def updates(incident: MajorIncident, public_only: bool = False) -> list[MajorIncidentUpdate]:
    query = select(MajorIncidentUpdate).where(MajorIncidentUpdate.incident_id == incident.id)
    if public_only:
        query = query.where(MajorIncidentUpdate.public.is_(True))
    return list(db.session.scalars(query.order_by(MajorIncidentUpdate.at, MajorIncidentUpdate.id)))


def is_member(user: User, incident: MajorIncident) -> bool:
    return db.session.scalar(select(MajorIncidentMember.user_id).where(
        MajorIncidentMember.incident_id == incident.id, MajorIncidentMember.user_id == user.id)) is not None


def _require_lead_or_member(user: User, incident: MajorIncident) -> None:
    if user.has_role(*LEADS) or is_member(user, incident):
        return
    raise Forbidden("only the incident's team or a lead (supervisor, manager, technical lead, admin) may do this",
                    required_roles=list(LEADS))


def _check_version(incident: MajorIncident, version: int | None, required: bool = False) -> None:
    if version is None:
        if required:
            raise PreconditionRequired("send the incident version you saw (If-Match header or 'version')")
        return
    if version != incident.version:
        raise Conflict(f"major incident {incident.number} changed since version {version}; it is now at "
                       f"{incident.version}", code="stale_version", current_version=incident.version)


def _check_open(incident: MajorIncident) -> None:
    if not incident.is_open:
        raise Conflict(f"major incident {incident.number} is resolved", code="major_incident_resolved")


def _touch(incident: MajorIncident, now: datetime) -> None:
    """A change to the incident's links, team or updates moves its version (If-Match)."""
    incident.updated_at = now
    flag_modified(incident, "updated_at")  # an UPDATE even within the same instant


# -- checking input ------------------------------------------------------------------------------

def _users(usernames: Any, field_name: str) -> list[User]:
    if not isinstance(usernames, list) or len(usernames) > MAX_TEAM:
        raise _problem(field_name, f"a list of at most {MAX_TEAM} user names")
    found: list[User] = []
    problems = []
    for i, name in enumerate(usernames):
        user = db.session.scalar(select(User).where(User.username == name)) if isinstance(name, str) else None
        if user is None or not user.active or not user.is_staff:
            problems.append({"field": f"{field_name}.{i}", "message": f"no active staff user '{name}'"})
        elif user not in found:
            found.append(user)
    if problems:
        raise ValidationFailed("the request is not valid", problems)
    return found


def open_incident_of(case: Case) -> MajorIncident | None:
    """The open major incident ``case`` is linked to, if any."""
    return db.session.scalar(select(MajorIncident).join(
        MajorIncidentCase, MajorIncidentCase.incident_id == MajorIncident.id).where(
        MajorIncidentCase.case_id == case.id, MajorIncident.status == OPEN))


def _cases(case_ids: Any, field_name: str, incident: MajorIncident | None) -> list[Case]:
    if not isinstance(case_ids, list) or len(case_ids) > MAX_LINKS:
        raise _problem(field_name, f"a list of at most {MAX_LINKS} case ids")
    found: list[Case] = []
    problems = []
    for i, case_id in enumerate(case_ids):
        case = db.session.get(Case, case_id) if type(case_id) is int and 0 < case_id < 2**31 else None
        where = f"{field_name}.{i}"
        if case is None:
            problems.append({"field": where, "message": f"no case {case_id}"})
            continue
        other = open_incident_of(case)
        if other is not None and (incident is None or other.id != incident.id):
            problems.append({"field": where, "message": f"case {case.number} is linked to the open major "
                                                        f"incident {other.number}"})
        elif case not in found:
            found.append(case)
    if problems:
        raise ValidationFailed("the request is not valid", problems)
    return found


def _text(fields: dict[str, Any], name: str, limit: int, required: bool = True) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _problem(name, "required")
    if len(value) > limit:
        raise _problem(name, f"at most {limit} characters")
    return value.strip()


# -- declaring, linking, the team -----------------------------------------------------------------

@use_case
def declare(actor: User, case_id: int, fields: dict[str, Any]) -> MajorIncident:
    """Declare a major incident from the case ``case_id``: the case, the cases listed in
    ``link_cases`` and the team (``team``: user names; the declarer leads it) at once."""
    require_role(actor, *LEADS)
    origin = visible_case(actor, case_id)
    title = _text(fields, "title", 200)
    description = _text(fields, "description", TEXT_LIMIT)
    priority = fields.get("priority") or origin.priority or "urgent"
    if priority not in PRIORITIES:
        raise _problem("priority", f"one of: {', '.join(PRIORITIES)}")
    members = _users(fields.get("team", []), "team")
    others = _cases(fields.get("link_cases", []), "link_cases", None)
    if (other := open_incident_of(origin)) is not None:
        raise _problem("case_id", f"case {origin.number} is linked to the open major incident {other.number}")
    now = utcnow()
    incident = MajorIncident(title=title, description=description, priority=priority, status=OPEN,
                             origin_case_id=origin.id, origin_case=origin, declared_by_id=actor.id,
                             declared_at=now, updated_at=now, escalations=[], sla=_start_sla(priority, origin, now))
    db.session.add(incident)
    db.session.flush()
    events.record(origin, "major_incident_declared", actor, public=False, incident=incident.id,
                  number=incident.number, title=title, priority=priority)
    _add_members(incident, [actor, *members], now)
    _link(actor, incident, [origin, *others], now)
    _start_process(actor, incident, now)
    return incident


@use_case
def link(actor: User, incident_id: int, case_ids: Any, version: int | None = None) -> MajorIncident:
    """Link more cases to the open incident; its team works them from now on."""
    incident = get(incident_id, lock=True)
    _require_lead_or_member(actor, incident)
    _check_version(incident, version)
    _check_open(incident)
    cases = _cases(case_ids, "case_ids", incident)
    if not cases:
        raise _problem("case_ids", "name at least one case")
    now = utcnow()
    _link(actor, incident, cases, now)
    _touch(incident, now)
    return incident


def _link(actor: User, incident: MajorIncident, cases: list[Case], now: datetime) -> None:
    present = {row.case_id for row in linked(incident)}
    people = team(incident)
    for case in cases:
        if case.id in present:
            continue
        present.add(case.id)
        db.session.add(MajorIncidentCase(incident_id=incident.id, case_id=case.id, case=case, linked_at=now,
                                         linked_by_id=actor.id))
        events.record(case, "major_incident_linked", actor, public=True, incident=incident.id,
                      number=incident.number, title=incident.title)
        for user in people:
            _collaborate(incident, case.id, user.id, now)
    db.session.flush()


def _collaborate(incident: MajorIncident, case_id: int, user_id: int, now: datetime) -> None:
    source = _source(incident)
    if db.session.get(CaseCollaborator, (case_id, user_id, source)) is None:
        db.session.add(CaseCollaborator(case_id=case_id, user_id=user_id, source=source, added_at=now))


def _add_members(incident: MajorIncident, users: list[User], now: datetime) -> None:
    present = {u.id for u in team(incident)}
    for user in users:
        if user.id not in present:
            db.session.add(MajorIncidentMember(incident_id=incident.id, user_id=user.id, user=user, added_at=now))
            present.add(user.id)
    db.session.flush()


@use_case
def set_team(actor: User, incident_id: int, usernames: Any, version: int | None) -> MajorIncident:
    """The incident's team is exactly these users (the declarer too only if listed): they work every
    staff task of the linked cases, and nobody else by the incident's account."""
    incident = get(incident_id, lock=True)
    require_role(actor, *LEADS)
    _check_version(incident, version, required=True)
    _check_open(incident)
    users = _users(usernames, "team")
    if not users:
        raise _problem("team", "name at least one member")
    now = utcnow()
    db.session.execute(delete(MajorIncidentMember).where(MajorIncidentMember.incident_id == incident.id))
    db.session.execute(delete(CaseCollaborator).where(CaseCollaborator.source == _source(incident)))
    db.session.flush()
    _add_members(incident, users, now)
    for case_id in _worked_cases(incident):
        for user in users:
            _collaborate(incident, case_id, user.id, now)
    names = [u.username for u in users]
    for row in linked(incident):
        events.record(row.case, "major_incident_team", actor, incident=incident.id, number=incident.number,
                      team=names)
    _touch(incident, now)
    return incident


# -- updates to the customers --------------------------------------------------------------------

@use_case
def post_update(actor: User, incident_id: int, text: Any, public: bool = True) -> MajorIncidentUpdate:
    """An update on the incident. A public one reaches every affected customer once, on the
    channel of their earliest-linked open case; every linked case notes it on its timeline."""
    incident = get(incident_id, lock=True)
    _require_lead_or_member(actor, incident)
    _check_open(incident)
    body = _text({"text": text}, "text", 5000)
    now = utcnow()
    rows = linked(incident)
    reached = []
    if public:
        first_per_customer: dict[int, Case] = {}
        for row in rows:
            if row.case.is_open:
                first_per_customer.setdefault(row.case.customer_id, row.case)
        for case in first_per_customer.values():
            way = replies.notify(case, "major_incident_update", {"incident": incident.number,
                                                                "incident_title": incident.title,
                                                                "text": body}, actor)
            reached.append({"customer": case.customer.code, "case_number": case.number, "via": way.via, "to": way.to})
        _meet(incident, "first_response", now)
    update = MajorIncidentUpdate(incident_id=incident.id, at=now, author_id=actor.id, author=actor, text=body,
                                 public=public, reached=reached)
    db.session.add(update)
    for row in rows:
        events.record(row.case, "major_incident_update", actor, public=public, incident=incident.id,
                      number=incident.number, text=body)
    _touch(incident, now)
    db.session.flush()
    return update


# -- resolving ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseResult:
    case_id: int
    number: str | None
    outcome: str  # resolved | already_resolved | not_resolvable | failed
    detail: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Resolution:
    incident: MajorIncident
    results: list[CaseResult] = field(default_factory=list)


def resolve_data(incident: MajorIncident) -> dict[str, Any]:
    """What the resolve step of each linked case is completed with."""
    return {"analysis": incident.cause or incident.description, "solution": incident.solution, "outcome": "resolved",
            "contact_made": True, "service_mode": "remote", "time_spent_minutes": 0,
            "actions": f"Resolved with major incident {incident.number}: {incident.title}"[:TEXT_LIMIT]}


def resolve(actor: User, incident_id: int, fields: dict[str, Any], version: int | None) -> Resolution:
    """Resolve the incident with its solution: the open task "Work the incident" of its process is
    completed with ``fields`` (checked against the task's form: a 422 naming the field, nothing
    changed), and the process's step resolves each linked case. Calling it again on a resolved
    incident retries the cases that were not resolved."""
    with unit_of_work():
        _lock_process(incident_id)
        incident = get(incident_id, lock=True)
        _require_lead_or_member(actor, incident)
        _check_version(incident, version, required=True)
        if not incident.is_open:
            _join_team(actor, incident)
            return Resolution(incident, _resolve_cases(actor, incident))
        task = _open_work_task(incident)
        if task is None:  # no process (not deployed yet): resolved here, as its step would
            solution = _text(fields, "solution", TEXT_LIMIT)
            cause = _text(fields, "cause", TEXT_LIMIT, required=False)
            assert solution is not None  # required: _text refused it otherwise
            _join_team(actor, incident)
            return Resolution(incident, _resolve_open(actor, incident, solution, cause))
        data = {k: v for k, v in fields.items() if k != "version" and v is not None}
        _check_form(task, data)
        _join_team(actor, incident)
        work.complete_in_unit(actor, task.id, data, major_incident=incident.number)
        results: list[CaseResult] = db.session.info.get(_RESULTS, {}).pop(incident.id, [])
        return Resolution(incident, results)


def _lock_process(incident_id: int) -> None:
    """Lock the incident's process instance before the incident, in the order a firing rung takes
    them (the timer run locks the instance, its step the incident): two at once wait, never deadlock."""
    case_id = db.session.scalar(select(MajorIncident.process_case_id).where(MajorIncident.id == incident_id))
    if case_id is not None:
        db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case_id)
                          .with_for_update(of=ProcessInstance))


def _check_form(task: Task, data: dict[str, Any]) -> None:
    """``data`` against the task's form, the fields named as the API names them (``solution``)."""
    version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
    problems = forms.problems(version_id, task.form, data) if task.form and version_id is not None else []
    if problems:
        raise ValidationFailed("the resolution does not match its form", [
            {"field": p["field"].removeprefix("data."), "message": p["message"]} for p in problems])


def _join_team(actor: User, incident: MajorIncident) -> None:
    """A lead who resolves joins the team: they work the linked cases."""
    if is_member(actor, incident):
        return
    now = utcnow()
    _add_members(incident, [actor], now)
    for case_id in _worked_cases(incident):
        _collaborate(incident, case_id, actor.id, now)


def _resolve_open(actor: User, incident: MajorIncident, solution: str, cause: str | None) -> list[CaseResult]:
    now = utcnow()
    incident.status, incident.solution, incident.cause = RESOLVED, solution.strip(), (cause or "").strip() or None
    incident.resolved_at, incident.resolved_by_id = now, actor.id
    _touch(incident, now)
    _meet(incident, "resolution", now)
    _meet(incident, "first_response", now)
    db.session.flush()
    return _resolve_cases(actor, incident)


def _resolve_cases(actor: User, incident: MajorIncident) -> list[CaseResult]:
    """Each linked case not resolved yet, in a savepoint of its own: its result is kept on its link."""
    results = []
    for row in linked(incident):
        if row.outcome == "resolved":
            continue
        result = _resolve_case(actor, incident, row.case_id)
        row.outcome, row.outcome_detail = result.outcome, (result.detail or "")[:500]
        results.append(result)
    db.session.flush()
    return results


def _resolve_case(actor: User, incident: MajorIncident, case_id: int) -> CaseResult:
    case = db.session.get(Case, case_id)
    assert case is not None  # linked cases are never deleted
    if not case.is_open:
        return CaseResult(case.id, case.number, "already_resolved", "the case is closed", case.stage)
    task = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.state == TaskState.OPEN.value,
                                                Task.form.in_(RESOLVE_FORMS)).order_by(Task.created_at).limit(1))
    if task is None:
        return CaseResult(case.id, case.number, "not_resolvable",
                          f"the case is at '{case.stage}', not at a resolve step", case.stage)
    number = case.number
    try:
        with db.session.begin_nested():
            work.complete_in_unit(actor, task.id, resolve_data(incident), major_incident=incident.number)
            events.record(case, "major_incident_resolved", actor, public=True, incident=incident.id,
                          number=incident.number, solution=incident.solution)
    except DomainError as exc:
        return CaseResult(case_id, number, "failed", exc.message)
    return CaseResult(case.id, number, "resolved", None, case.stage)


# -- the process (processes/major_incident.bpmn) -------------------------------------------------

def _worked_cases(incident: MajorIncident) -> list[int]:
    """The cases the team works: the linked ones and the incident's own process case."""
    ids = [row.case_id for row in linked(incident)]
    return [*ids, incident.process_case_id] if incident.process_case_id is not None else ids


def _rung_variables(incident: MajorIncident) -> dict[str, str]:
    """The moment of every rung of the incident's ladder, as the diagram's timers read them:
    ``<target>_<rung>_at`` (ISO, on the target's business calendar, fixed at the declaration). A
    rung the shipped diagram waits for that the policy has not (a target it sets no promise for, a
    ladder of its own) comes at the target's due moment, or the declaration; its step reaches nothing."""
    values = {f"{target}_{rung}_at": incident.declared_at.isoformat() for target in TARGETS for rung in DIAGRAM_RUNGS}
    for target in incident.sla or []:
        for rung in DIAGRAM_RUNGS:
            values[f"{target['kind']}_{rung}_at"] = target["due_at"]
        for rung in target["ladder"]:
            values[f"{target['kind']}_{rung['name']}_at"] = rung["at"]
    return values


def _start_process(actor: User | None, incident: MajorIncident, now: datetime) -> Case | None:
    """Start the incident's process as a case of the own organisation led by its declarer. None when
    no deployed version has the process yet: the service job starts it once one has."""
    if current_version(PROCESS) is None:
        return None
    origin = incident.origin_case
    fields = {"channel": "internal", "title": incident.title[:200], "priority_hint": incident.priority,
              "description": f"Major incident {incident.number}, declared from case {origin.number}: "
                             f"{incident.description}"[:TEXT_LIMIT]}
    data = {"incident_id": incident.id, "incident_number": incident.number, **_rung_variables(incident),
            "solution": None, "cause": None}
    case = intake.start_case(records.own_organisation(), actor, fields, kind=CASE_KIND, data=data)
    incident.process_case, incident.process_case_id = case, case.id
    lead = incident.declared_by if incident.declared_by is not None and incident.declared_by.active else None
    if lead is not None:
        case.owner, case.owner_id = lead, lead.id
    for user in team(incident):
        _collaborate(incident, case.id, user.id, now)
    task = _open_work_task(incident)
    if task is not None and lead is not None and task.assignee_id is None:
        task.assignee, task.assignee_id = lead, lead.id
    events.record(origin, "major_incident_process", actor, incident=incident.id, number=incident.number,
                  case_number=case.number)
    db.session.flush()
    return case


def start_missing_processes() -> list[int]:
    """Open incidents without a process get one (declared before the process was deployed); the
    incidents started. Run by the scheduler's service job (cases/service/due.py). Rungs whose moment
    has passed come due on the next timer run; those reached already are not reached again."""
    if current_version(PROCESS) is None:
        return []

    def start_one(incident: MajorIncident) -> bool:
        if not incident.is_open or incident.process_case_id is not None:
            return False
        _start_process(None, incident, utcnow())
        return True

    return service_process.start_missing(MajorIncident, select(MajorIncident.id).where(
        MajorIncident.status == OPEN, MajorIncident.process_case_id.is_(None)).order_by(MajorIncident.id), start_one)


def _open_work_task(incident: MajorIncident) -> Task | None:
    return service_process.open_task(incident.process_case_id, WORK_TASK)


def work_task(incident: MajorIncident) -> Task | None:
    """The open "Work the incident" task (the incident page links it)."""
    return _open_work_task(incident)


def resolve_problems(incident: MajorIncident, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What is wrong with ``data`` for the open task's form (``cases.process.forms.problems``: the
    field as ``data.<name>``, the rule it breaks and its limit, for a page in either language)."""
    task = _open_work_task(incident)
    if task is None or not task.form:
        return []
    version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
    return forms.problems(version_id, task.form, data) if version_id is not None else []


def resolve_form(incident: MajorIncident) -> dict[str, Any] | None:
    """The JSON schema of the open task's form (the version it runs on): the incident page draws the
    fields a process owner added beside the solution and the cause. None: no open task."""
    task = _open_work_task(incident)
    if task is None or not task.form:
        return None
    version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
    return forms.schema(version_id, task.form) if version_id is not None else None


def _incident_of(ctx: ServiceContext, incident_id: int) -> MajorIncident:
    incident: MajorIncident | None = db.session.scalar(
        select(MajorIncident).where(MajorIncident.id == incident_id).with_for_update(of=MajorIncident))
    # (None: its process is starting: a rung already due runs in its first run)
    if incident is None or incident.process_case_id not in (None, ctx.case_id):
        raise HandlerError("bad_parameter", f"major incident {incident_id} is not run by this case")
    return incident


@operation("major_incident_escalate")
def escalate_step(ctx: ServiceContext, incident_id: int, target: str, rung: str) -> dict[str, Any]:
    """The process's step when a rung's timer fires: the rung is recorded and its people are told,
    once; not when the incident is resolved, the target met or the policy's ladder has no such rung."""
    incident = _incident_of(ctx, incident_id)
    return {"escalated": _escalate(incident, target, rung, utcnow())}


def _escalate(incident: MajorIncident, target_kind: str, rung_name: str, now: datetime) -> bool:
    if not incident.is_open:
        return False
    target = next((t for t in incident.sla or [] if t["kind"] == target_kind), None)
    if target is None or target["met_at"] is not None:
        return False
    rung = next((r for r in target["ladder"] if r["name"] == rung_name), None)
    if rung is None or any((e["target"], e["rung"]) == (target_kind, rung_name) for e in incident.escalations or []):
        return False
    kind = sla_ladder.kind_of(rung)
    people = _recipients(incident, rung.get("notify") or DEFAULT_NOTIFY[kind])
    notified = notifications.notify_escalation(
        kind, incident.origin_case, target["kind"], datetime.fromisoformat(target["due_at"]),
        calendars.get(target["calendar"]).timezone, people)
    incident.escalations = [*(incident.escalations or []), {"target": target_kind, "rung": rung_name, "kind": kind,
                                                            "at": now.isoformat(), "notified": notified}]
    events.record(incident.origin_case, "major_incident_escalated", None, incident=incident.id,
                  number=incident.number, target=target_kind, rung=rung_name, level=kind, notified=notified)
    return True


@operation("resolve_major_incident")
def resolve_step(ctx: ServiceContext, incident_id: int, solution: str, cause: str | None) -> dict[str, Any]:
    """The process's step after "Work the incident": the incident is resolved with the form's
    solution and every linked case at its resolve step with it, each reported."""
    incident, actor = _incident_of(ctx, incident_id), ctx.actor
    if actor is None or not (actor.has_role(*LEADS) or is_member(actor, incident)):
        raise HandlerError("not_allowed", "only the incident's team or a lead resolves it")
    if not incident.is_open:
        return {"resolved": 0, "results": []}
    _join_team(actor, incident)
    results = _resolve_open(actor, incident, solution, cause)
    db.session.info.setdefault(_RESULTS, {})[incident.id] = results
    return {"resolved": sum(1 for r in results if r.outcome == "resolved"),
            "results": [{"case_id": r.case_id, "number": r.number, "outcome": r.outcome} for r in results]}


# -- its own SLA -----------------------------------------------------------------------------------

def _start_sla(priority: str, origin: Case, now: datetime) -> list[dict[str, Any]]:
    """The active policy's targets for an incident of ``priority`` (case kind ``major_incident``,
    the origin's customer tier) and the policy's ladder, with each rung's instant."""
    policy = sla_policies.active()
    ladder = policy.ladder or sla_ladder.default(policy.warning_percent, policy.manager_after_minutes)
    targets = []
    for spec in policy.targets_for(priority, origin.customer.tier, now, CASE_KIND):
        if spec.kind == "next_update":
            continue
        calendar = calendars.get(spec.calendar)
        total = timedelta(minutes=spec.minutes)
        due = business_time.add(calendar, now, total)
        rungs = []
        for rung in ladder:
            at = (business_time.add(calendar, now, total * rung["at_percent"] / 100) if "at_percent" in rung else
                  business_time.add(calendar, due, timedelta(minutes=rung["after_breach_minutes"])))
            rungs.append({**rung, "at": at.isoformat()})
        targets.append({"kind": spec.kind, "minutes": spec.minutes, "calendar": spec.calendar,
                        "policy_version": policy.version, "started_at": now.isoformat(), "due_at": due.isoformat(),
                        "ladder": rungs, "met_at": None, "breached": False})
    return targets


def _meet(incident: MajorIncident, kind: str, now: datetime) -> None:
    targets = []
    for target in incident.sla or []:
        target = dict(target)
        if target["kind"] == kind and target["met_at"] is None:
            target["met_at"] = now.isoformat()
            target["breached"] = now > datetime.fromisoformat(target["due_at"])
        targets.append(target)
    incident.sla = targets


def sla_status(target: dict[str, Any], now: datetime) -> str:
    due = datetime.fromisoformat(target["due_at"])
    if target["met_at"] is not None:
        return "breached" if target["breached"] else "met"
    if now > due:
        return "breached"
    warnings = [datetime.fromisoformat(r["at"]) for r in target["ladder"] if sla_ladder.kind_of(r) == "warning"]
    return "at_risk" if warnings and now >= min(warnings) else "running"


def _recipients(incident: MajorIncident, who: str | None) -> list[User]:
    if who in (None, "case_owner"):
        people = [u for u in team(incident) if u.active]
        if people:
            return people
        who = "supervisor"
    role = {"supervisor": Role.SUPERVISOR.value, "manager": Role.MANAGER.value}.get(who or "", who)
    return list(db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                   .where(UserRole.role == role, User.active.is_(True)).order_by(User.id)))


#: who a rung of the default ladder tells: the team (warning), the supervisors (breach), the managers
DEFAULT_NOTIFY = {"warning": "case_owner", "breach": "supervisor", "manager": "manager"}


# -- reading -------------------------------------------------------------------------------------

def list_incidents(user: User, status: str | None, page: int, per_page: int) -> Page:
    """Staff: every incident; a customer: those affecting their organisation's cases."""
    query = select(MajorIncident)
    if status is not None:
        query = query.where(MajorIncident.status == status)
    if not user.is_staff:
        query = query.where(MajorIncident.id.in_(_customer_incidents(user)))
    return paginate(query.order_by(MajorIncident.declared_at.desc(), MajorIncident.id.desc()), page, per_page)


def _customer_incidents(user: User) -> Select[Any]:
    customer_id = user.customer_id if user.is_customer and user.customer_id is not None else -1
    return (select(MajorIncidentCase.incident_id).join(Case, Case.id == MajorIncidentCase.case_id)
            .where(Case.customer_id == customer_id))


@dataclass(frozen=True)
class IncidentView:
    incident: MajorIncident
    cases: list[MajorIncidentCase]
    team: list[User]
    updates: list[MajorIncidentUpdate]
    internal: bool
    may_lead: bool
    may_work: bool
    #: the open task "Work the incident" of its process (staff only; None: resolved, or no process)
    work_task: Task | None = None


def view(user: User, incident_id: int) -> IncidentView:
    """The incident as ``user`` may see it: a customer only when it affects their cases, only
    their cases and the public updates, never the team."""
    incident = get(incident_id)
    if user.is_staff:
        member = is_member(user, incident)
        return IncidentView(incident, linked(incident), team(incident), updates(incident), True,
                            user.has_role(*LEADS), user.has_role(*LEADS) or member, _open_work_task(incident))
    mine = [row for row in linked(incident) if user.is_customer and row.case.customer_id == user.customer_id]
    if not mine:
        raise NotFound(f"major incident {incident_id} not found", resource="major_incident", id=incident_id)
    return IncidentView(incident, mine, [], updates(incident, public_only=True), False, False, False)


def of_case(user: User, case_id: int) -> list[MajorIncident]:
    """The incidents a case is linked to (what the case page shows)."""
    case = visible_case(user, case_id)
    return list(db.session.scalars(select(MajorIncident).join(
        MajorIncidentCase, MajorIncidentCase.incident_id == MajorIncident.id).where(
        MajorIncidentCase.case_id == case.id).order_by(MajorIncident.id)))


def case_ids_by_number(numbers: list[str]) -> tuple[list[int], list[str]]:
    """The ids of the cases numbered ``numbers`` (in order), and the numbers no case has."""
    rows = db.session.execute(select(Case.number, Case.id).where(Case.number.in_(numbers))).all()
    found: dict[str | None, int] = {row.number: row.id for row in rows}
    return [found[n] for n in numbers if n in found], [n for n in numbers if n not in found]


def staff_users() -> list[User]:
    """Active staff, by user name: who may be named to a team."""
    staff = select(UserRole.user_id).where(UserRole.role.in_(sorted(STAFF_ROLES)))
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(staff))
                                   .order_by(User.username)))


# -- figures for the quarterly review -------------------------------------------------------------

def counts(start: datetime, end: datetime, customer_id: int | None = None) -> dict[str, Any]:
    """Declared and resolved in [start, end), their linked cases, and the times to resolve (seconds)."""
    query = select(MajorIncident).where(MajorIncident.declared_at >= start, MajorIncident.declared_at < end)
    if customer_id is not None:
        query = query.where(MajorIncident.id.in_(select(MajorIncidentCase.incident_id).join(
            Case, Case.id == MajorIncidentCase.case_id).where(Case.customer_id == customer_id)))
    incidents = list(db.session.scalars(query))
    resolved = [i for i in incidents if i.resolved_at is not None]
    durations = sorted((i.resolved_at - i.declared_at).total_seconds() for i in resolved if i.resolved_at)
    ids = [i.id for i in incidents]
    cases = db.session.scalar(select(func.count()).select_from(MajorIncidentCase).where(
        MajorIncidentCase.incident_id.in_(ids))) if ids else 0
    breached = sum(1 for i in incidents for t in i.sla or [] if t["kind"] == "resolution" and t["breached"])
    return {"declared": len(incidents), "resolved": len(resolved), "open": len(incidents) - len(resolved),
            "cases": cases or 0, "breached": breached,
            "mean_seconds": sum(durations) / len(durations) if durations else None,
            "max_seconds": durations[-1] if durations else None}


@review.section("major_incidents", 70)
def _review_section(period: Period, customer_id: int | None) -> review.Section:
    """Major incidents declared in the period (for a customer: those affecting their cases)."""
    found = counts(period.start, period.end, customer_id)
    return review.Section("major_incidents", N_("Major incidents"), figures=(
        review.Figure("declared", N_("Major incidents declared"), found["declared"]),
        review.Figure("resolved", N_("Of them resolved"), found["resolved"]),
        review.Figure("linked_cases", N_("Cases they affected"), found["cases"]),
        review.Figure("resolution_breached", N_("Resolved later than their SLA"), found["breached"],
                      target=0, higher_is_better=False),
        review.Figure("mean_time_to_resolve", N_("Average time to resolve"), found["mean_seconds"], "seconds"),
        review.Figure("longest_time_to_resolve", N_("Longest time to resolve"), found["max_seconds"], "seconds"),
    ))
