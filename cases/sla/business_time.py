"""Business time: working hours, public holidays and make-up working days (调休).

A pure module (standard library, ``zoneinfo`` and the ``holidays`` package) for the SLA
clocks of DOMAIN.md "Time promises", e.g. "solved within 2 working days".

Decisions:

* Working hours are wall-clock intervals in the calendar's time zone, per weekday
  (Mon..Sun).  An interval ending at ``time(0)`` ends at midnight (24:00); intervals do not
  cross midnight (split 22:00-06:00 into 22:00-24:00 and 00:00-06:00).
* Business time is real elapsed time inside those intervals: on a DST day a 00:00-12:00
  interval lasts 11 or 13 hours, and a 24x7 calendar counts exactly the real elapsed time.
  Wall-clock times that do not exist or are ambiguous resolve as ``zoneinfo`` does with
  ``fold=0``; an interval that would then overlap the previous one is clipped.
* A day's hours are chosen in this order: a date in ``extra_workdays`` works with
  ``makeup_hours``; a holiday (official, or in ``extra_holidays``, unless in
  ``removed_holidays``) is closed; an official make-up working day works with
  ``makeup_hours``; otherwise the weekday's hours.  ``makeup_hours`` defaults to Monday's.
* Official holidays and make-up working days come from ``holidays.country_holidays`` for
  ``holiday_country`` ("CN" by default, None for none); for make-up days the package's
  ``weekend_workdays`` is used (the package only knows officially announced years; later
  years have estimated holidays and no make-up days - add them via ``extra_workdays``).
* Working intervals are half-open ``[start, end)``: 09:00 is working time, 17:00 is not.
  ``add`` returns the end of a working interval when the duration runs out exactly there
  (17:00, not the next day's 09:00), so ``between(s, add(s, d)) == d`` always holds.
  ``add(s, timedelta(0))`` is ``next_working_moment(s)``; a negative duration is an error.
* Inputs must be timezone-aware (ValueError otherwise); results are returned in UTC.
* A calendar without any working hours is rejected; ``add`` and ``next_working_moment``
  raise ValueError when no working time exists within ``MAX_IDLE_DAYS`` days.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["BusinessCalendar", "add", "between", "is_working", "next_working_moment"]

MAX_IDLE_DAYS = 3660  # ten years without a single working moment -> ValueError
MAX_HORIZON_DAYS = 3660  # add() looks no further than ten years ahead -> ValueError
MIDNIGHT = time(0)
Hours = tuple[tuple[time, time], ...]

_NINE_TO_FIVE: Hours = ((time(9), time(17)),)
DEFAULT_HOURS: tuple[Hours, ...] = (_NINE_TO_FIVE,) * 5 + ((), ())


def _normalize_hours(intervals: Iterable[Sequence[time]]) -> Hours:
    result = tuple((start, end) for start, end in intervals)
    previous_end = MIDNIGHT
    for i, (start, end) in enumerate(result):
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"working hours must be datetime.time pairs: {result!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working hours are wall-clock times without tzinfo")
        if previous_end == MIDNIGHT and i > 0:
            raise ValueError(f"working interval after one ending at midnight: {result!r}")
        if start < previous_end or (end != MIDNIGHT and end <= start):
            raise ValueError(f"working intervals must be ordered and not overlap: {result!r}")
        previous_end = end
    return result


@lru_cache(maxsize=512)
def _official(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Official holidays and make-up working days of one year."""
    calendar = holidays.country_holidays(country, years=year)
    return (
        frozenset(d for d in calendar if d.year == year),
        frozenset(d for d in calendar.weekend_workdays if d.year == year),
    )


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours of one organisation; immutable and hashable."""

    timezone: str = "Asia/Shanghai"
    hours: Sequence[Iterable[Sequence[time]]] = DEFAULT_HOURS  # Mon..Sun
    holiday_country: str | None = "CN"
    extra_holidays: Iterable[date] = frozenset()
    removed_holidays: Iterable[date] = frozenset()
    extra_workdays: Iterable[date] = frozenset()
    makeup_hours: Iterable[Sequence[time]] | None = None  # None: Monday's hours
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    effective_makeup_hours: Hours = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)
        try:
            set_("tz", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if len(self.hours) != 7:
            raise ValueError("hours needs one list of intervals per weekday, Mon..Sun")
        set_("hours", tuple(_normalize_hours(day) for day in self.hours))
        if self.makeup_hours is not None:
            set_("makeup_hours", _normalize_hours(self.makeup_hours))
        set_("effective_makeup_hours",
             self.hours[0] if self.makeup_hours is None else self.makeup_hours)
        for name in ("extra_holidays", "removed_holidays", "extra_workdays"):
            set_(name, frozenset(getattr(self, name)))
        if self.extra_holidays & self.extra_workdays:
            raise ValueError("a date cannot be both an extra holiday and an extra workday")
        if self.holiday_country is not None:
            try:
                _official(self.holiday_country, 2000)  # fail early on an unknown country
            except NotImplementedError as exc:
                raise ValueError(f"unknown holiday country {self.holiday_country!r}") from exc
        makeup_possible = self.extra_workdays or self.holiday_country is not None
        if not any(self.hours) and not (self.effective_makeup_hours and makeup_possible):
            raise ValueError("the calendar has no working time at all")

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar: every instant is working time."""
        return cls(timezone=timezone, hours=(((MIDNIGHT, MIDNIGHT),),) * 7,
                   holiday_country=None)

    def is_holiday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return True
        if self.holiday_country is None or day in self.removed_holidays:
            return False
        return day in _official(self.holiday_country, day.year)[0]

    def is_makeup_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if self.holiday_country is None or self.is_holiday(day):
            return False
        return day in _official(self.holiday_country, day.year)[1]

    def hours_on(self, day: date) -> Hours:
        """The wall-clock working intervals of one local date."""
        if day in self.extra_workdays:
            return self.effective_makeup_hours
        if self.is_holiday(day):
            return ()
        if self.is_makeup_workday(day):
            return self.effective_makeup_hours
        return self.hours[day.weekday()]

    def intervals_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals of one local date as UTC instants (possibly empty)."""
        return iter(_day_intervals(self, day))

    def intervals(self, start: datetime, until: datetime | None = None
                  ) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals after ``start`` in order, clipped to begin at ``start``.

        Without ``until`` the walk is endless but raises ValueError after
        ``MAX_IDLE_DAYS`` days without working time; with ``until`` it stops there."""
        start = _utc(start)
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        last_end, idle = start, 0
        while True:
            if until is not None and datetime.combine(day, MIDNIGHT, self.tz) >= until:
                return
            found = False
            for s, e in self.intervals_on(day):
                s = max(s, last_end)
                if e > s:
                    found, last_end = True, e
                    yield s, e
            idle = 0 if found else idle + 1
            if until is None and idle > MAX_IDLE_DAYS:
                raise ValueError(f"no working time within {MAX_IDLE_DAYS} days after {start}")
            day += timedelta(days=1)


