"""Assignment strategies a user task names in the diagram (its ``assignment`` property).

* ``round_robin``: the lane's users in turn (the oldest turn first, a turn row per role and user, cases/process/assignment.py);
* ``least_loaded``: the lane's user with the lightest load — their open tasks weighted by the
  priority of the task's case (urgent 4, high 3, medium 2, low 1, none yet 2); ties: the lower id;
* ``skills``: among the lane's users whose skills match the case — its category, or a product
  installed at its customer — the least loaded; nobody matches: the least loaded of the lane;
* ``on_duty``: among the lane's users on a shift of their roster now, the least loaded; users
  off duty (or without a roster) are skipped; nobody on duty: the task stays with the lane (any
  of its users may claim it) and the lane's supervisors are told (a ``nobody_on_duty`` event and
  an e-mail).

Whatever the strategy, a VIP customer's case goes to the customer's dedicated consultant when
that consultant holds the task's lane and is on duty (on a shift now, or without a roster).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case as when
from sqlalchemy import func, select

from cases.core import events
from cases.core.db import db, flush_for
from cases.core.models import Case, Role, Task, TaskState, User, UserRole, utcnow
from cases.customers.models import InstalledProduct
from cases.outbox import notifications
from cases.process import assignment
from cases.process.models import DutyShift, UserSkill
from cases.process.taskrules import STRATEGIES
from engine.model import UserTask

WEIGHTS = {"urgent": 4, "high": 3, "medium": 2, "low": 1}
UNCLASSIFIED_WEIGHT = 2


def weight(priority: str | None) -> int:
    """What one open task weighs in a user's load: its case's priority."""
    return WEIGHTS.get(priority or "", UNCLASSIFIED_WEIGHT)


@dataclass(frozen=True)
class ShiftHours:
    """One shift of a roster as plain values: a weekday (0 Monday) and local minutes [start, end)."""

    weekday: int
    start_minute: int
    end_minute: int
    timezone: str


def shift_covers(shifts: Sequence[ShiftHours], now: datetime, strict: bool) -> bool:
    """On a shift of these at ``now``; no shifts (no roster): ``not strict`` (regular hours)."""
    if not shifts:
        return not strict
    for shift in shifts:
        local = now.astimezone(ZoneInfo(shift.timezone))
        minute = local.hour * 60 + local.minute
        if local.weekday() == shift.weekday and shift.start_minute <= minute < shift.end_minute:
            return True
    return False


@dataclass(frozen=True)
class Choice:
    """Who a strategy gives a new task (None: the lane's pool), and why (a code: ``dedicated``,
    ``round_robin``, ``least_loaded``, ``skills``, ``skills_none_matched``, ``on_duty``,
    ``nobody_on_duty``, ``nobody_in_lane``)."""

    user_id: int | None
    why: str


@dataclass(frozen=True)
class Situation:
    """Everything a strategy looks at, as plain values or callables over user ids, so the live service
    (reading the database) and the what-if replay (reading history and a proposal) decide alike."""

    strategy: str
    people: Sequence[int]  # the lane's active users, by id
    now: datetime
    dedicated: int | None = None  # the VIP customer's dedicated consultant, if they hold the lane
    on_duty: Callable[[int, bool], bool] = lambda _user, strict: not strict
    matches: Callable[[int], bool] = lambda _user: False
    loads: Callable[[list[int]], Mapping[int, int]] = lambda ids: dict.fromkeys(ids, 0)
    next_in_turn: Callable[[], int | None] = lambda: None


def decide(s: Situation) -> Choice:
    """The one implementation of the strategies (live and replayed): the dedicated consultant of a VIP
    customer when on duty (or without a roster), else the strategy over the lane's users."""
    if s.dedicated is not None and s.on_duty(s.dedicated, False):
        return Choice(s.dedicated, "dedicated")
    if s.strategy == "round_robin":
        return Choice(s.next_in_turn(), "round_robin")
    people = list(s.people)
    why = s.strategy if s.strategy in STRATEGIES else "least_loaded"
    if s.strategy == "on_duty":
        people = [u for u in people if s.on_duty(u, True)]
        if not people:
            return Choice(None, "nobody_on_duty")
    elif s.strategy == "skills":
        matching = [u for u in people if s.matches(u)]
        people, why = (matching, why) if matching else (people, "skills_none_matched")
    if not people:
        return Choice(None, "nobody_in_lane")
    load = s.loads(people)
    return Choice(min(people, key=lambda u: (load[u], u)), why)


