"""Business time: working hours, Chinese holidays and make-up working days, DST, boundaries.

Expected instants are worked out by hand from the calendars (see the comments); the property
checks at the end use a fixed seed (hypothesis is not installed) and an independent
minute-by-minute reference."""
from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from cases.sla.business_time import BusinessCalendar, add, between, is_working, next_working_moment

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)

CN = BusinessCalendar()  # Asia/Shanghai, Mon-Fri 09:00-17:00, Chinese holidays and 调休
PLAIN = BusinessCalendar(holiday_country=None)  # Asia/Shanghai, Mon-Fri 09:00-17:00, no holidays
LUNCH = BusinessCalendar(holiday_country=None,
                         hours=[[(time(9), time(12)), (time(13), time(17))]] * 5 + [[], []])
# Every day 00:00-06:00 in Berlin: the interval spans both DST changes.
BERLIN_NIGHT = BusinessCalendar("Europe/Berlin", hours=[[(time(0), time(6))]] * 7,
                                holiday_country=None)
BERLIN_OFFICE = BusinessCalendar("Europe/Berlin", holiday_country=None)
NY_24X7 = BusinessCalendar.always_open("America/New_York")


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- inputs and outputs -------------------------------------------------------------------

def test_naive_datetimes_are_rejected():
    naive = datetime(2025, 3, 4, 10)
    with pytest.raises(ValueError, match="naive"):
        add(CN, naive, H)
    with pytest.raises(ValueError, match="naive"):
        between(CN, naive, sh(2025, 3, 5))
    with pytest.raises(ValueError, match="naive"):
        between(CN, sh(2025, 3, 3), naive)
    with pytest.raises(ValueError, match="naive"):
        is_working(CN, naive)
    with pytest.raises(ValueError, match="naive"):
        next_working_moment(CN, naive)


def test_negative_duration_is_rejected():
    with pytest.raises(ValueError, match="negative"):
        add(CN, sh(2025, 3, 4, 10), -timedelta(seconds=1))


def test_results_are_in_utc_whatever_the_input_zone():
    result = add(PLAIN, sh(2025, 3, 4, 10), H)
    assert result.tzinfo is UTC
    assert result == utc(2025, 3, 4, 3)  # 11:00 in Shanghai
    # the same instant given in UTC gives the same answer
    assert add(PLAIN, utc(2025, 3, 4, 2), H) == utc(2025, 3, 4, 3)
    assert next_working_moment(PLAIN, sh(2025, 3, 4, 20)).tzinfo is UTC


# --- a plain working week -----------------------------------------------------------------

def test_add_within_one_working_day():
    assert add(PLAIN, sh(2025, 3, 4, 10), 3 * H) == sh(2025, 3, 4, 13)
    assert add(PLAIN, sh(2025, 3, 4, 10, 15, 30), timedelta(minutes=20)) == sh(2025, 3, 4, 10, 35, 30)


def test_add_across_the_night():
    # Tue 16:00 + 2h: one hour on Tuesday, one on Wednesday from 09:00
    assert add(PLAIN, sh(2025, 3, 4, 16), 2 * H) == sh(2025, 3, 5, 10)


def test_add_from_outside_working_hours_starts_at_the_next_working_moment():
    assert add(PLAIN, sh(2025, 3, 4, 20), H) == sh(2025, 3, 5, 10)
    assert add(PLAIN, sh(2025, 3, 4, 7), H) == sh(2025, 3, 4, 10)


def test_add_across_the_weekend():
    assert add(PLAIN, sh(2025, 3, 7, 16), 2 * H) == sh(2025, 3, 10, 10)  # Fri -> Mon
    assert add(PLAIN, sh(2025, 3, 8, 12), H) == sh(2025, 3, 10, 10)  # from Saturday
    assert add(PLAIN, sh(2025, 3, 4, 10), 5 * 8 * H) == sh(2025, 3, 11, 10)  # one working week


