"""The figures of a KPI report and how each is derived from raw counts (cases/kpis/report.py counts).

A report's numbers are first gathered as a :class:`Tally` per group — counts and sums, all
additive, so the totals are exactly the sum of the groups — and then turned into :class:`Kpis`:
shares with the domain's targets, averages, the nearest-rank 90th percentile, the feedback volume
against its monthly target, the backlog by age. The percentile is not additive: on PostgreSQL it
is taken in SQL per group and for the total (``percentile_disc``, the same nearest rank); on
SQLite, which has none, from the first-response times each tally keeps.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from cases.sla import calendars

TIMEZONE = calendars.DEFAULT_TIMEZONE
MAX_YEARS = 3

#: The domain's targets (DOMAIN.md "Time promises" and "What management measures"), in percent.
FIRST_RESPONSE_TARGET = 95  # "95 % of cases within the promised time" (seed 000)
RESOLUTION_SLA_TARGET = 80  # "handling efficiency above 80 %", solved within the promise (seed 000)
RESOLUTION_RATE_TARGET = 90  # "resolution rate of technical problems ≥ 90 %" (seed 001)
CSAT_TARGET = 85  # "customer satisfaction ≥ 85 %" (seed 000, seed 001)
FEEDBACK_PER_MONTH = 100  # "at least 100 feedback items a month" (seed 000)
SATISFIED_FROM = 4  # a score of 4 or 5 (of 1-5) is a satisfied customer

#: Backlog age buckets: (name, upper bound in days, exclusive); the last one is open-ended.
BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("lt_1d", 1), ("1d_3d", 3), ("3d_7d", 7), ("7d_30d", 30), ("gte_30d", None))


# -- the period ----------------------------------------------------------------------------------
def period_problems(first: date, last: date) -> list[dict]:
    """What is wrong with a reporting period (the API checks its query with this too)."""
    problems = [{"field": name, "message": f"a date from {calendars.FIRST_YEAR} to {calendars.LAST_YEAR}"}
                for name, day in (("from", first), ("to", last))
                if not calendars.FIRST_YEAR <= day.year <= calendars.LAST_YEAR]
    if problems:
        return problems
    if last < first:
        return [{"field": "to", "message": "before 'from'"}]
    if last >= first + relativedelta(years=MAX_YEARS):
        return [{"field": "to", "message": f"at most {MAX_YEARS} years after 'from'"}]
    return []


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The instant after the last day (exclusive)."""
        return _midnight(self.last + timedelta(days=1))

    def feedback_target(self) -> Fraction:
        """100 ratings a month, pro rata per day of each calendar month the period covers: a whole
        month asks for 100, a quarter for 300, a week of November for 23 1/3."""
        total, day = Fraction(0), self.first
        while day <= self.last:
            total += Fraction(FEEDBACK_PER_MONTH, monthrange(day.year, day.month)[1])
            day += timedelta(days=1)
        return total


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(TIMEZONE)).astimezone(timezone.utc)


# -- the figures ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ratio:
    """A share: ``numerator`` of ``denominator``; ``met`` when it reaches the target (exactly)."""

    numerator: int
    denominator: int
    target_percent: int | None = None

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    @property
    def target(self) -> float | None:
        return None if self.target_percent is None else self.target_percent / 100

    @property
    def met(self) -> bool | None:
        if self.target_percent is None or not self.denominator:
            return None
        return self.numerator * 100 >= self.target_percent * self.denominator


@dataclass(frozen=True)
class Statistic:
    """An average or a percentile over ``count`` values; no target of its own."""

    value: float | int | None
    count: int
    target: None = None
    met: None = None


@dataclass(frozen=True)
class Volume:
    value: int
    target_exact: Fraction | None = None

    @property
    def target(self) -> float | None:
        return None if self.target_exact is None else round(float(self.target_exact), 1)

    @property
    def met(self) -> bool | None:
        return None if self.target_exact is None else self.value >= self.target_exact


@dataclass(frozen=True)
class Backlog:
    buckets: dict[str, int]
    target: None = None
    met: None = None

    @property
    def value(self) -> int:
        return sum(self.buckets.values())