def oldest_turn(turns: Mapping[int, datetime | None]) -> int | None:
    """Round robin's pick among candidates' turns: the oldest turn (never given one: first), then the
    lower id — the order of ``assignment.next_user``'s query, for a replay that keeps turns in memory."""
    if not turns:
        return None
    return min(turns, key=lambda u: (turns[u] is not None, turns[u] or datetime.min, u))


def initial_assignee(user_task: UserTask, case: Case) -> User | None:
    """Who gets a new task first, by its ``assignment`` property (taskrules.ASSIGNMENT_RULES)."""
    rule = user_task.prop("assignment", "pool")
    if rule in STRATEGIES and user_task.lane:
        return choose(rule, user_task.lane, case)
    if rule == "case_owner":
        return case.owner
    return None


def choose(strategy: str, lane: str, case: Case, now: datetime | None = None) -> User | None:
    """The user the strategy gives a new task of ``lane`` on ``case`` (None: the lane's pool)."""
    now = now or utcnow()
    members = assignment.members(lane)  # the lane's users and their round-robin turns in one statement
    people = {u.id: u for u in members.users}
    dedicated = _dedicated(case, lane)
    picked: dict[int, User] = {}

    def next_in_turn() -> int | None:
        user = assignment.next_user(lane, members)
        if user is None:
            return None
        picked[user.id] = user
        return user.id

    choice = decide(Situation(strategy, list(people), now, dedicated.id if dedicated else None,
                              on_duty=lambda user_id, strict: on_duty(user_id, now, strict),
                              matches=lambda user_id: matches(user_id, case),
                              loads=loads, next_in_turn=next_in_turn))
    if choice.why == "nobody_on_duty":
        _nobody_on_duty(case, lane, now)
    if choice.user_id is None:
        return None
    if dedicated is not None and choice.user_id == dedicated.id:
        return dedicated
    return people.get(choice.user_id) or picked.get(choice.user_id)


def loads(user_ids: list[int]) -> dict[int, int]:
    """Each user's open tasks, weighted by the priority of the task's case."""
    if not user_ids:
        return {}
    weight = when(*((Case.priority == p, w) for p, w in WEIGHTS.items()), else_=UNCLASSIFIED_WEIGHT)
    flush_for(Task, Case)  # the step's own changes count (a task it completed, a priority it set)
    rows = db.session.execute(select(Task.assignee_id, func.sum(weight)).join(Case, Case.id == Task.case_id)
                              .where(Task.state == TaskState.OPEN.value, Task.assignee_id.in_(user_ids))
                              .group_by(Task.assignee_id)).all()
    found = {user_id: int(total or 0) for user_id, total in rows}
    return {user_id: found.get(user_id, 0) for user_id in user_ids}


def matches(user_id: int, case: Case) -> bool:
    skill = db.session.get(UserSkill, user_id)
    if skill is None:
        return False
    category = case.category or case.category_hint
    if category and category in (skill.categories or []):
        return True
    products = set(db.session.scalars(select(InstalledProduct.product)
                                      .where(InstalledProduct.customer_id == case.customer_id)))
    return bool(products & set(skill.products or []))


def shifts_of(user_id: int) -> list[ShiftHours]:
    return [ShiftHours(r.weekday, r.start_minute, r.end_minute, r.timezone)
            for r in db.session.scalars(select(DutyShift).where(DutyShift.user_id == user_id))]


def on_duty(user_id: int, now: datetime, strict: bool) -> bool:
    """On a shift of their roster at ``now``; without a roster: ``not strict`` (regular hours)."""
    return shift_covers(shifts_of(user_id), now, strict)


def _dedicated(case: Case, lane: str) -> User | None:
    """The VIP customer's dedicated consultant when they hold the lane (on duty or not: decide asks)."""
    if case.customer is None or case.customer.tier != "vip":
        return None
    user = assignment.dedicated_consultant(case.customer_id)
    if user is None or not user.has_role(lane):
        return None
    return user


def _nobody_on_duty(case: Case, lane: str, now: datetime) -> None:
    supervisors = list(db.session.scalars(select(User).join(UserRole).where(
        UserRole.role == Role.SUPERVISOR.value, User.active.is_(True)).order_by(User.id)))
    events.record(case, "nobody_on_duty", None, lane=lane, told=[u.username for u in supervisors])
    subject = f"[{case.number}] nobody of {lane} is on duty: the task waits in the lane / 无人值班"
    body = (f"Case {case.number} has a new task for {lane}, and nobody of {lane} is on duty "
            f"({now.isoformat()}). Any user of the lane may claim it.\n\n"
            f"案件 {case.number} 有一项新任务（{lane}），当前无人值班；该角色的任何用户都可以领取。")
    notifications.enqueue("nobody_on_duty", supervisors, subject, body, case=case)
