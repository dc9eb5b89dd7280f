"""A business calendar as an administrator sends it, checked field by field.

``check(fields)`` answers the values to store (intervals sorted, dates sorted and without
duplicates) or raises ValidationFailed listing every problem at once, each naming its field
the way the request spells it: ``timezone``, ``hours.0.1.0`` (Monday, second interval, start),
``extra_workdays.2``.
"""
from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import date
from typing import Any

import holidays

from cases.core.errors import ValidationFailed

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIELDS = ("description", "timezone", "hours", "holiday_country", "extra_holidays", "removed_holidays",
          "extra_workdays", "makeup_hours")
DATE_LISTS = ("extra_holidays", "removed_holidays", "extra_workdays")
END_OF_DAY = "24:00"
MAX_INTERVALS = 24  # per day
MAX_DATES = 1000  # per list
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


#: Names whose meaning depends on the host (its own zone, a placeholder, the raw tz database
#: layouts): a calendar must mean the same on every server.
HOST_DEPENDENT = frozenset({"localtime", "Factory", "posixrules", "Etc/Unknown"})
HOST_DEPENDENT_PREFIXES = ("posix/", "right/")


@functools.cache
def time_zones() -> frozenset[str]:
    return frozenset(zone for zone in zoneinfo.available_timezones()
                     if zone not in HOST_DEPENDENT and not zone.startswith(HOST_DEPENDENT_PREFIXES))


@functools.cache
def holiday_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, field: str | None, message: str) -> None:
        self.items.append({"field": field, "message": message})


def _minute(text: str, end: bool) -> int | None:
    """Minutes since midnight of "HH:MM"; "24:00" only as an end."""
    if end and text == END_OF_DAY:
        return 24 * 60
    if not _TIME.match(text):
        return None
    return int(text[:2]) * 60 + int(text[3:])


def _intervals(value: Any, field: str, label: str, problems: _Problems) -> list[list[str]]:
    """One day's intervals, sorted; every bad or overlapping interval is a problem."""
    if not isinstance(value, list):
        problems.add(field, f'{label}: a list of ["HH:MM", "HH:MM"] intervals, e.g. [["09:00", "17:00"]]')
        return []
    if len(value) > MAX_INTERVALS:
        problems.add(field, f"{label}: at most {MAX_INTERVALS} intervals")
        return []
    good = []
    for i, pair in enumerate(value):
        where = f"{field}.{i}"
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            problems.add(where, f'{label}: an interval is a pair ["HH:MM", "HH:MM"]')
            continue
        start, end = pair
        first, last = _minute(start, end=False), _minute(end, end=True)
        if first is None:
            problems.add(f"{where}.0", f"{label}: {start!r} is not a start time HH:MM (00:00-23:59)")
        if last is None:
            problems.add(f"{where}.1", f"{label}: {end!r} is not an end time HH:MM (00:01-24:00)")
        if first is None or last is None:
            continue
        if last == 0:
            problems.add(f"{where}.1", f"{label}: write the end of the day as 24:00, not 00:00")
        elif last <= first:
            problems.add(where, f"{label}: {start}-{end} ends before it starts")
        else:
            good.append((first, last, i, start, end))
    good.sort()
    for (_, last, _, a, b), (first, _, i, c, d) in zip(good, good[1:], strict=False):
        if first < last:
            problems.add(f"{field}.{i}", f"{label}: {c}-{d} overlaps {a}-{b}")
    return [[start, end] for *_, start, end in good]


def _dates(value: Any, field: str, problems: _Problems) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(field, "a list of dates YYYY-MM-DD")
        return []
    if len(value) > MAX_DATES:
        problems.add(field, f"at most {MAX_DATES} dates")
        return []
    found = set()
    for i, text in enumerate(value):
        day = None
        if isinstance(text, str) and _DATE.match(text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                pass
        if day is None:
            problems.add(f"{field}.{i}", f"{text!r} is not a date YYYY-MM-DD")
        else:
            found.add(day.isoformat())
    return sorted(found)


def _overlap(values: dict, one: str, other: str, message: str, problems: _Problems) -> None:
    both = sorted(set(values[one]) & set(values[other]))
    if both:
        problems.add(one, f"{', '.join(both)}: {message}")


def check(fields: dict[str, Any]) -> dict[str, Any]:
    """The calendar's column values, or ValidationFailed naming every problem."""
    problems = _Problems()
    for name in sorted(set(fields) - set(FIELDS)):
        problems.add(name, "unknown field")
    values: dict[str, Any] = {}

    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 500):
        problems.add("description", "text of at most 500 characters")
    values["description"] = description

    zone = fields.get("timezone")
    if isinstance(zone, str) and (zone in HOST_DEPENDENT or zone.startswith(HOST_DEPENDENT_PREFIXES)):
        problems.add("timezone", f"{zone!r} depends on the server it runs on; name a zone such as Asia/Shanghai")
    elif not isinstance(zone, str) or zone not in time_zones():
        problems.add("timezone", f"{zone!r} is not a known IANA time zone such as Asia/Shanghai or Europe/Berlin")
    values["timezone"] = zone

    hours = fields.get("hours")
    if not isinstance(hours, list) or len(hours) != 7:
        problems.add("hours", "seven lists of intervals, one per weekday from Monday to Sunday")
        values["hours"] = []
    else:
        values["hours"] = [_intervals(day, f"hours.{i}", WEEKDAYS[i], problems) for i, day in enumerate(hours)]
        if not any(day for day in hours):
            problems.add("hours", "no working time on any weekday: give at least one weekday working hours")

    makeup = fields.get("makeup_hours")
    values["makeup_hours"] = None if makeup is None else _intervals(makeup, "makeup_hours", "make-up days", problems)

    country = fields.get("holiday_country")
    if country is not None and (not isinstance(country, str) or country not in holiday_countries()):
        problems.add("holiday_country", f"{country!r} is not a country code the holidays package knows, e.g. CN")
    values["holiday_country"] = country

    for name in DATE_LISTS:
        values[name] = _dates(fields.get(name), name, problems)
    _overlap(values, "extra_workdays", "extra_holidays", "both an extra holiday and an extra workday", problems)
    _overlap(values, "removed_holidays", "extra_holidays", "both an extra and a removed holiday", problems)

    if problems.items:
        raise ValidationFailed("the calendar is not valid", problems.items)
    return values
