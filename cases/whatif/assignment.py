"""Assignment proposals: who would have received each task of a period under another strategy, roster,
skills or dedicated consultant.

``{"strategies": {"<user task id or lane>": "least_loaded" | "round_robin" | "skills" | "on_duty"},
"rosters": {"<username>": {"timezone": ..., "shifts": [...]} | null}, "skills": {"<username>":
{"categories": [...], "products": [...]}}, "dedicated_consultants": {"<customer code or id>": "<username>" |
null}}`` — each part checked by the code the live API uses (cases/process/staffing.py).

The replay walks the period's task creations in time order from the stored tasks (their lane, element,
instant and closing instant, their case's priority, category and customer). Each task keeps its real open
interval; a strategy decides who would have received it — ``cases.process.strategies.decide``, the one
implementation the live service calls — with the loads of the simulated assignment so far, the rosters
at the task's instant, the round-robin turns kept in memory. Two such walks run side by side: the
**control** (the recorded strategies, rosters, skills and consultants) and the **proposal**; the control
must give back the recorded first assignee of every task a strategy assigned, and where it does not it
is counted and listed with the likely reason, never forced.

Tasks claimed, released or reassigned by hand keep the recorded holder from that moment on (in both
walks); tasks no strategy assigned (pool, the case owner) keep their recorded first holder unless the
proposal names a strategy for their step or lane.
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select

from cases.core.db import db
from cases.core.models import STAFF_ROLES, Case, CaseEvent, Customer, Role, Task, User, UserRole
from cases.customers.models import CustomerConsultant, InstalledProduct
from cases.process import staffing
from cases.process.models import DutyShift, ProcessInstance, ProcessVersion, UserSkill
from cases.process.strategies import Choice, ShiftHours, Situation, decide, oldest_turn, shift_covers, weight
from cases.process.taskrules import STRATEGIES
from cases.sla import calendars
from engine.specs import parse_files, user_task_infos

FIELDS = ("strategies", "rosters", "skills", "dedicated_consultants")
MAX_ITEMS = 200
EXAMPLES = 50
TIMEZONE = calendars.BUILTIN[calendars.DEFAULT].tz
HAND_EVENTS = ("task_claimed", "task_released", "task_assigned")
BATCH = 2000
COLUMNS = ("actual", "control", "proposal")


# -- the proposal -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Staffing:
    """Rosters, skills and dedicated consultants by id (the stored ones, or a proposal's over them)."""

    shifts: dict[int, list[ShiftHours]] = field(default_factory=dict)
    skills: dict[int, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    dedicated: dict[int, int | None] = field(default_factory=dict)  # customer id -> consultant id

    def over(self, base: Staffing) -> Staffing:
        return Staffing({**base.shifts, **self.shifts}, {**base.skills, **self.skills},
                        {**base.dedicated, **self.dedicated})


@dataclass(frozen=True)
class AssignmentProposal:
    strategies: dict[str, str]
    staffing: Staffing


def _where(*parts: Any) -> str:
    return ".".join(["proposal.assignment", *(str(p) for p in parts)])


def _step_ids() -> set[str]:
    """The user-task ids of every deployed process version (a strategy key may name one)."""
    found: set[str] = set()
    for files in db.session.scalars(select(ProcessVersion.files)):
        specs, _problems = parse_files({n: t.encode() for n, t in (files or {}).items()})
        found.update(info.element_id for info in user_task_infos(specs))
    return found


def _staff_ids(names: set[str]) -> dict[str, int]:
    return {u.username: u.id for u in db.session.scalars(select(User).where(User.username.in_(names)))
            if u.is_staff}


def check(value: Any, problems: list[dict[str, Any]]) -> tuple[AssignmentProposal | None, Any]:
    """``proposal.assignment``: the proposal, or problems naming ``proposal.assignment.<path>``."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        problems.append({"field": _where(), "message": "an object with strategies, rosters, skills, "
                                                       "dedicated_consultants"})
        return None, None
    before = len(problems)
    problems.extend({"field": _where(k), "message": "unknown field"} for k in sorted(set(value) - set(FIELDS)))
    parts = {}
    for name in FIELDS:
        part = value.get(name) or {}
        if not isinstance(part, dict) or len(part) > MAX_ITEMS:
            problems.append({"field": _where(name), "message": f"an object of at most {MAX_ITEMS} entries"})
            part = {}
        parts[name] = {str(k): v for k, v in part.items()}
    strategies: dict[str, str] = {}
    steps = _step_ids() if any(k not in STAFF_ROLES for k in parts["strategies"]) else set()
    for key, rule in sorted(parts["strategies"].items()):
        if key not in STAFF_ROLES and key not in steps:
            problems.append({"field": _where("strategies", key),
                             "message": f"{key!r} is neither a staff role (lane) nor a user task of a deployed process"})
        if rule not in STRATEGIES:
            problems.append({"field": _where("strategies", key), "message": f"{rule!r} is not one of: "
                                                                           f"{', '.join(STRATEGIES)}"})
        else:
            strategies[key] = rule
    users = _staff_ids(set(parts["rosters"]) | set(parts["skills"]) |
                       {v for v in parts["dedicated_consultants"].values() if isinstance(v, str)})
    shifts: dict[int, list[ShiftHours]] = {}
    for name, roster in sorted(parts["rosters"].items()):
        if name not in users:
            problems.append({"field": _where("rosters", name), "message": f"no staff user {name!r}"})
            continue
        if roster is None:
            shifts[users[name]] = []
            continue
        if not isinstance(roster, dict):
            problems.append({"field": _where("rosters", name), "message": '{"timezone": ..., "shifts": [...]} or null'})
            continue
        problems.extend({"field": _where("rosters", name, p["field"]), "message": p["message"]}
                        for p in [{"field": k, "message": "unknown field"} for k in sorted(set(roster) - {"timezone", "shifts"})])
        good, found = staffing.check_roster(roster.get("timezone"), roster.get("shifts"))
        problems.extend({"field": _where("rosters", name, p["field"]), "message": p["message"]} for p in found)
        if not found:
            shifts[users[name]] = [ShiftHours(d, s, e, roster["timezone"]) for d, s, e, _ in good]
    skills: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    for name, skill in sorted(parts["skills"].items()):
        if name not in users:
            problems.append({"field": _where("skills", name), "message": f"no staff user {name!r}"})
            continue
        if not isinstance(skill, dict):
            problems.append({"field": _where("skills", name), "message": '{"categories": [...], "products": [...]}'})
            continue
        found = staffing.check_skills(skill.get("categories", []), skill.get("products", []))
        problems.extend({"field": _where("skills", name, p["field"]), "message": p["message"]} for p in found)
        if not found:
            skills[users[name]] = (frozenset(skill.get("categories", [])),
                                   frozenset(p.strip() for p in skill.get("products", [])))
    dedicated: dict[int, int | None] = {}
    consultants = set(db.session.scalars(select(UserRole.user_id).join(User, User.id == UserRole.user_id).where(
        UserRole.role == Role.SERVICE_CONSULTANT.value, User.active.is_(True))))
    for key, name in sorted(parts["dedicated_consultants"].items()):
        customer = db.session.scalar(select(Customer.id).where(
            or_(Customer.code == key, Customer.id == (int(key) if key.isdigit() else -1))))
        if customer is None:
            problems.append({"field": _where("dedicated_consultants", key), "message": f"no customer {key!r}"})
        elif name is None:
            dedicated[customer] = None
        elif not isinstance(name, str) or users.get(name) not in consultants:
            problems.append({"field": _where("dedicated_consultants", key),
                             "message": f"{name!r} is not an active service consultant"})
        else:
            dedicated[customer] = users[name]
    if len(problems) > before:
        return None, None
    raw = {name: parts[name] for name in FIELDS if parts[name]}
    return AssignmentProposal(strategies, Staffing(shifts, skills, dedicated)), raw


# -- the history --------------------------------------------------------------------------------------
@dataclass(slots=True)
class TaskFacts:
    id: str
    case_number: str
    case_kind: str
    name: str
    element: str
    lane: str | None
    created_at: datetime
    closed_at: datetime | None
    weight: int
    category: str | None
    customer_id: int
    vip: bool
    rule: str  # the step's recorded assignment property
    first: int | None  # the recorded first holder (the task_created event's assignee)
    first_known: bool  # False: no task_created event; the current assignee stands in
    hand: list[tuple[datetime, int | None]] = field(default_factory=list)  # claimed / released / reassigned


@dataclass
class History:
    start: datetime
    end: datetime
    tasks: list[TaskFacts]  # created in the period, in creation order
    before: list[TaskFacts]  # open when the period starts (recorded holders, their load counts)
    lanes: dict[str, list[int]]
    names: dict[int, str]
    staffing: Staffing
    products: dict[int, frozenset[str]]
    turns: dict[str, dict[int, datetime | None]]


class Rules:
    """Each process version's assignment property per user task, read once per replay."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._found: dict[int, dict[str, str]] = {}

    def of(self, version_id: int | None, element: str) -> str:
        if version_id is None:
            return "pool"
        if version_id not in self._found:
            files = self._conn.scalar(select(ProcessVersion.files).where(ProcessVersion.id == version_id)) or {}
            specs, _ = parse_files({n: t.encode() for n, t in files.items()})
            self._found[version_id] = {i.element_id: i.properties.get("assignment", "pool")
                                       for i in user_task_infos(specs)}
        return self._found[version_id].get(element, "pool")


def _staffing(conn: Connection) -> Staffing:
    shifts: dict[int, list[ShiftHours]] = defaultdict(list)
    for r in conn.execute(select(DutyShift.user_id, DutyShift.weekday, DutyShift.start_minute, DutyShift.end_minute,
                                 DutyShift.timezone)):
        shifts[r.user_id].append(ShiftHours(r.weekday, r.start_minute, r.end_minute, r.timezone))
    skills = {r.user_id: (frozenset(r.categories or []), frozenset(r.products or []))
              for r in conn.execute(select(UserSkill.user_id, UserSkill.categories, UserSkill.products))}
    consultants = set(conn.scalars(select(UserRole.user_id).join(User, User.id == UserRole.user_id).where(
        UserRole.role == Role.SERVICE_CONSULTANT.value, User.active.is_(True))))
    dedicated: dict[int, int | None] = {r.customer_id: r.user_id for r in conn.execute(
        select(CustomerConsultant.customer_id, CustomerConsultant.user_id)) if r.user_id in consultants}
    return Staffing(dict(shifts), skills, dedicated)


def _task_rows(conn: Connection, *where: Any) -> Iterator[Any]:
    """Tasks with their case's facts, streamed ``BATCH`` rows at a time (a server-side cursor on
    PostgreSQL): one read of the table with its joins, no ORDER BY or LIMIT for a planner to get wrong.
    (Batches of 2,000 ids, ``IN (...)`` a query, cost PostgreSQL 10 s of its own for 200,000 tasks.)"""
    result = conn.execution_options(yield_per=BATCH).execute(
        select(Task.id, Task.name, Task.element_id, Task.lane, Task.created_at, Task.completed_at,
               Task.assignee_id, ProcessInstance.version_id, Case.number, Case.kind, Case.priority,
               Case.category, Case.category_hint, Case.customer_id, Case.tier_at_open, Customer.tier)
        .join(Case, Case.id == Task.case_id).join(Customer, Customer.id == Case.customer_id)
        .outerjoin(ProcessInstance, ProcessInstance.id == Task.instance_id).where(*where))
    for partition in result.partitions():
        yield from partition


def _facts(row: Any, rules: Rules) -> TaskFacts:
    return TaskFacts(row.id, row.number or "", row.kind, row.name, row.element_id, row.lane, row.created_at,
                     row.completed_at, weight(row.priority), row.category or row.category_hint, row.customer_id,
                     (row.tier_at_open or row.tier) == "vip", rules.of(row.version_id, row.element_id),
                     row.assignee_id, False)


def read(conn: Connection, start: datetime, end: datetime) -> History:
    """The period's tasks (any case kind: they share the people), the tasks still open when it starts,
    the staff by lane, the stored rosters, skills and consultants, and the round-robin turns each user
    of a lane had when the period started (their last round-robin task before it)."""
    rules = Rules(conn)
    tasks = [_facts(r, rules) for r in _task_rows(conn, Task.created_at >= start, Task.created_at < end)]
    before = [_facts(r, rules) for r in _task_rows(conn, Task.created_at < start, or_(
        Task.completed_at.is_(None), Task.completed_at > start))]
    by_id = {t.id: t for t in tasks}
    user_ids = {r.username: r.id for r in conn.execute(select(User.id, User.username))}
    order: dict[str, int] = {}
    events_read = conn.execution_options(yield_per=BATCH).execute(  # streamed, BATCH rows at a time
        select(CaseEvent.id, CaseEvent.at, CaseEvent.kind, CaseEvent.actor_id,
               CaseEvent.data["task_id"].as_string().label("task_id"),
               CaseEvent.data["assignee"].as_string().label("assignee"))
        .where(CaseEvent.at >= start, CaseEvent.at < end, CaseEvent.kind.in_(("task_created", *HAND_EVENTS))))
    hand: dict[str, list[tuple[datetime, int, int | None]]] = defaultdict(list)
    for events in events_read.partitions():  # the creation and hand events of the period, in any order
        for e in events:
            task = by_id.get(e.task_id or "")
            if task is None:
                continue
            if e.kind == "task_created":
                if task.id not in order or e.id < order[task.id]:
                    order[task.id] = e.id
                    task.first_known = True
                    task.first = user_ids.get(e.assignee) if e.assignee else None
            elif e.kind == "task_claimed":
                hand[task.id].append((e.at, e.id, e.actor_id))
            elif e.kind == "task_released":
                hand[task.id].append((e.at, e.id, None))
            else:
                hand[task.id].append((e.at, e.id, user_ids.get(e.assignee or "")))
    for task_id, changes in hand.items():
        by_id[task_id].hand = [(at, user) for at, _id, user in sorted(changes, key=lambda c: (c[0], c[1]))]
    tasks.sort(key=lambda t: (t.created_at, order.get(t.id, 0), t.id))
    lanes: dict[str, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for r in conn.execute(select(User.id, User.username, User.active, UserRole.role)
                          .outerjoin(UserRole, UserRole.user_id == User.id).order_by(User.id)):
        names[r.id] = r.username
        if r.active and r.role:
            lanes[r.role].append(r.id)
    products: dict[int, set[str]] = defaultdict(set)
    customers = {t.customer_id for t in tasks}
    for p in conn.execute(select(InstalledProduct.customer_id, InstalledProduct.product)):
        if p.customer_id in customers:
            products[p.customer_id].add(p.product)
    return History(start, end, tasks, before, dict(lanes), names, _staffing(conn),
                   {c: frozenset(p) for c, p in products.items()}, _turns(conn, start, rules))


def _turns(conn: Connection, start: datetime, rules: Rules) -> dict[str, dict[int, datetime | None]]:
    """Per lane, when each user last received a round-robin task before the period (a bounded look back
    of 90 days; the holder recorded on the task stands for the one it was given to)."""
    turns: dict[str, dict[int, datetime | None]] = defaultdict(dict)
    for r in conn.execute(select(Task.lane, Task.assignee_id, Task.element_id, ProcessInstance.version_id,
                                 Task.created_at)
                          .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
                          .where(Task.created_at < start, Task.created_at >= start - timedelta(days=90),
                                 Task.assignee_id.is_not(None))):
        if r.lane and rules.of(r.version_id, r.element_id) == "round_robin":
            seen = turns[r.lane].get(r.assignee_id)
            if seen is None or r.created_at > seen:
                turns[r.lane][r.assignee_id] = r.created_at
    return turns


# -- the walk ----------------------------------------------------------------------------------------
@dataclass
class Walk:
    """One simulated assignment of the period's tasks (the control or the proposal)."""

    history: History
    strategies: dict[str, str]
    staffing: Staffing
    received: list[int | None] = field(default_factory=list)  # per task, in order
    why: list[str] = field(default_factory=list)
    load: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    open_count: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    turns: dict[str, dict[int, datetime | None]] = field(default_factory=dict)
    nobody_on_duty: int = 0
    recorded_only: bool = False  # what happened: every task to its recorded first holder

    def rule(self, task: TaskFacts) -> str:
        if task.lane is None or task.lane not in STAFF_ROLES:
            return task.rule
        return self.strategies.get(task.element) or self.strategies.get(task.lane) or task.rule

    def on_duty(self, user: int, now: datetime, strict: bool) -> bool:
        return shift_covers(self.staffing.shifts.get(user, []), now, strict)

    def choose(self, task: TaskFacts) -> Choice:
        rule = self.rule(task)
        if self.recorded_only or rule not in STRATEGIES or task.lane is None:
            return Choice(task.first, "recorded")
        lane = task.lane
        people = self.history.lanes.get(lane, [])
        dedicated = self.staffing.dedicated.get(task.customer_id) if task.vip else None
        if dedicated is not None and dedicated not in people:
            dedicated = None
        skills = self.staffing.skills
        products = self.history.products.get(task.customer_id, frozenset())
        now = task.created_at

        def matches(user: int) -> bool:
            cats, prods = skills.get(user, (frozenset(), frozenset()))
            return bool((task.category and task.category in cats) or products & prods)

        def next_in_turn() -> int | None:
            turns = self.turns.setdefault(lane, dict(self.history.turns.get(lane, {})))
            user = oldest_turn({u: turns.get(u) for u in people})
            if user is not None:
                previous = turns.get(user)
                turns[user] = now if previous is None or now > previous else previous + timedelta(microseconds=1)
            return user

        choice = decide(Situation(rule, people, now, dedicated,
                                  on_duty=lambda user, strict: self.on_duty(user, now, strict), matches=matches,
                                  loads=lambda ids: {u: self.load[u] for u in ids}, next_in_turn=next_in_turn))
        if choice.why == "nobody_on_duty":
            self.nobody_on_duty += 1
        return choice

    def hold(self, user: int | None, task: TaskFacts, sign: int) -> None:
        if user is not None:
            self.load[user] += sign * task.weight
        self.open_count[user] += sign


def _walk(history: History, walks: list[Walk], sample: Any) -> None:
    """Every walk over the same instants: hourly samples, closes, hand changes, then creations."""
    queue: list[tuple[datetime, int, int, Any]] = []  # (instant, order, seq, payload)
    seq = 0

    def push(at: datetime, order: int, payload: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(queue, (at, order, seq, payload))

    for task in history.before:
        for w in walks:
            w.hold(task.first, task, 1)
        if task.closed_at is not None:
            push(task.closed_at, 1, ("close_before", task))
    for index, task in enumerate(history.tasks):
        push(task.created_at, 3, ("create", index))
    hour = history.start.replace(minute=0, second=0, microsecond=0)
    while hour < history.end:  # the top of every hour: what each walk holds then
        if hour >= history.start:
            push(hour, 0, ("sample", None))
        hour += timedelta(hours=1)
    holders: list[list[int | None]] = [[] for _ in walks]
    for w_holders in holders:
        w_holders.extend([None] * len(history.tasks))
    while queue:
        at, _order, _seq, (what, payload) = heapq.heappop(queue)
        if what == "sample":
            sample(at)
        elif what == "close_before":
            for w in walks:
                w.hold(payload.first, payload, -1)
        elif what == "create":
            task = history.tasks[payload]
            for i, w in enumerate(walks):
                choice = w.choose(task)
                w.received.append(choice.user_id)
                w.why.append(choice.why)
                holders[i][payload] = choice.user_id
                w.hold(choice.user_id, task, 1)
            for hand_at, user in task.hand:
                push(hand_at, 2, ("hand", (payload, user)))
            if task.closed_at is not None:
                push(task.closed_at, 1, ("close", payload))
        elif what == "hand":
            index, user = payload
            task = history.tasks[index]
            for i, w in enumerate(walks):
                w.hold(holders[i][index], task, -1)
                holders[i][index] = user
                w.hold(user, task, 1)
        else:
            task = history.tasks[payload]
            for i, w in enumerate(walks):
                w.hold(holders[i][payload], task, -1)
                holders[i][payload] = None


# -- the result --------------------------------------------------------------------------------------
REASONS = {
    "round_robin": "round robin: the turns before the period are read from each user's last round-robin task "
                   "(90 days back, its holder today standing for the one it was given to); an older turn, a "
                   "task reassigned since, or a user new to the lane changes whose turn it was",
    "least_loaded": "least loaded: the loads count today's priorities and tasks as recorded; a priority changed "
                    "since, or a task moved outside the history, changes who was lightest",
    "skills": "skills: today's skills and installed products decide; skills changed since the task",
    "skills_none_matched": "skills: nobody matched today's skills; the least loaded of the lane",
    "on_duty": "on duty: today's rosters decide; a roster changed since the task",
    "nobody_on_duty": "on duty: nobody on duty under today's rosters, the recorded task was assigned",
    "dedicated": "dedicated consultant: today's consultant of the customer (and today's tier)",
    "nobody_in_lane": "nobody of the lane is active today",
}


def _local(at: datetime) -> datetime:
    return at.astimezone(TIMEZONE)


def replay(history: History, proposal: AssignmentProposal) -> dict[str, Any]:
    """The control and the proposal walked over the same tasks, beside the recorded first holders."""
    recorded = Walk(history, {}, history.staffing, recorded_only=True)
    control = Walk(history, {}, history.staffing)
    proposed = Walk(history, proposal.strategies, proposal.staffing.over(history.staffing))
    walks = [recorded, control, proposed]
    hours: dict[str, dict[int | None, list[int]]] = {c: defaultdict(lambda: [0] * 24) for c in COLUMNS}
    samples = [0] * 24

    def sample(at: datetime) -> None:
        """At the top of each hour: the open tasks each person (None: the lane) holds in each walk."""
        hour = _local(at).hour
        samples[hour] += 1
        for column, w in zip(COLUMNS, walks, strict=True):
            for user, n in w.open_count.items():
                if n:
                    hours[column][user][hour] += n

    _walk(history, walks, sample)
    names = history.names

    def name(user: int | None) -> str | None:
        return names.get(user) if user is not None else None

    people: dict[str | None, dict[str, int]] = defaultdict(lambda: {"actual": 0, "control": 0, "proposal": 0})
    roles: dict[str, dict[str, int]] = defaultdict(lambda: {"tasks": 0, "actual": 0, "control": 0, "proposal": 0})
    by_day: dict[str | None, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: {"actual": 0, "proposal": 0}))
    by_hour: dict[str | None, dict[str, list[int]]] = defaultdict(lambda: {"actual": [0] * 24, "proposal": [0] * 24})
    mismatches: list[dict[str, Any]] = []
    mismatch_reasons: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    checked = mismatched = moved = moved_from_actual = by_hand = replayed = unknown_first = 0
    moved_cases: set[str] = set()
    for i, task in enumerate(history.tasks):
        actual, ctrl, prop = task.first, control.received[i], proposed.received[i]
        for column, user in (("actual", actual), ("control", ctrl), ("proposal", prop)):
            people[name(user)][column] += 1
        role = roles[task.lane or "none"]
        role["tasks"] += 1
        for column, user in (("actual", actual), ("control", ctrl), ("proposal", prop)):
            role[column] += user is not None  # given to a person (the rest wait in the lane)
        local = _local(task.created_at)
        for column, user in (("actual", actual), ("proposal", prop)):
            by_day[name(user)][local.date().isoformat()][column] += 1
            by_hour[name(user)][column][local.hour] += 1
        by_hand += bool(task.hand)
        unknown_first += not task.first_known
        replayed += proposed.why[i] != "recorded"
        if control.why[i] != "recorded":
            checked += 1
            if ctrl != actual:
                mismatched += 1
                mismatch_reasons[control.why[i]] += 1
                if len(mismatches) < EXAMPLES:
                    mismatches.append({"case": task.case_number, "task": task.id, "step": task.name,
                                       "element": task.element, "lane": task.lane, "rule": control.rule(task),
                                       "opened_at": task.created_at.isoformat(), "recorded": name(actual),
                                       "replayed": name(ctrl), "why": control.why[i],
                                       "reason": REASONS.get(control.why[i], control.why[i])})
        moved_from_actual += prop != actual
        if prop != ctrl:
            moved += 1
            moved_cases.add(task.case_number)
            if len(examples) < EXAMPLES:
                examples.append({"case": task.case_number, "task": task.id, "step": task.name,
                                 "element": task.element, "lane": task.lane,
                                 "opened_at": task.created_at.isoformat(), "actual": name(actual),
                                 "control": name(ctrl), "proposal": name(prop),
                                 "rule": {"control": control.rule(task), "proposal": proposed.rule(task)},
                                 "why": proposed.why[i]})
    open_by_hour = {column: {name(u) or "": [round(v / samples[h], 2) if samples[h] else 0.0
                                             for h, v in enumerate(values)]
                             for u, values in sorted(hours[column].items(), key=lambda kv: names.get(kv[0] or 0, ""))}
                    for column in COLUMNS}
    return {
        "tasks": len(history.tasks), "open_at_start": len(history.before), "replayed": replayed,
        "by_hand": by_hand, "first_holder_unknown": unknown_first,
        "control": {"equal": mismatched == 0, "checked": checked, "mismatched": mismatched,
                    "reasons": dict(mismatch_reasons), "mismatches": mismatches},
        "moved": {"tasks": moved, "cases": len(moved_cases), "tasks_from_actual": moved_from_actual,
                  "examples": examples},
        "nobody_on_duty": {"control": control.nobody_on_duty, "proposal": proposed.nobody_on_duty},
        "people": [{"key": k, **v} for k, v in sorted(people.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))],
        "roles": [{"key": k, **v} for k, v in sorted(roles.items())],
        "by_day": {k or "": {d: dict(v) for d, v in sorted(days.items())}
                   for k, days in sorted(by_day.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))},
        "by_hour": {k or "": v for k, v in sorted(by_hour.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))},
        "open_by_hour": open_by_hour,
    }


def limits(result: dict[str, Any]) -> list[dict[str, Any]]:
    """What the assignment replay could not know, counted."""
    found: list[dict[str, Any]] = [{
        "code": "assignment_today_staff", "count": None,
        "message": "Who holds each lane, the rosters, skills, installed products and dedicated consultants are "
                   "today's (the proposal's where it changes them); the loads weigh each task by its case's "
                   "priority today. Each task keeps its real open interval: the work is not re-timed."}]
    if result["by_hand"]:
        found.append({"code": "assignment_by_hand", "count": result["by_hand"],
                      "message": "Tasks claimed, released or reassigned by hand: from that moment they keep the "
                                 "recorded holder in the control and the proposal alike."})
    if result["first_holder_unknown"]:
        found.append({"code": "assignment_first_holder_unknown", "count": result["first_holder_unknown"],
                      "message": "Tasks without a recorded creation event: the current holder stands for the "
                                 "first one."})
    if result["nobody_on_duty"]["proposal"]:
        found.append({"code": "nobody_on_duty", "count": result["nobody_on_duty"]["proposal"],
                      "message": "Tasks no one of the lane would have been on duty for under the proposal: left "
                                 "with the lane (any of its users may claim them)."})
    return found
