"""Business calendars by name: the ones an administrator stored, else the built-in ones.

``get(name)`` is what the SLA clock uses. A calendar row is turned into a
:class:`~cases.business_time.BusinessCalendar` (immutable); conversions are cached per row
version, so an edit takes effect at the next computation.
"""
from __future__ import annotations

from datetime import date, time
from functools import lru_cache

from sqlalchemy import select

from .business_time import BusinessCalendar
from .db import db
from .errors import NotFound
from .models import Calendar

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
    return db.session.scalar(select(Calendar).where(Calendar.name == name))


def exists(name: str) -> bool:
    return name in BUILTIN or find(name) is not None


def get(name: str) -> BusinessCalendar:
    row = find(name)
    if row is not None:
        return to_business_calendar(row)
    if name in BUILTIN:
        return BUILTIN[name]
    raise NotFound(f"calendar {name!r} not found", resource="calendar", id=name)