def test_add_ending_exactly_at_the_end_of_a_working_interval_returns_that_end():
    assert add(PLAIN, sh(2025, 3, 4, 9), 8 * H) == sh(2025, 3, 4, 17)
    assert add(PLAIN, sh(2025, 3, 4, 16), H) == sh(2025, 3, 4, 17)
    assert add(PLAIN, sh(2025, 3, 7, 9), 8 * H) == sh(2025, 3, 7, 17)  # Friday, not Monday 09:00
    assert between(PLAIN, sh(2025, 3, 4, 9), sh(2025, 3, 4, 17)) == 8 * H


def test_zero_duration_gives_the_next_working_moment():
    assert add(PLAIN, sh(2025, 3, 4, 10), timedelta(0)) == sh(2025, 3, 4, 10)
    assert add(PLAIN, sh(2025, 3, 4, 20), timedelta(0)) == sh(2025, 3, 5, 9)
    assert add(PLAIN, sh(2025, 3, 4, 17), timedelta(0)) == sh(2025, 3, 5, 9)
    assert add(PLAIN, sh(2025, 3, 8, 10), timedelta(0)) == sh(2025, 3, 10, 9)


def test_working_intervals_are_half_open():
    assert is_working(PLAIN, sh(2025, 3, 4, 9))
    assert is_working(PLAIN, sh(2025, 3, 4, 16, 59, 59, 999999))
    assert not is_working(PLAIN, sh(2025, 3, 4, 17))
    assert not is_working(PLAIN, sh(2025, 3, 4, 8, 59, 59))
    assert not is_working(PLAIN, sh(2025, 3, 8, 10))  # Saturday
    assert next_working_moment(PLAIN, sh(2025, 3, 4, 17)) == sh(2025, 3, 5, 9)
    assert next_working_moment(PLAIN, sh(2025, 3, 4, 9)) == sh(2025, 3, 4, 9)
    assert next_working_moment(PLAIN, sh(2025, 3, 4, 12, 34)) == sh(2025, 3, 4, 12, 34)
    assert next_working_moment(PLAIN, sh(2025, 3, 7, 17)) == sh(2025, 3, 10, 9)


def test_between():
    assert between(PLAIN, sh(2025, 3, 4, 16), sh(2025, 3, 5, 10)) == 2 * H
    assert between(PLAIN, sh(2025, 3, 7, 12), sh(2025, 3, 10, 12)) == 8 * H  # Fri 12 -> Mon 12
    assert between(PLAIN, sh(2025, 3, 8, 0), sh(2025, 3, 10, 0)) == timedelta(0)  # weekend
    assert between(PLAIN, sh(2025, 3, 3, 0), sh(2025, 3, 10, 0)) == 40 * H
    assert between(PLAIN, sh(2025, 3, 5, 10), sh(2025, 3, 4, 16)) == timedelta(0)  # end < start
    assert between(PLAIN, sh(2025, 3, 4, 10), sh(2025, 3, 4, 10)) == timedelta(0)
    assert between(PLAIN, utc(2025, 3, 4, 2), sh(2025, 3, 4, 11)) == H  # mixed zones


# --- lunch break --------------------------------------------------------------------------

def test_lunch_break_is_not_working_time():
    assert add(LUNCH, sh(2025, 3, 4, 11), 2 * H) == sh(2025, 3, 4, 14)
    assert add(LUNCH, sh(2025, 3, 4, 11), H) == sh(2025, 3, 4, 12)  # ends at the break
    assert add(LUNCH, sh(2025, 3, 4, 12, 30), timedelta(minutes=30)) == sh(2025, 3, 4, 13, 30)
    assert add(LUNCH, sh(2025, 3, 4, 9), 7 * H) == sh(2025, 3, 4, 17)  # 7 hours a day
    assert add(LUNCH, sh(2025, 3, 4, 16), 4 * H) == sh(2025, 3, 5, 12)  # 1h Tue + 3h Wed morning
    assert add(LUNCH, sh(2025, 3, 4, 16), 4.5 * H) == sh(2025, 3, 5, 13, 30)
    assert not is_working(LUNCH, sh(2025, 3, 4, 12, 30))
    assert not is_working(LUNCH, sh(2025, 3, 4, 12))
    assert is_working(LUNCH, sh(2025, 3, 4, 13))
    assert next_working_moment(LUNCH, sh(2025, 3, 4, 12, 30)) == sh(2025, 3, 4, 13)
    assert between(LUNCH, sh(2025, 3, 4, 11), sh(2025, 3, 4, 14)) == 2 * H
    assert between(LUNCH, sh(2025, 3, 3, 0), sh(2025, 3, 10, 0)) == 35 * H


