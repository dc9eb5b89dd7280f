"""Business calendars by name: the ones an administrator stored, else the built-in ones.

``get(name)`` is what the SLA clock uses. A calendar row is turned into a
:class:`~cases.business_time.BusinessCalendar` (immutable); conversions are cached per row
version, so an edit takes effect at the next computation.

Administration (audited): ``list_calendars``, ``read``, ``store`` (create, replace or change
with the version seen; cases/process/calendar_edits.py makes it a use case and moves the running clocks
on the calendar), ``delete``; and for checking a calendar,
``preview`` (each date's kind and working intervals), ``compute_add`` and ``compute_between``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cases.core.access import require_role
from cases.core.db import db, transaction_rows
from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import STAFF_ROLES, Role, User, utcnow
from cases.core.texts import N_
from cases.sla import business_time, calendar_input
from cases.sla.business_time import BusinessCalendar
from cases.sla.models import Calendar

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT = "default"
ALWAYS_OPEN = "24x7"

#: Calendars every installation has; an administrator may override them by storing one of the
#: same name. "default": 09:00-17:00 on working days in China (holidays and make-up days from
#: the ``holidays`` package); "24x7": every instant counts.
BUILTIN: dict[str, BusinessCalendar] = {
    DEFAULT: BusinessCalendar(timezone=DEFAULT_TIMEZONE),
    ALWAYS_OPEN: BusinessCalendar.always_open(DEFAULT_TIMEZONE),
}


def parse_time(text: str) -> time:
    """"HH:MM" to a time; "24:00" is midnight at the end of the day (time(0))."""
    if text == "24:00":
        return time(0)
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _hours(intervals: list) -> tuple:
    return tuple((parse_time(start), parse_time(end)) for start, end in intervals)


def to_business_calendar(row: Calendar) -> BusinessCalendar:
    """The arithmetic's view of a stored calendar (ValueError when it is inconsistent)."""
    return _convert(row.name, row.version, row.timezone, tuple(tuple(map(tuple, day)) for day in row.hours),
                    row.holiday_country, tuple(row.extra_holidays or ()), tuple(row.removed_holidays or ()),
                    tuple(row.extra_workdays or ()),
                    None if row.makeup_hours is None else tuple(map(tuple, row.makeup_hours)))


@lru_cache(maxsize=256)
def _convert(name, version, timezone, hours, country, extra, removed, workdays, makeup) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=timezone, hours=[_hours(day) for day in hours], holiday_country=country,
        extra_holidays={date.fromisoformat(d) for d in extra},
        removed_holidays={date.fromisoformat(d) for d in removed},
        extra_workdays={date.fromisoformat(d) for d in workdays},
        makeup_hours=None if makeup is None else _hours(makeup))


def find(name: str) -> Calendar | None:
    """The stored calendar ``name`` (read once per transaction: a step asks for each target)."""
    rows: list[Calendar] = transaction_rows(Calendar, name, lambda: db.session.scalars(
        select(Calendar).where(Calendar.name == name)).all())
    return rows[0] if rows else None


def exists(name: str) -> bool:
    return name in BUILTIN or find(name) is not None


def get(name: str) -> BusinessCalendar:
    row = find(name)
    if row is not None:
        return to_business_calendar(row)
    if name in BUILTIN:
        return BUILTIN[name]
    raise NotFound(f"calendar {name!r} not found", resource="calendar", id=name)


# --- administration -------------------------------------------------------------------------
# Reading and previewing is for staff, changing for admins. A calendar's "version" is its row's
# version (0: not stored, the built-in one applies); replacing a stored calendar needs the
# version the administrator saw, like a task.

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$"
#: message ids (the pages translate them); a stored calendar's description is the administrator's own text
DESCRIPTIONS = {
    DEFAULT: N_("09:00-17:00 on working days in China (public holidays and make-up working days "
                "from the holidays package)"),
    ALWAYS_OPEN: N_("every instant counts"),
}
@dataclass(frozen=True)
class CalendarView:
    name: str
    builtin: bool  # the name is one of the built-in calendars
    overridden: bool  # ... and an administrator stored a calendar of that name, which applies
    version: int  # 0: nothing stored (the built-in calendar)
    description: str | None
    timezone: str
    hours: list
    holiday_country: str | None
    extra_holidays: list
    removed_holidays: list
    extra_workdays: list
    makeup_hours: list | None
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _text(moment: time, end: bool = False) -> str:
    return "24:00" if end and moment == time(0) else moment.strftime("%H:%M")


