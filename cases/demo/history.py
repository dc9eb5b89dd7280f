"""Demo history: a few dozen cases over the last eight weeks, so the KPIs show something real.

Each case is opened and driven through the same use cases the API calls, with the clock frozen
at the moment each step happens (freezegun, from the development extra that ``make run``
installs): Shanghai working days, first responses and resolutions mostly within their SLA and
some late, solutions confirmed, rejected once, or left unanswered until the confirmation times
out, satisfaction scores from 1 to 5 (given on the callback, or through the survey link an online
callback mails, answered by the customer a few hours later; a score of 2 or less opens a complaint,
which is acknowledged, investigated, signed off and rated in turn), and recent or abandoned cases
still open. A step planned
after now is not taken, so the newest cases are still in progress. The draw is seeded: the same
day gives the same history.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from cases.casework import intake, surveys
from cases.casework import tasks as work
from cases.casework.models import Survey
from cases.core.db import db
from cases.core.errors import Conflict, Forbidden, ValidationFailed
from cases.core.models import Case, CaseKind, Customer, Task, TaskState, User, utcnow
from cases.process import forms, timers
from cases.process.models import ProcessInstance
from cases.sla import business_time, calendars

log = logging.getLogger("caseflow.demo")

WEEKS = 8
SEED = 20261122
TEAMS = {"consultant1": "华东", "consultant2": "华北"}
CONSULTANTS = ("consultant1", "consultant2")
AGENTS = ("agent1", "agent2")
#: categories the service order (analyse and resolve) handles
CATEGORIES = ("data_problem", "configuration_problem", "performance_problem")
PRIORITIES = (("urgent", 1), ("high", 3), ("medium", 5), ("low", 2))
SCORES = ((5, 45), (4, 33), (3, 11), (2, 7), (1, 4))
FATES = (("confirmed", 60), ("reopened", 12), ("need_info", 10), ("timed_out", 8), ("abandoned", 10))
#: business minutes of the built-in policy: (first response, resolution) per tier and priority
PROMISES = {
    ("standard", "urgent"): (60, 480), ("standard", "high"): (120, 960), ("standard", "medium"): (240, 960),
    ("standard", "low"): (480, 1920), ("vip", "urgent"): (15, 480), ("vip", "high"): (15, 960),
    ("vip", "medium"): (30, 960), ("vip", "low"): (30, 960),
}
TITLES = {
    "data_problem": [("库存报表与总账金额不一致", "三月份库存报表合计与总账不符。"),
                     ("Sales figures differ between two reports", "The monthly sales report and the dashboard disagree.")],
    "configuration_problem": [("发票编号规则需要调整", "请协助修改发票编号格式配置。"),
                              ("Approval workflow sends mail to the wrong group",
                               "Purchase approvals go to the old finance group.")],
    "performance_problem": [("月结过程非常缓慢", "月末结账需要四个多小时。"),
                            ("Order search takes a minute", "Searching orders by customer takes about 60 seconds.")],
}
CONFIRM_WAIT = timedelta(days=7)
COMPLAINT_STEPS = (
    ("acknowledge_complaint", {"acknowledgement": "非常抱歉给您带来不便，我们将在两个工作日内给您答复。",
                               "contact_channel": "phone", "severity": "medium"}),
    ("investigate_complaint", {"investigation": "回访时客户反映处理过程中沟通不及时。",
                               "response": "我们已调整回复流程，今后每天向您通报进展。",
                               "complaint_outcome": "partly_upheld", "remedy": "每日进展通报。"}),
    ("sign_off_complaint", {"decision": "approve"}),
)


@dataclass
class Plan:
    """One historic case: when it opens and the steps taken on it, each after a business-time delay."""

    customer: Customer
    opened: datetime
    channel: str
    priority: str
    category: str
    owner: str
    fate: str
    steps: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # (what, minutes, data)


def _pick(rng: random.Random, weighted) -> Any:
    values, weights = zip(*weighted, strict=False)
    return rng.choices(values, weights)[0]


def _plan(rng: random.Random, customer: Customer, opened: datetime) -> Plan:
    priority, category = _pick(rng, PRIORITIES), rng.choice(CATEGORIES)
    channel = rng.choice(("vip", "phone")) if customer.tier == "vip" else rng.choice(("web", "email", "phone", "chat"))
    plan = Plan(customer, opened, channel, priority, category, rng.choice(CONSULTANTS), _pick(rng, FATES))
    first, resolution = PROMISES[(customer.tier, priority)]
    late = rng.random() < 0.15
    plan.steps.append(("classify", max(2, round(first * (rng.uniform(1.1, 2.5) if late else rng.uniform(0.1, 0.9)))),
                       {"category": category, "priority": priority}))
    plan.steps.append(("assign", rng.randint(3, 20), {"owner": plan.owner}))
    work_minutes = round(resolution * (rng.uniform(1.1, 1.8) if rng.random() < 0.2 else rng.uniform(0.15, 0.6)))
    if plan.fate == "abandoned":
        del plan.steps[rng.randint(0, 2):]  # never classified, never assigned, or never worked on
        return plan
    if plan.fate == "need_info":
        plan.steps.append(("ask", work_minutes // 3, {}))
        plan.steps.append(("reply", rng.randint(60, 900), {}))
    plan.steps.append(("resolve", work_minutes // (2 if plan.fate == "need_info" else 1), {}))
    if plan.fate == "reopened":
        plan.steps.append(("reject", rng.randint(30, 600), {}))
        plan.steps.append(("resolve", rng.randint(60, 480), {}))
    if plan.fate == "timed_out":
        plan.steps.append(("time_out", 0, {}))
    else:
        plan.steps.append(("confirm", rng.randint(30, 960), {}))
    reached = rng.random() < 0.9
    minutes, channel = rng.randint(20, 240), rng.choice(("phone", "email", "online"))
    score = _pick(rng, SCORES) if reached else None
    plan.steps.append(("callback", minutes, {
        "reached": reached, "callback_channel": channel,
        **({"satisfaction": score} if reached and channel != "online" else {})}))
    later = random.Random(plan.opened.timestamp())  # the main draw stays as it was before surveys
    if reached and channel == "online":  # the survey link is answered a few hours later
        plan.steps.append(("survey", later.randint(30, 600), {"score": score}))
    if score is not None and score <= 2:  # a linked complaint opened: it runs its own process
        plan.steps += [(f"complaint:{element}", later.randint(30, 300), data) for element, data in COMPLAINT_STEPS]
        plan.steps.append(("complaint:survey", later.randint(60, 900), {"score": _pick(later, SCORES)}))
    return plan


def _plans(rng: random.Random, customers: list[Customer], now: datetime) -> list[Plan]:
    calendar = calendars.get(calendars.DEFAULT)
    today = now.astimezone(calendar.tz).date()
    plans = []
    for offset in range(WEEKS * 7, 0, -1):
        day: date = today - timedelta(days=offset)
        morning = datetime.combine(day, time(10), calendar.tz)
        if not business_time.is_working(calendar, morning):
            continue
        for _ in range(_pick(rng, ((0, 2), (1, 5), (2, 3)))):
            opened = datetime.combine(day, time(9), calendar.tz) + timedelta(minutes=rng.randint(5, 450))
            plans.append(_plan(rng, rng.choice(customers), opened))
    return sorted(plans, key=lambda p: p.opened)


# -- driving a case -------------------------------------------------------------------------------
SOLUTION = {"analysis": "Reproduced on a copy of the customer's data.", "solution": "Corrected and verified.",
            "outcome": "resolved", "contact_made": True, "service_mode": "remote",
            "actions": "Connected remotely, corrected the setting, checked with the user.", "time_spent_minutes": 45}


def _fitted(task: Task, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without the fields the task's form does not have (forms change with the process)."""
    version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
    known = forms.schema(version_id, task.form).get("properties")
    return payload if known is None else {k: v for k, v in payload.items() if k in known}