# --- Chinese public holidays and make-up working days (from the holidays package) ----------

def test_package_knows_2025_and_2026_chinese_holidays_and_make_up_days():
    for day in (date(2025, 1, 28), date(2025, 2, 4), date(2025, 10, 1), date(2025, 10, 8),
                date(2026, 1, 1), date(2026, 1, 2), date(2026, 2, 16), date(2026, 2, 23)):
        assert CN.is_holiday(day), day
    for day in (date(2025, 1, 26), date(2025, 2, 8), date(2025, 9, 28), date(2025, 10, 11),
                date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28)):
        assert CN.is_makeup_workday(day), day
    assert not CN.is_holiday(date(2025, 3, 4))
    assert not CN.is_makeup_workday(date(2025, 3, 8))
    assert CN.hours_on(date(2025, 1, 26)) == ((time(9), time(17)),)  # a Sunday that works
    assert CN.hours_on(date(2025, 1, 29)) == ()  # a Wednesday off


def test_spring_festival_2025():
    # Off Tue 28 Jan - Tue 4 Feb; make-up working days Sun 26 Jan and Sat 8 Feb.
    assert add(CN, sh(2025, 1, 24, 16), 2 * H) == sh(2025, 1, 26, 10)  # Fri -> make-up Sunday
    assert add(CN, sh(2025, 1, 27, 16), 2 * H) == sh(2025, 2, 5, 10)  # over the whole holiday
    assert add(CN, sh(2025, 2, 7, 16), 2 * H) == sh(2025, 2, 8, 10)  # Fri -> make-up Saturday
    assert between(CN, sh(2025, 1, 27, 9), sh(2025, 2, 5, 9)) == 8 * H
    assert is_working(CN, sh(2025, 1, 26, 10))
    assert not is_working(CN, sh(2025, 1, 25, 10))
    assert not is_working(CN, sh(2025, 1, 29, 10))
    assert next_working_moment(CN, sh(2025, 1, 28, 9)) == sh(2025, 2, 5, 9)


def test_national_day_week_2025():
    # Off Wed 1 - Wed 8 Oct; make-up working days Sun 28 Sep and Sat 11 Oct.
    assert add(CN, sh(2025, 9, 30, 16), 2 * H) == sh(2025, 10, 9, 10)
    assert add(CN, sh(2025, 9, 26, 16), 2 * H) == sh(2025, 9, 28, 10)
    # Fri 26, Sun 28, Mon 29, Tue 30 Sep, Thu 9, Fri 10, Sat 11 Oct
    assert between(CN, sh(2025, 9, 26, 9), sh(2025, 10, 13, 9)) == 7 * 8 * H


def test_spring_festival_2026():
    # Off Sun 15 - Mon 23 Feb; make-up working days Sat 14 and Sat 28 Feb.
    assert add(CN, sh(2026, 2, 13, 16), 2 * H) == sh(2026, 2, 14, 10)
    assert add(CN, sh(2026, 2, 14, 16), 2 * H) == sh(2026, 2, 24, 10)
    assert add(CN, sh(2026, 2, 27, 16), 2 * H) == sh(2026, 2, 28, 10)


def test_year_end_with_new_year_holiday():
    # 2024/25: Wed 1 Jan 2025 is off; Thu 2 Jan works.
    assert add(CN, sh(2024, 12, 31, 16), 2 * H) == sh(2025, 1, 2, 10)
    # 2025/26: Thu 1 and Fri 2 Jan 2026 off, Sun 4 Jan 2026 is a make-up working day.
    assert add(CN, sh(2025, 12, 31, 16), 2 * H) == sh(2026, 1, 4, 10)
    assert between(CN, sh(2025, 12, 31, 9), sh(2026, 1, 5, 9)) == 16 * H
    # Without the package: a custom New Year holiday, Dec 31 -> Jan 2.
    new_year = BusinessCalendar(holiday_country=None, extra_holidays={date(2026, 1, 1)})
    assert add(new_year, sh(2025, 12, 31, 16), 2 * H) == sh(2026, 1, 2, 10)
    assert add(PLAIN, sh(2025, 12, 31, 16), 2 * H) == sh(2026, 1, 1, 10)