def _intervals_text(intervals) -> list:
    return [[_text(start), _text(end, end=True)] for start, end in intervals]


def _view(name: str, row: Calendar | None) -> CalendarView:
    builtin = name in BUILTIN
    if row is not None:
        return CalendarView(name, builtin, builtin, row.version, row.description, row.timezone, row.hours,
                            row.holiday_country, list(row.extra_holidays or ()), list(row.removed_holidays or ()),
                            list(row.extra_workdays or ()), row.makeup_hours, row.created_at, row.updated_at)
    cal = BUILTIN[name]
    return CalendarView(name, True, False, 0, DESCRIPTIONS.get(name), cal.timezone,
                        [_intervals_text(day) for day in cal.hours], cal.holiday_country,
                        *(sorted(d.isoformat() for d in getattr(cal, attr))
                          for attr in ("extra_holidays", "removed_holidays", "extra_workdays")),
                        None if cal.makeup_hours is None else _intervals_text(cal.makeup_hours))


def _require_staff(actor: User) -> None:
    require_role(actor, *sorted(STAFF_ROLES))


def list_calendars(actor: User) -> list[CalendarView]:
    """The built-in calendars and the stored ones, by name (a stored one overrides a built-in one)."""
    _require_staff(actor)
    rows = {row.name: row for row in db.session.scalars(select(Calendar))}
    return [_view(name, rows.get(name)) for name in sorted(set(BUILTIN) | set(rows))]


def read(actor: User, name: str) -> CalendarView:
    _require_staff(actor)
    row = find(name)
    if row is None and name not in BUILTIN:
        raise NotFound(f"calendar {name!r} not found", resource="calendar", id=name)
    return _view(name, row)


def check_seen(row_version: int, seen: int | None, name: str) -> None:
    if seen is None:
        raise PreconditionRequired(f"calendar {name!r} exists: send the version you saw (If-Match header)")
    if seen != row_version:
        raise Conflict(f"calendar {name!r} changed since version {seen}; it is now at {row_version}",
                       code="stale_version", current_version=row_version)


#: A PUT replaces the whole calendar: these fields must all be sent (description may be null or left out).
REQUIRED_FIELDS = ("timezone", "hours", "holiday_country", "extra_holidays", "removed_holidays", "extra_workdays",
                   "makeup_hours")
#: A calendar must reach every target that may be counted on it within this many days from now.
REACH_DAYS = 366
#: ... and give at least this much working time in that horizon even when no policy uses it yet.
MIN_REACH_MINUTES = 60


@dataclass(frozen=True)
class Stored:
    """What ``store`` did (the caller audits it): the calendar now, whether it was created, and the
    arithmetic that applied to the name before the change (None: the name meant nothing)."""
    view: CalendarView
    created: bool
    before: BusinessCalendar | None


def current_fields(name: str, row: Calendar | None) -> dict:
    view = _view(name, row)
    return {"description": view.description, "timezone": view.timezone, "hours": view.hours,
            "holiday_country": view.holiday_country, "extra_holidays": view.extra_holidays,
            "removed_holidays": view.removed_holidays, "extra_workdays": view.extra_workdays,
            "makeup_hours": view.makeup_hours}