class Driver:
    def __init__(self, frozen, users: dict[str, User], now: datetime):
        self.frozen, self.users, self.now = frozen, users, now
        self.calendar = calendars.get(calendars.DEFAULT)

    def run(self, plan: Plan) -> None:
        self.frozen.move_to(plan.opened)
        opener = self.users[plan.customer.code.lower()] if plan.channel == "web" else self.users[AGENTS[0]]
        case = intake.open_case(opener, {
            "customer_id": plan.customer.id, "channel": plan.channel, "priority_hint": plan.priority,
            "title": TITLES[plan.category][plan.opened.day % 2][0],
            "description": TITLES[plan.category][plan.opened.day % 2][1],
            "environment": "Windows Server 2019, SQL Server 2017"})
        at, confirm_asked = plan.opened, None
        for what, minutes, data in plan.steps:
            if what == "time_out":
                at = confirm_asked + CONFIRM_WAIT + timedelta(minutes=1)
            else:
                at = business_time.add(self.calendar, at, timedelta(minutes=minutes))
            if at >= self.now:
                return  # not yet: the case is still at this step
            self.frozen.move_to(at)
            try:
                done = self._step(case, what, data, at)
            except (ValidationFailed, Forbidden, Conflict) as exc:  # the process or a form moved on
                log.warning("demo case %s stops before %s: %s", case.number, what, exc)
                return
            if not done and what != "assign":  # a VIP's dedicated consultant needs no assignment
                return
            if what == "resolve":
                confirm_asked = at

    def _step(self, case, what: str, data: dict, at: datetime) -> bool:
        if what.startswith("complaint:"):
            case, what = db.session.scalar(select(Case).where(
                Case.parent_case_id == case.id, Case.kind == CaseKind.COMPLAINT.value)), what.split(":", 1)[1]
            if case is None:
                return False
        if what == "survey":
            survey = db.session.scalar(select(Survey).where(Survey.case_id == case.id, Survey.answered_at.is_(None)))
            if survey is None:
                return False
            surveys.answer_as_customer(self.users[case.customer.code.lower()], survey.id, data["score"], None)
            return True
        if what == "reply":
            customer_user = self.users[case.customer.code.lower()]
            work.send_message(customer_user, case.id, "customer_reply", {"text": "Version 7.2, screenshot attached."})
            return True
        if what == "time_out":
            instance = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case.id))
            return bool(timers.fire_instance(instance, at))
        element = {"ask": "resolve", "reject": "confirm"}.get(what, what)
        task = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.state == TaskState.OPEN.value,
                                                    Task.element_id == element))
        if task is None:
            return False
        payload = {
            "assign": lambda: {**data, "due_at": (at + timedelta(days=3)).isoformat()},
            "ask": lambda: {**SOLUTION, "outcome": "need_info", "question": "请提供错误截图和版本号。"},
            "resolve": lambda: SOLUTION,
            "confirm": lambda: {"confirmed": True, "confirmation_comment": "问题已解决，谢谢。"},
            "reject": lambda: {"confirmed": False, "confirmation_comment": "The problem came back this morning."},
        }.get(what, lambda: data)()
        work.complete(self._actor(task, case), task.id, task.version, _fitted(task, payload))
        return True

    def _actor(self, task: Task, case) -> User:
        if task.assignee is not None:
            return task.assignee
        if task.lane == "customer":
            return self.users[case.customer.code.lower()]
        if task.lane == "service_consultant" and case.owner is not None:
            return case.owner
        return self.users[{"agent": AGENTS[case.id % 2], "supervisor": "supervisor",
                           "complaint_officer": "complaints"}.get(task.lane, CONSULTANTS[0])]


def load(users: dict[str, User], customers: dict[str, Customer]) -> int:
    """Open and drive the historic cases (inside the caller's unit of work); how many were opened."""
    try:
        from freezegun import freeze_time
    except ImportError:  # a production install: no development extra, no history
        log.warning("freezegun is not installed (pip install -e '.[dev]'): no demo history")
        return 0
    for username, team in TEAMS.items():
        users[username].team = team
    now = utcnow()
    plans = _plans(random.Random(SEED), sorted(customers.values(), key=lambda c: c.code), now)
    with freeze_time(plans[0].opened if plans else now) as frozen:
        driver = Driver(frozen, users, now)
        for plan in plans:
            driver.run(plan)
    return len(plans)