def test_make_up_day_uses_monday_hours_or_makeup_hours():
    short_monday = BusinessCalendar(hours=[[(time(10), time(12))]] + [[(time(9), time(17))]] * 4
                                    + [[], []])
    # Fri 24 Jan 2025 16:00: 1h Friday, then the make-up Sunday 26 Jan with Monday's 10-12
    assert add(short_monday, sh(2025, 1, 24, 16), 2 * H) == sh(2025, 1, 26, 11)
    half_day = BusinessCalendar(makeup_hours=[(time(9), time(12))])
    assert add(half_day, sh(2025, 1, 24, 16), 5 * H) == sh(2025, 1, 27, 10)  # 1 + 3 + 1
    assert half_day.hours_on(date(2025, 1, 27)) == ((time(9), time(17)),)  # weekdays unchanged
    # replacing the weekly hours moves the default make-up hours along with Monday's
    evenings = dataclasses.replace(CN, hours=[[(time(18), time(20))]] * 5 + [[], []])
    assert evenings.hours_on(date(2025, 1, 26)) == ((time(18), time(20)),)


# --- custom additions and removals --------------------------------------------------------

def test_extra_holidays():
    cal = BusinessCalendar(extra_holidays={date(2025, 3, 4)})
    assert add(cal, sh(2025, 3, 3, 16), 2 * H) == sh(2025, 3, 5, 10)
    assert not is_working(cal, sh(2025, 3, 4, 10))
    assert between(cal, sh(2025, 3, 3, 0), sh(2025, 3, 10, 0)) == 32 * H


def test_removed_holidays_work_as_normal_days():
    cal = BusinessCalendar(removed_holidays={date(2025, 10, 1), date(2025, 10, 2),
                                             date(2025, 10, 3)})
    assert add(cal, sh(2025, 9, 30, 16), 2 * H) == sh(2025, 10, 1, 10)
    assert is_working(cal, sh(2025, 10, 3, 10))
    assert not is_working(cal, sh(2025, 10, 6, 10))  # still a holiday
    assert not is_working(CN, sh(2025, 10, 1, 10))


def test_extra_workdays():
    cal = BusinessCalendar(holiday_country=None, extra_workdays={date(2025, 3, 8)})
    assert add(cal, sh(2025, 3, 7, 16), 2 * H) == sh(2025, 3, 8, 10)
    assert is_working(cal, sh(2025, 3, 8, 10))
    assert not is_working(cal, sh(2025, 3, 9, 10))
    morning = BusinessCalendar(holiday_country=None, extra_workdays={date(2025, 3, 8)},
                               makeup_hours=[(time(10), time(12))])
    assert add(morning, sh(2025, 3, 7, 16), 2 * H) == sh(2025, 3, 8, 11)


def test_extra_workday_overrides_an_official_holiday():
    cal = BusinessCalendar(extra_workdays={date(2025, 10, 1)})
    assert add(cal, sh(2025, 9, 30, 16), 2 * H) == sh(2025, 10, 1, 10)
    assert not is_working(cal, sh(2025, 10, 2, 10))


def test_extra_holiday_overrides_an_official_make_up_day():
    cal = BusinessCalendar(extra_holidays={date(2025, 1, 26)})
    assert not is_working(cal, sh(2025, 1, 26, 10))
    assert add(cal, sh(2025, 1, 24, 16), 2 * H) == sh(2025, 1, 27, 10)


def test_a_date_cannot_be_both_extra_holiday_and_extra_workday():
    with pytest.raises(ValueError):
        BusinessCalendar(extra_holidays={date(2025, 3, 8)}, extra_workdays={date(2025, 3, 8)})


# --- leap day -----------------------------------------------------------------------------