def reachable_minutes(cal: BusinessCalendar, now: datetime) -> int:
    """Working minutes ``cal`` gives in the REACH_DAYS days from ``now`` (one bounded walk)."""
    return int(business_time.between(cal, now, now + timedelta(days=REACH_DAYS)).total_seconds() // 60)


def reach_problems(available: int, demands: list[tuple[str, int]], field: str | None = "hours") -> list[dict]:
    """The demands (what needs it, minutes) a calendar giving ``available`` minutes in REACH_DAYS
    days cannot meet."""
    return [{"field": field, "message": f"the calendar gives {available} working minutes in the next "
                                        f"{REACH_DAYS} days: too few for {what} ({minutes} minutes)"}
            for what, minutes in demands if minutes > available]


def store(actor: User, name: str, fields: dict, seen_version: int | None, partial: bool,
          demands: list[tuple[str, int]] = ()) -> Stored:
    """Create the calendar ``name`` or change it (then ``seen_version`` must be its version), in
    the caller's unit of work. ``partial`` (PATCH): the fields sent change the calendar as it is
    (a built-in one's values when it is not stored yet); else (PUT) the body is the whole calendar.
    ``demands``: the targets that will be counted on it, checked to be reachable (see reach_problems)."""
    require_role(actor, Role.ADMIN.value)
    if not re.match(NAME_PATTERN, name):
        raise ValidationFailed("bad calendar name", [{"field": "name", "message": "1-60 letters, digits, "
                                                      "'_', '.', '-', starting with a letter or digit"}])
    row = find(name)
    if row is not None:
        check_seen(row.version, seen_version, name)
    elif seen_version not in (None, 0):
        raise Conflict(f"calendar {name!r} is not stored (any more)", code="stale_version", current_version=0)
    if partial:
        if row is None and name not in BUILTIN:
            raise NotFound(f"calendar {name!r} not found: create it with PUT", resource="calendar", id=name)
        values = calendar_input.check({**current_fields(name, row), **fields})
    else:
        missing = [{"field": key, "message": "required: PUT replaces the whole calendar (PATCH changes parts)"}
                   for key in REQUIRED_FIELDS if key not in fields]
        try:  # the fields sent are checked too (the missing ones stand in from the default calendar)
            values = calendar_input.check({**current_fields(DEFAULT, None), "description": None, **fields})
        except ValidationFailed as exc:
            raise ValidationFailed("the calendar is not valid", missing + exc.errors) from exc
        if missing:
            raise ValidationFailed("the calendar is not complete", missing)
    before = to_business_calendar(row) if row is not None else BUILTIN.get(name)
    created = row is None
    if created:
        row = Calendar(name=name, created_at=utcnow())
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    try:
        after = to_business_calendar(row)  # the arithmetic accepts it (calendar_input checked the same rules)
    except ValueError as exc:
        raise ValidationFailed("the calendar is not valid", [{"field": None, "message": str(exc)}]) from exc
    demanded = [("a working hour", MIN_REACH_MINUTES), *demands]
    if problems := reach_problems(reachable_minutes(after, utcnow()), demanded):
        raise ValidationFailed("the calendar is too sparse", problems)
    try:
        db.session.flush()
    except IntegrityError as exc:  # PostgreSQL: created by someone else at the same time
        raise Conflict(f"calendar {name!r} was created at the same time; reload and retry",
                       code="concurrent_update") from exc
    return Stored(_view(name, row), created, before)


# --- checking a calendar: its days, and the arithmetic on it ----------------------------------

MAX_PREVIEW_DAYS = 400
MAX_SPAN_DAYS = 3660  # business time between two instants at most ten years apart
MAX_MINUTES = 365 * 24 * 60
FIRST_YEAR, LAST_YEAR = 1970, 2200


@dataclass(frozen=True)
class WorkingInterval:
    start: datetime  # local time, with the offset of that moment
    end: datetime
    start_utc: datetime
    end_utc: datetime


@dataclass(frozen=True)
class Day:
    date: date
    weekday: str
    kind: str  # workday | weekend | holiday | makeup_workday
    holiday_name: str | None
    working_minutes: int
    intervals: list[WorkingInterval]


@dataclass(frozen=True)
class Preview:
    calendar: str
    timezone: str
    days: list[Day]


@dataclass(frozen=True)
class Sum:
    calendar: str
    timezone: str
    start: datetime
    minutes: int
    due: datetime  # UTC
    due_local: datetime


@dataclass(frozen=True)
class Span:
    calendar: str
    timezone: str
    start: datetime
    end: datetime
    seconds: float
    minutes: float


# The API checks its query parameters with these too, so both name the same problems.

def day_range_problems(first: date, last: date) -> list[dict]:
    problems = [{"field": name, "message": f"a date from {FIRST_YEAR} to {LAST_YEAR}"}
                for name, day in (("from", first), ("to", last)) if not FIRST_YEAR <= day.year <= LAST_YEAR]
    if not problems and last < first:
        problems.append({"field": "to", "message": "before 'from'"})
    elif not problems and (last - first).days >= MAX_PREVIEW_DAYS:
        problems.append({"field": "to", "message": f"at most {MAX_PREVIEW_DAYS} days from 'from'"})
    return problems


def instant_problems(**instants: datetime) -> list[dict]:
    return [{"field": name, "message": f"an instant with a time zone offset, from {FIRST_YEAR} to {LAST_YEAR}"}
            for name, value in instants.items()
            if value.tzinfo is None or value.utcoffset() is None or not FIRST_YEAR <= value.year <= LAST_YEAR]


def add_problems(start: datetime, minutes: int) -> list[dict]:
    problems = instant_problems(start=start)
    if not 0 <= minutes <= MAX_MINUTES:
        problems.append({"field": "minutes", "message": f"from 0 to {MAX_MINUTES} (365 days)"})
    return problems


def between_problems(start: datetime, end: datetime) -> list[dict]:
    problems = instant_problems(start=start, end=end)
    if not problems and end - start > timedelta(days=MAX_SPAN_DAYS):
        problems.append({"field": "end", "message": f"at most {MAX_SPAN_DAYS} days after 'start'"})
    return problems


def _refuse(problems: list[dict]) -> None:
    if problems:
        raise ValidationFailed("the request is not valid", problems)


@lru_cache(maxsize=64)
def _holiday_names(country: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=year))