@dataclass
class Tally:
    """The additive raw numbers of one group (or of all): groups merge into the totals exactly."""

    cases: int = 0
    first_response_count: int = 0  # met first-response targets (business seconds used: their sum)
    first_response_sum: int = 0
    #: the values themselves, where the percentile is taken here (SQLite); PostgreSQL takes it in SQL
    first_responses: list[int] = field(default_factory=list)
    #: the nearest-rank 90th percentile taken in SQL (PostgreSQL), None where taken from ``first_responses``
    first_response_p90: int | None = None
    first_in_time: int = 0
    first_decided: int = 0
    resolution_in_time: int = 0
    resolution_decided: int = 0
    resolved: int = 0
    outcome_decided: int = 0
    reopened: int = 0
    judged: int = 0
    self_served: int = 0
    ratings: int = 0
    satisfied: int = 0
    score_sum: int = 0
    complaints: int = 0  # complaint cases opened in the period (complaint_handling.bpmn)
    complaint_ack_in_time: int = 0
    complaint_ack_decided: int = 0
    complaint_resolved_in_time: int = 0
    complaint_resolved_decided: int = 0
    backlog: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _ in BUCKETS})

    def add(self, other: Tally) -> None:
        for name in ("cases", "first_response_count", "first_response_sum", "first_in_time", "first_decided", "resolution_in_time", "resolution_decided",
                     "resolved", "outcome_decided", "reopened", "judged", "self_served", "ratings", "satisfied",
                     "score_sum", "complaints", "complaint_ack_in_time", "complaint_ack_decided",
                     "complaint_resolved_in_time", "complaint_resolved_decided"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first_responses.extend(other.first_responses)  # a percentile is not additive: the
        # caller sets ``first_response_p90`` of a total taken in SQL
        for name, count in other.backlog.items():
            self.backlog[name] += count


@dataclass(frozen=True)
class Kpis:
    cases: Volume
    first_response_average_seconds: Statistic
    first_response_p90_seconds: Statistic
    first_response_within_sla: Ratio
    resolution_within_sla: Ratio
    resolution_rate: Ratio
    reopen_rate: Ratio
    self_service: Ratio
    csat: Ratio
    satisfaction_average: Statistic
    feedback_volume: Volume
    backlog: Backlog
    complaints: Volume
    complaint_acknowledged_within_sla: Ratio
    complaint_resolved_within_sla: Ratio

    @classmethod
    def of(cls, tally: Tally, feedback_target: Fraction | None) -> Kpis:
        count = tally.first_response_count
        average = round(tally.first_response_sum / count, 1) if count else None
        p90 = tally.first_response_p90 if tally.first_response_p90 is not None else \
            nearest_rank(sorted(tally.first_responses), 90)
        score = round(tally.score_sum / tally.ratings, 4) if tally.ratings else None
        return cls(
            cases=Volume(tally.cases),
            first_response_average_seconds=Statistic(average, count),
            first_response_p90_seconds=Statistic(p90, count),
            first_response_within_sla=Ratio(tally.first_in_time, tally.first_decided, FIRST_RESPONSE_TARGET),
            resolution_within_sla=Ratio(tally.resolution_in_time, tally.resolution_decided, RESOLUTION_SLA_TARGET),
            resolution_rate=Ratio(tally.resolved, tally.outcome_decided, RESOLUTION_RATE_TARGET),
            reopen_rate=Ratio(tally.reopened, tally.judged),
            self_service=Ratio(tally.self_served, tally.cases),
            csat=Ratio(tally.satisfied, tally.ratings, CSAT_TARGET),
            satisfaction_average=Statistic(score, tally.ratings),
            feedback_volume=Volume(tally.ratings, feedback_target),
            backlog=Backlog(dict(tally.backlog)),
            complaints=Volume(tally.complaints),
            complaint_acknowledged_within_sla=Ratio(tally.complaint_ack_in_time, tally.complaint_ack_decided),
            complaint_resolved_within_sla=Ratio(tally.complaint_resolved_in_time, tally.complaint_resolved_decided),
        )


def nearest_rank(ordered: list[int], percent: int) -> int | None:
    """The nearest-rank percentile of sorted values: the value at rank ceil(percent/100 * n)."""
    if not ordered:
        return None
    rank = -(-percent * len(ordered) // 100)
    return ordered[rank - 1]


@dataclass(frozen=True)
class Group:
    key: str | None
    kpis: Kpis


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    timezone: str
    group_by: str
    filters: dict[str, str]
    computed_at: datetime
    backlog_at: datetime
    totals: Kpis
    groups: list[Group]