def test_leap_day():
    # Mon 28 Feb 2028, Tue 29 Feb 2028
    assert add(PLAIN, sh(2028, 2, 28, 16), 2 * H) == sh(2028, 2, 29, 10)
    assert add(PLAIN, sh(2028, 2, 28, 9), 16 * H) == sh(2028, 2, 29, 17)
    assert between(PLAIN, sh(2028, 2, 28, 9), sh(2028, 3, 1, 9)) == 16 * H
    assert is_working(PLAIN, sh(2028, 2, 29, 12))
    utc_24x7 = BusinessCalendar.always_open()
    assert between(utc_24x7, utc(2024, 2, 28), utc(2024, 3, 1)) == 48 * H
    assert add(utc_24x7, utc(2024, 2, 28, 12), 24 * H) == utc(2024, 2, 29, 12)


# --- DST ----------------------------------------------------------------------------------

def test_berlin_spring_forward_shortens_a_spanning_interval():
    # Sun 30 Mar 2025: 00:00 CET = 23:00Z (29th) .. 06:00 CEST = 04:00Z: 5 real hours
    sunday = datetime(2025, 3, 30, tzinfo=BERLIN)
    assert between(BERLIN_NIGHT, sunday, sunday + timedelta(hours=12)) == 5 * H
    assert add(BERLIN_NIGHT, sunday, 2 * H) == utc(2025, 3, 30, 1)  # 03:00 CEST
    assert add(BERLIN_NIGHT, sunday, 5 * H) == utc(2025, 3, 30, 4)  # 06:00 CEST
    assert add(BERLIN_NIGHT, sunday, 5 * H + timedelta(minutes=1)) == utc(2025, 3, 30, 22, 1)
    assert between(BERLIN_NIGHT, datetime(2025, 3, 29, tzinfo=BERLIN),
                   datetime(2025, 3, 31, tzinfo=BERLIN)) == 11 * H  # 6 + 5


def test_berlin_fall_back_lengthens_a_spanning_interval():
    # Sun 26 Oct 2025: 00:00 CEST = 22:00Z (25th) .. 06:00 CET = 05:00Z: 7 real hours
    sunday = datetime(2025, 10, 26, tzinfo=BERLIN)
    assert between(BERLIN_NIGHT, sunday, sunday + timedelta(hours=12)) == 7 * H
    assert add(BERLIN_NIGHT, sunday, 3 * H) == utc(2025, 10, 26, 1)  # the second 02:00 (CET)
    assert add(BERLIN_NIGHT, sunday, 7 * H) == utc(2025, 10, 26, 5)
    assert is_working(BERLIN_NIGHT, utc(2025, 10, 26, 0, 30))  # the first 02:30 (CEST)
    assert is_working(BERLIN_NIGHT, utc(2025, 10, 26, 1, 30))  # the second 02:30 (CET)
    assert not is_working(BERLIN_NIGHT, utc(2025, 10, 26, 5))


def test_berlin_office_hours_over_dst_weekends():
    # Fri 28 Mar 16:00 CET (15:00Z) + 2h -> Mon 31 Mar 10:00 CEST (08:00Z)
    assert add(BERLIN_OFFICE, datetime(2025, 3, 28, 16, tzinfo=BERLIN), 2 * H) == utc(2025, 3, 31, 8)
    assert between(BERLIN_OFFICE, datetime(2025, 3, 28, 9, tzinfo=BERLIN),
                   datetime(2025, 3, 31, 17, tzinfo=BERLIN)) == 16 * H
    # Fri 24 Oct 16:00 CEST (14:00Z) + 2h -> Mon 27 Oct 10:00 CET (09:00Z)
    assert add(BERLIN_OFFICE, datetime(2025, 10, 24, 16, tzinfo=BERLIN), 2 * H) == utc(2025, 10, 27, 9)