def _kind(cal: BusinessCalendar, day: date) -> str:
    if day in cal.extra_workdays:
        return "makeup_workday"
    if cal.is_holiday(day):
        return "holiday"
    if cal.is_makeup_workday(day):
        return "makeup_workday"
    return "workday" if cal.hours[day.weekday()] else "weekend"


def _day(cal: BusinessCalendar, day: date) -> Day:
    kind = _kind(cal, day)
    name = None
    if kind == "holiday":
        official = _holiday_names(cal.holiday_country, day.year) if cal.holiday_country else {}
        name = "extra holiday" if day in cal.extra_holidays else official.get(day)
    intervals = [WorkingInterval(start.astimezone(cal.tz), end.astimezone(cal.tz), start, end)
                 for start, end in cal.intervals_on(day)]
    seconds = sum((i.end_utc - i.start_utc).total_seconds() for i in intervals)
    return Day(day, day.strftime("%A"), kind, name, int(seconds // 60), intervals)


def preview(actor: User, name: str, first: date, last: date) -> Preview:
    """Every date from ``first`` to ``last`` (included): its kind and working intervals."""
    _require_staff(actor)
    _refuse(day_range_problems(first, last))
    cal = get(name)
    days = [_day(cal, first + timedelta(days=n)) for n in range((last - first).days + 1)]
    return Preview(name, cal.timezone, days)


def compute_add(actor: User, name: str, start: datetime, minutes: int) -> Sum:
    """When ``minutes`` of business time have passed after ``start``."""
    _require_staff(actor)
    _refuse(add_problems(start, minutes))
    cal = get(name)
    try:
        due = business_time.add(cal, start, timedelta(minutes=minutes))
    except ValueError as exc:  # no working time for years
        raise ValidationFailed("no due time", [{"field": "minutes", "message": str(exc)}]) from exc
    return Sum(name, cal.timezone, start.astimezone(timezone.utc), minutes, due, due.astimezone(cal.tz))


def compute_between(actor: User, name: str, start: datetime, end: datetime) -> Span:
    """Business time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
    _require_staff(actor)
    _refuse(between_problems(start, end))
    cal = get(name)
    seconds = business_time.between(cal, start, end).total_seconds()
    return Span(name, cal.timezone, start.astimezone(timezone.utc), end.astimezone(timezone.utc),
                seconds, seconds / 60)
