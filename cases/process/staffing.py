"""What the assignment strategies read, set by managers and admins: a staff member's skills, their
duty roster, and a customer's dedicated consultant. One transaction each, audited; every problem
comes back at once, naming its field."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import NotFound, ValidationFailed
from cases.core.models import CATEGORIES, Customer, Role, User, utcnow
from cases.process import assignment
from cases.process.models import DutyShift, UserSkill
from cases.sla.calendar_input import time_zones

SETTERS = (Role.MANAGER.value, Role.ADMIN.value)
READERS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.ADMIN.value)
MAX_ITEMS = 100
MAX_SHIFTS = 50
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Skills:
    username: str
    categories: list[str]
    products: list[str]


@dataclass(frozen=True)
class Shift:
    weekday: int
    start: str
    end: str


@dataclass(frozen=True)
class Roster:
    username: str
    timezone: str | None
    shifts: list[Shift]


@dataclass(frozen=True)
class Dedicated:
    customer_id: int
    username: str | None


def _staff(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_staff:
        raise NotFound(f"no staff user {username!r}", resource="user", id=username)
    return user


def read_skills(actor: User, username: str) -> Skills:
    require_role(actor, *READERS)
    user = _staff(username)
    row = db.session.get(UserSkill, user.id)
    return Skills(user.username, list(row.categories) if row else [], list(row.products) if row else [])


def check_skills(categories: Any, products: Any) -> list[dict[str, str]]:
    """What is wrong with a set of skills (fields ``categories.<i>``, ``products.<i>``), all at once."""
    problems: list[dict[str, str]] = []
    if not isinstance(categories, list) or len(categories) > MAX_ITEMS:
        problems.append({"field": "categories", "message": f"a list of at most {MAX_ITEMS} categories"})
    else:
        problems += [{"field": f"categories.{i}", "message": f"{c!r} is not one of: {', '.join(CATEGORIES)}"}
                     for i, c in enumerate(categories) if c not in CATEGORIES]
    if not isinstance(products, list) or len(products) > MAX_ITEMS:
        problems.append({"field": "products", "message": f"a list of at most {MAX_ITEMS} product names"})
    else:
        problems += [{"field": f"products.{i}", "message": "a product name of 1 to 100 characters"}
                     for i, p in enumerate(products) if not isinstance(p, str) or not 0 < len(p.strip()) <= 100]
    return problems


@use_case
def set_skills(actor: User, username: str, categories: list, products: list) -> Skills:
    require_role(actor, *SETTERS)
    user = _staff(username)
    if problems := check_skills(categories, products):
        raise ValidationFailed("the skills are not valid", problems)
    row = db.session.get(UserSkill, user.id) or UserSkill(user_id=user.id)
    row.categories = sorted(set(categories))
    row.products = sorted({p.strip() for p in products})
    row.updated_at = utcnow()
    db.session.add(row)
    audit.record(actor, "skills_set", user.username, categories=row.categories, products=row.products)
    return Skills(user.username, row.categories, row.products)


def _minute(text, end: bool) -> int | None:
    if end and text == "24:00":
        return 1440
    if not isinstance(text, str) or not _TIME.match(text):
        return None
    return int(text[:2]) * 60 + int(text[3:])


def _text(minute: int) -> str:
    return "24:00" if minute == 1440 else f"{minute // 60:02d}:{minute % 60:02d}"


def read_roster(actor: User, username: str) -> Roster:
    require_role(actor, *READERS)
    user = _staff(username)
    rows = list(db.session.scalars(select(DutyShift).where(DutyShift.user_id == user.id)
                                   .order_by(DutyShift.weekday, DutyShift.start_minute)))
    return Roster(user.username, rows[0].timezone if rows else None,
                  [Shift(r.weekday, _text(r.start_minute), _text(r.end_minute)) for r in rows])


def check_roster(zone: Any, shifts: Any) -> tuple[list[tuple[int, int, int, int]], list[dict[str, str]]]:
    """A roster's shifts as (weekday, start minute, end minute, index), and what is wrong with it
    (fields ``timezone``, ``shifts.<i>.<part>``), all at once."""
    problems: list[dict[str, str]] = []
    if not isinstance(zone, str) or zone not in time_zones():
        problems.append({"field": "timezone", "message": f"{zone!r} is not a time zone such as Asia/Shanghai"})
    if not isinstance(shifts, list) or len(shifts) > MAX_SHIFTS:
        problems.append({"field": "shifts", "message": f"a list of at most {MAX_SHIFTS} shifts"})
        shifts = []
    good: list[tuple[int, int, int, int]] = []
    for i, shift in enumerate(shifts):
        where = f"shifts.{i}"
        if not isinstance(shift, dict):
            problems.append({"field": where, "message": 'a shift is {"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}'})
            continue
        day, start, end = shift.get("weekday"), _minute(shift.get("start"), False), _minute(shift.get("end"), True)
        if type(day) is not int or not 0 <= day <= 6:
            problems.append({"field": f"{where}.weekday", "message": "0 (Monday) to 6 (Sunday)"})
        if start is None:
            problems.append({"field": f"{where}.start", "message": "a time HH:MM"})
        if end is None:
            problems.append({"field": f"{where}.end", "message": "a time HH:MM, or 24:00"})
        elif start is not None and end <= start:
            problems.append({"field": where, "message": "ends before it starts (an overnight shift is two shifts)"})
        elif type(day) is int and start is not None:
            good.append((day, start, end, i))
    for (d1, _s1, e1, _), (d2, s2, _e2, i) in zip(sorted(good), sorted(good)[1:], strict=False):
        if d1 == d2 and s2 < e1:
            problems.append({"field": f"shifts.{i}", "message": "overlaps another shift of the same day"})
    return sorted(good), problems


@use_case
def set_roster(actor: User, username: str, zone: str, shifts: list) -> Roster:
    """Replace the user's weekly roster (an empty list: no roster, never on duty for ``on_duty``)."""
    require_role(actor, *SETTERS)
    user = _staff(username)
    good, problems = check_roster(zone, shifts)
    if problems:
        raise ValidationFailed("the roster is not valid", problems)
    db.session.execute(delete(DutyShift).where(DutyShift.user_id == user.id))
    for day, start, end, _ in sorted(good):
        db.session.add(DutyShift(user_id=user.id, weekday=day, start_minute=start, end_minute=end, timezone=zone))
    db.session.flush()
    audit.record(actor, "roster_set", user.username, timezone=zone, shifts=len(good))
    return read_roster(actor, username)


def read_dedicated(actor: User, customer_id: int) -> Dedicated:
    require_role(actor, *READERS)
    customer = _customer(customer_id)
    user = assignment.dedicated_consultant(customer.id)
    return Dedicated(customer.id, user.username if user else None)


@use_case
def set_dedicated(actor: User, customer_id: int, username: str | None) -> Dedicated:
    """Name (or, with None, remove) the customer's dedicated consultant: an active service consultant."""
    require_role(actor, *SETTERS)
    customer = _customer(customer_id)
    user = None
    if username is not None:
        user = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None or not user.has_role(Role.SERVICE_CONSULTANT.value):
            raise ValidationFailed("not a consultant", [{"field": "username", "message":
                                                        f"{username!r} is not an active service consultant"}])
    old = assignment.dedicated_consultant(customer.id)
    assignment.set_dedicated_consultant(customer.id, user)
    audit.record(actor, "dedicated_consultant_set", customer.code, old=old.username if old else None,
                 new=user.username if user else None)
    return Dedicated(customer.id, user.username if user else None)


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found", resource="customer", id=customer_id)
    return customer