def test_24x7_new_york_counts_real_elapsed_time_across_dst():
    # 9 Mar 2025 spring forward: Sat 12:00 EST (17:00Z) -> Sun 12:00 EDT (16:00Z) is 23h
    sat = datetime(2025, 3, 8, 12, tzinfo=NEW_YORK)
    sun = datetime(2025, 3, 9, 12, tzinfo=NEW_YORK)
    assert between(NY_24X7, sat, sun) == 23 * H
    assert add(NY_24X7, sat, 24 * H) == utc(2025, 3, 9, 17)  # 13:00 EDT
    # 2 Nov 2025 fall back: Sat 12:00 EDT (16:00Z) -> Sun 12:00 EST (17:00Z) is 25h
    assert between(NY_24X7, datetime(2025, 11, 1, 12, tzinfo=NEW_YORK),
                   datetime(2025, 11, 2, 12, tzinfo=NEW_YORK)) == 25 * H
    assert add(NY_24X7, utc(2025, 11, 2, 5, 30), 2 * H) == utc(2025, 11, 2, 7, 30)
    for instant in (utc(2025, 3, 9, 7), utc(2025, 11, 2, 5, 59, 59), sat, utc(2025, 12, 25)):
        assert is_working(NY_24X7, instant)
        assert next_working_moment(NY_24X7, instant) == instant
        assert add(NY_24X7, instant, timedelta(0)) == instant


def test_intervals_ending_at_midnight_join_the_next_day():
    night = BusinessCalendar("UTC", holiday_country=None,
                             hours=[[(time(0), time(4)), (time(20), time(0))]] * 7)
    assert add(night, utc(2025, 3, 3, 22), 4 * H) == utc(2025, 3, 4, 2)
    assert between(night, utc(2025, 3, 3, 21), utc(2025, 3, 4, 5)) == 7 * H
    assert is_working(night, utc(2025, 3, 4, 0))
    assert not is_working(night, utc(2025, 3, 4, 4))


# --- efficiency and bounds ----------------------------------------------------------------

def test_2000_business_hours_is_exact():
    # 2000h = 250 days of 8h = 50 weeks: Mon 1 Jan 2029 09:00 -> Fri 14 Dec 2029 17:00
    # (speed is measured, not asserted: the walk is day by day, see the module docstring)
    assert add(PLAIN, sh(2029, 1, 1, 9), 2000 * H) == sh(2029, 12, 14, 17)
    result = add(CN, sh(2025, 1, 2, 9), 2000 * H)
    assert between(CN, sh(2025, 1, 2, 9), result) == 2000 * H


def test_a_calendar_without_working_time_is_rejected():
    with pytest.raises(ValueError, match="no working time"):
        BusinessCalendar(hours=[[]] * 7, holiday_country=None)
    with pytest.raises(ValueError, match="no working time"):
        BusinessCalendar(hours=[[]] * 7)  # make-up days would use Monday's (empty) hours


def test_no_endless_loop_after_the_last_working_day():
    once = BusinessCalendar(hours=[[]] * 7, holiday_country=None,
                            makeup_hours=[(time(9), time(17))], extra_workdays={date(2025, 1, 1)})
    assert add(once, sh(2024, 12, 31, 10), H) == sh(2025, 1, 1, 10)
    assert between(once, sh(2024, 1, 1), sh(2045, 1, 1)) == 8 * H
    with pytest.raises(ValueError, match="no working time"):
        add(once, sh(2025, 6, 1), H)
    with pytest.raises(ValueError, match="no working time"):
        next_working_moment(once, sh(2025, 1, 1, 17))
    assert not is_working(once, sh(2025, 6, 1, 10))


# --- construction -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"timezone": "Mars/Olympus"},
    {"hours": [[(time(9), time(17))]] * 5},  # 5 weekdays only
    {"hours": [[(time(9), time(13)), (time(12), time(17))]] * 7},  # overlapping
    {"hours": [[(time(17), time(9))]] * 7},  # end before start
    {"hours": [[(time(13), time(17)), (time(9), time(12))]] * 7},  # out of order
    {"hours": [[(time(20), time(0)), (time(21), time(22))]] * 7},  # after midnight end
    {"hours": [[(9, 17)]] * 7},  # not datetime.time
    {"holiday_country": "XX"},
])
def test_invalid_calendars_are_rejected(kwargs):
    with pytest.raises(ValueError):
        BusinessCalendar(**kwargs)