@lru_cache(maxsize=65536)
def _day_intervals(calendar: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """One local date's working intervals as UTC instants, remembered per calendar (an immutable,
    hashable value) and date: a replay of many cases walks the same days again and again."""
    found = []
    for start, end in calendar.hours_on(day):
        end_day = day + timedelta(days=1) if end == MIDNIGHT else day
        first = datetime.combine(day, start, calendar.tz).astimezone(timezone.utc)
        last = datetime.combine(end_day, end, calendar.tz).astimezone(timezone.utc)
        if last > first:  # an interval inside a daylight-saving gap has no time in it
            found.append((first, last))
    return tuple(found)


def _utc(instant: datetime) -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, got {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: a timezone-aware datetime is required")
    return instant.astimezone(timezone.utc)


def is_working(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Whether ``instant`` lies in a working interval (start included, end excluded)."""
    instant = _utc(instant)
    local_day = instant.astimezone(calendar.tz).date()
    return any(s <= instant < e
               for day in (local_day - timedelta(days=1), local_day)
               for s, e in calendar.intervals_on(day))


def next_working_moment(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """``instant`` itself if it is working time, else the start of the next working interval."""
    return next(iter(calendar.intervals(instant)))[0]


def add(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of business time has elapsed after ``start``."""
    start = _utc(start)
    if duration < timedelta(0):
        raise ValueError(f"negative duration {duration}")
    remaining, horizon = duration, start + timedelta(days=MAX_HORIZON_DAYS)
    for s, e in calendar.intervals(start):
        if s > horizon:
            raise ValueError(f"{duration} of business time is not reached within {MAX_HORIZON_DAYS} days "
                             f"after {start} on this calendar")
        if remaining <= e - s:
            return s + remaining
        remaining -= e - s
    raise AssertionError("unreachable: intervals() is endless or raises")


def between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time in ``[start, end)``; zero when ``end <= start``.

    The walk of ``calendar.intervals(start, until=end)`` written out over the remembered days (the
    clock and a what-if replay of 100,000 cases call it most): each day's intervals clipped to begin
    after the previous one ended, up to the last day whose local midnight is before ``end``."""
    start, end = _utc(start), _utc(end)
    total = timedelta(0)
    if end <= start:
        return total
    tz = calendar.tz
    day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    if datetime.combine(last_day, MIDNIGHT, tz) >= end:
        last_day -= timedelta(days=1)
    last_end = start
    while day <= last_day:
        for s, e in _day_intervals(calendar, day):
            if last_end > s:
                s = last_end
            if e > s:
                last_end = e
                if s >= end:
                    return total
                total += (e if e < end else end) - s
        day += timedelta(days=1)
    return total