def test_calendar_is_immutable_and_hashable():
    cal = BusinessCalendar(extra_holidays={date(2025, 3, 4)}, hours=[[(time(9), time(17))]] * 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.timezone = "UTC"  # type: ignore[misc]
    assert isinstance(cal.extra_holidays, frozenset)
    assert cal == BusinessCalendar(extra_holidays=[date(2025, 3, 4)],
                                   hours=(((time(9), time(17)),),) * 7)
    assert len({cal, BusinessCalendar(extra_holidays={date(2025, 3, 4)},
                                      hours=[[(time(9), time(17))]] * 7)}) == 1
    assert BusinessCalendar().timezone == "Asia/Shanghai"
    assert BusinessCalendar().hours[5:] == ((), ())


# --- properties (fixed seed) and an independent minute-by-minute reference ----------------

PROPERTY_CALENDARS = [CN, LUNCH, BERLIN_NIGHT, BERLIN_OFFICE, NY_24X7]
PROPERTY_IDS = ["cn", "lunch", "berlin_night", "berlin_office", "new_york_24x7"]


def _random_instant(rng: random.Random) -> datetime:
    seconds = rng.randrange(int((utc(2027, 1, 1) - utc(2024, 1, 1)).total_seconds()))
    return utc(2024, 1, 1) + timedelta(seconds=seconds, microseconds=rng.choice([0, 0, 1, 999999]))


def _random_duration(rng: random.Random) -> timedelta:
    return rng.choice([timedelta(0), timedelta(hours=rng.randrange(0, 9)),
                       timedelta(seconds=rng.randrange(0, 400 * 3600))])


@pytest.mark.parametrize("cal", PROPERTY_CALENDARS, ids=PROPERTY_IDS)
def test_between_inverts_add_and_add_is_monotonic(cal):
    rng = random.Random(20250304)
    for _ in range(150):
        start = _random_instant(rng)
        d1, d2 = sorted((_random_duration(rng), _random_duration(rng)))
        end1, end2 = add(cal, start, d1), add(cal, start, d2)
        assert between(cal, start, end1) == d1, (start, d1)
        assert between(cal, start, end2) == d2, (start, d2)
        assert start <= end1 <= end2
        if d1 > timedelta(0):
            assert is_working(cal, end1 - timedelta(microseconds=1))
            assert add(cal, end1, d2 - d1 + timedelta(microseconds=1)) == \
                add(cal, start, d2 + timedelta(microseconds=1))
        else:
            assert end1 == next_working_moment(cal, start)


@pytest.mark.parametrize("cal", PROPERTY_CALENDARS, ids=PROPERTY_IDS)
def test_between_is_additive(cal):
    rng = random.Random(7)
    for _ in range(80):
        a, b, c = sorted(_random_instant(rng) for _ in range(3))
        assert between(cal, a, b) + between(cal, b, c) == between(cal, a, c), (a, b, c)
        assert between(cal, c, a) == timedelta(0)


def _reference_between(tz, weekly, official, start, end):
    """Count working minutes by looking at every minute's local wall-clock time."""
    minutes, t = 0, start
    while t < end:
        local = t.astimezone(tz)
        day = local.date()
        if weekly is None:
            hours = [(time(0), time(23, 59, 59))]
        elif day in official or (day.weekday() >= 5 and day not in official.weekend_workdays):
            hours = []
        else:
            hours = weekly[0] if day.weekday() >= 5 else weekly[day.weekday()]
        if any(s <= local.time() < e for s, e in hours):
            minutes += 1
        t += timedelta(minutes=1)
    return timedelta(minutes=minutes)


def test_between_agrees_with_a_minute_by_minute_reference():
    weekdays = [[(time(9), time(12)), (time(13), time(17))]] * 5 + [[], []]
    lunch_cn = BusinessCalendar(hours=weekdays)
    berlin_24x7 = BusinessCalendar.always_open("Europe/Berlin")
    cases = [(lunch_cn, SH, weekdays, holidays.China(years=range(2024, 2027))),
             (berlin_24x7, BERLIN, None, None)]
    rng = random.Random(99)
    windows = [utc(2025, 1, 23), utc(2025, 9, 25), utc(2025, 12, 30), utc(2025, 3, 29),
               utc(2025, 10, 25)]
    for cal, tz, weekly, official in cases:
        for window in windows:
            for _ in range(3):
                start = window + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
                end = start + timedelta(minutes=rng.randrange(0, 4 * 24 * 60))
                assert between(cal, start, end) == _reference_between(tz, weekly, official,
                                                                      start, end), (start, end)
