"""Service KPIs over a period, computed from the stored facts of the cases.

Every figure is read from what the cases recorded when it happened: the case rows (opening,
channel, category, priority, owner, closing), the SLA targets (the business time a target used
when it was met, and whether it was breached), and the history (``case_events``: confirmations,
rejections, timed-out confirmations, satisfaction scores). No counter kept beside the facts is
read (``cases.reopen_count`` and ``cases.satisfaction`` are projections for display), so nothing
here can drift from the history.

The period is ``first``..``last`` (dates, both included) in the reporting time zone (that of the
``default`` business calendar, Asia/Shanghai). Rates are over the cases *opened* in the period,
with everything known when the report is made; satisfaction scores count when they were *given*;
the backlog is the cases open at the end of the period (or now, if earlier). Rates and the backlog
are over support cases: a complaint (its own process and promises, and no confirmation to count as
resolved) and a follow-up programme are not support cases; every satisfaction score counts, whether
a callback's, a follow-up call's or a survey's (the link or the API). The definitions, with
the domain's targets, are in docs/kpis.md. Counts, sums and shares are SQL aggregates; the 90th
percentile (nearest rank) is one too on PostgreSQL (``percentile_disc(0.9)``, in the same pass over
the cohort), and is taken in Python over the selected values on SQLite, which has none.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal_column, null, or_, select, text, tuple_
from sqlalchemy.orm import aliased

from cases.core.access import require_role
from cases.core.db import db
from cases.core.errors import ValidationFailed
from cases.core.models import (
    CATEGORIES,
    CHANNELS,
    PRIORITIES,
    TIERS,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Customer,
    Role,
    User,
    utcnow,
)
from cases.kpis.figures import (
    BUCKETS,
    MAX_YEARS,
    SATISFIED_FROM,
    TIMEZONE,
    Group,
    Kpis,
    Period,
    Report,
    Tally,
    period_problems,
)
from cases.sla import clock as sla
from cases.sla.models import SlaTarget

READERS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.PROCESS_OWNER.value, Role.ADMIN.value)
GROUPINGS = ("category", "channel", "priority", "tier", "team", "agent", "none")
FILTERS = ("customer_id", "category", "channel", "priority", "tier", "team", "agent")
#: the order groups are listed in, where the domain has one (others: alphabetical; "not set" last)
VOCABULARIES = {"category": CATEGORIES, "channel": CHANNELS, "priority": PRIORITIES, "tier": TIERS}
#: the history this reads: the confirmation task, its timeout, the callback (processes/support_case.bpmn)
CONFIRM_TASK, CONFIRM_TIMEOUT, CALLBACK_TASK = "confirm", "confirm_timeout", "callback"
SELF_SERVICE_EVENT = "self_service"  # a knowledge-base article answered the case (cases/casework/self_service.py)
#: scores given in a task's form (data.satisfaction): the callback, and the follow-up calls after a
#: deployment (processes/customer_follow_up.bpmn: follow_up_call_<months>)
RATED_TASKS = (CALLBACK_TASK, "follow_up_call_1", "follow_up_call_3", "follow_up_call_6", "follow_up_call_12")
SURVEY_EVENT = "survey_answered"  # a survey answered through its link or the API (cases/casework/surveys.py)


# -- the queries ---------------------------------------------------------------------------------
class _Scope:
    """The cases a report looks at: the filters, the group key, the joins they need."""

    def __init__(self, group_by: str, filters: dict[str, str]):
        self.owner = aliased(User, name="owner")
        self.filters = filters
        self.columns = {"category": Case.category, "channel": Case.channel, "priority": Case.priority,
                        "tier": Customer.tier, "team": self.owner.team, "agent": self.owner.username,
                        "customer_id": Case.customer_id}
        self.key = self.columns.get(group_by)

    def select(self, *columns: Any):
        """SELECT key, columns FROM cases (+ customer, owner) WHERE the filters hold."""
        return self._from(select((self.key if self.key is not None else null()).label("key"), *columns))

    def case_ids(self):
        return self._from(select(Case.id))

    def _from(self, query):
        query = query.select_from(Case)
        # the customer only where its tier is read: every case has its customer (a required
        # reference), so the join changes no row, but it costs a hash join over the cohort
        if self.key is self.columns["tier"] or "tier" in self.filters:
            query = query.join(Customer, Customer.id == Case.customer_id)
        query = query.outerjoin(self.owner, self.owner.id == Case.owner_id)
        for name, value in self.filters.items():
            query = query.where(self.columns[name] == value)
        return query

    def grouped(self, query, *more: Any):
        keys = ([self.key] if self.key is not None else []) + list(more)
        return query.group_by(*keys) if keys else query


def _count_if(condition: Any) -> Any:
    """How many rows meet ``condition`` (``count(*) FILTER (WHERE …)``: PostgreSQL and SQLite)."""
    return func.count().filter(condition)


def _percentile_in_sql() -> bool:
    """PostgreSQL takes the nearest-rank percentile itself; SQLite has no percentile aggregate."""
    return db.session.get_bind().dialect.name == "postgresql"


def _breached(target: Any, now: datetime) -> Any:
    """The target is breached (as known now): marked so, or still running past its due time."""
    return or_(target.breached_at.is_not(None), and_(target.state == sla.RUNNING, target.due_at <= now))


def _decided(target: Any, now: datetime) -> Any:
    """Met (in time or not), or not met yet but already breached: its outcome is known."""
    return or_(target.state == sla.MET, and_(target.state.in_((sla.RUNNING, sla.PAUSED)), _breached(target, now)))


def _opened_in(period: Period) -> Any:
    """Support cases opened in the period (complaints and follow-up programmes are not in the rates)."""
    return and_(Case.created_at >= period.start, Case.created_at < period.end, _support())


def _support() -> Any:
    return Case.kind == CaseKind.SUPPORT.value


def _event_element() -> Any:
    return CaseEvent.data["element"].as_string()


def rating_event() -> Any:
    """A satisfaction score's event: a rated task's completion or a survey's answer (on PostgreSQL
    the partial index ``ix_case_events_ratings`` on their time holds exactly these)."""
    return or_(and_(CaseEvent.kind == "task_completed", _event_element().in_(RATED_TASKS)),
               CaseEvent.kind == SURVEY_EVENT)


def _answer_is(value: bool) -> Any:
    """The confirmation's answer (its form's required boolean ``confirmed``) is ``value``. On
    PostgreSQL the JSON boolean's text, as the partial indexes ``ix_case_events_confirmed`` and
    ``ix_case_events_rejected`` spell it (a cast in an index predicate could fail an insert);
    for a JSON boolean — all the form admits — the same as the cast SQLite keeps."""
    answer = CaseEvent.data[("data", "confirmed")]
    if db.session.get_bind().dialect.name == "postgresql":
        return answer.as_string() == ("true" if value else "false")
    return answer.as_boolean() == value


def _answered() -> Any:
    return and_(CaseEvent.kind == "task_completed", _event_element() == CONFIRM_TASK)


def _timed_out() -> Any:
    return and_(CaseEvent.kind == "timer_fired", _event_element() == CONFIRM_TIMEOUT)


def _has_event(condition: Any) -> Any:
    """The case has an event meeting ``condition``: one pass over those events (a partial index
    of them on PostgreSQL, read alone), not a probe of the history per case of the cohort."""
    return Case.id.in_(select(CaseEvent.case_id).where(condition))


def _confirmation_facts() -> tuple[Any, Any, Any]:
    """Whether the customer confirmed a solution (or the confirmation timed out), rejected one,
    or judged one at all — each a fact of the case's history."""
    resolved = or_(and_(CaseEvent.kind == "task_completed", _event_element() == CONFIRM_TASK, _answer_is(True)),
                   _timed_out())
    rejected = and_(CaseEvent.kind == "task_completed", _event_element() == CONFIRM_TASK, _answer_is(False))
    return _has_event(resolved), _has_event(rejected), _has_event(or_(_answered(), _timed_out()))


def _tally_cohort(scope: _Scope, period: Period, now: datetime, tallies: dict) -> int | None:
    """The cohort's counts per group and their first-response times; on PostgreSQL in one pass,
    the times' count, sum and nearest-rank 90th percentile aggregated there, per group and (a
    grouping set) for the total, whose percentile is returned (None: taken in Python)."""
    first, resolution = aliased(SlaTarget, name="first_target"), aliased(SlaTarget, name="resolution_target")
    resolved, rejected, judged = _confirmation_facts()
    closed = Case.status == CaseStatus.CLOSED.value
    in_sql = _percentile_in_sql()
    met_first = first.state == sla.MET
    times: list[Any] = []
    if in_sql:
        times = [func.count(first.elapsed_seconds).filter(met_first),
                 func.coalesce(func.sum(first.elapsed_seconds).filter(met_first), 0),
                 func.percentile_disc(literal_column("0.9")).within_group(first.elapsed_seconds).filter(met_first)]
        if scope.key is not None:  # 1 on the grouping set of the total
            times.append(func.grouping(scope.key))
    query = scope.select(
        func.count(Case.id),
        _count_if(and_(first.state == sla.MET, first.breached_at.is_(None))),
        _count_if(_decided(first, now)),
        _count_if(and_(resolution.state == sla.MET, resolution.breached_at.is_(None))),
        _count_if(_decided(resolution, now)),
        _count_if(resolved),
        _count_if(or_(resolved, closed, _breached(resolution, now))),
        _count_if(rejected),
        _count_if(judged),
        _count_if(_has_event(CaseEvent.kind == SELF_SERVICE_EVENT)),
        *times,
    ).outerjoin(first, and_(first.case_id == Case.id, first.kind == "first_response", first.cycle == 1)) \
     .outerjoin(resolution, and_(resolution.case_id == Case.id, resolution.kind == "resolution",
                                 resolution.cycle == 1)) \
     .where(_opened_in(period))
    if not in_sql:
        query = scope.grouped(query)
    elif scope.key is not None:  # the groups and the total in the same pass
        query = query.group_by(func.grouping_sets(tuple_(scope.key), tuple_()))
    total_p90 = None
    for key, *counts in _merging_by_case(query):
        if in_sql:
            if scope.key is not None and counts.pop():  # the total's row: only its percentile is new
                total_p90 = counts[-1]
                continue
            tally = tallies.setdefault(key, Tally())
            tally.first_response_count, tally.first_response_sum, tally.first_response_p90 = \
                int(counts[-3]), int(counts[-2]), counts[-1]
            if scope.key is None:
                total_p90 = counts[-1]
            counts = counts[:-3]
        tally = tallies.setdefault(key, Tally())
        (tally.cases, tally.first_in_time, tally.first_decided, tally.resolution_in_time,
         tally.resolution_decided, tally.resolved, tally.outcome_decided, tally.reopened, tally.judged,
         tally.self_served) = \
            (int(c) for c in counts)
    if in_sql:
        return total_p90
    values = scope.select(first.elapsed_seconds).join(
        first, and_(first.case_id == Case.id, first.kind == "first_response", first.cycle == 1)) \
        .where(_opened_in(period), met_first)
    for key, seconds in db.session.execute(values):
        tally = tallies.setdefault(key, Tally())
        tally.first_responses.append(int(seconds))
        tally.first_response_count += 1
        tally.first_response_sum += int(seconds)
    return None


def _merging_by_case(query: Any) -> list[Any]:
    """The rows of the cohort's query. On PostgreSQL the planner, left alone, hashes the cohort and
    probes it with every entry of the two first-target indexes (all cases' targets: 200,000 at the
    volume benchmark's 100k + 100k); sorting the cohort by case and merging it with those indexes,
    which are in case order, took half the time there (bench/volume-explain.md, 2026-12-07 h16q).
    Hash joins are therefore off for this one statement (``SET LOCAL``, restored right after: the
    rest of the transaction plans as usual); a plan never changes a result."""
    if not _percentile_in_sql():
        return list(db.session.execute(query))
    before = db.session.scalar(text("SELECT current_setting('enable_hashjoin')"))
    db.session.execute(text("SELECT set_config('enable_hashjoin', 'off', true)"))
    try:
        return list(db.session.execute(query))
    finally:
        db.session.execute(text("SELECT set_config('enable_hashjoin', :before, true)"), {"before": before})


def _tally_complaints(scope: _Scope, period: Period, now: datetime, tallies: dict) -> None:
    """Complaints opened in the period and their own promises: acknowledged (the complaint's
    first_response) and resolved (its resolution) within their SLA, over those whose outcome is known."""
    ack, resolution = aliased(SlaTarget, name="ack_target"), aliased(SlaTarget, name="resolve_target")
    query = scope.select(
        func.count(Case.id),
        _count_if(and_(ack.state == sla.MET, ack.breached_at.is_(None))), _count_if(_decided(ack, now)),
        _count_if(and_(resolution.state == sla.MET, resolution.breached_at.is_(None))),
        _count_if(_decided(resolution, now)),
    ).outerjoin(ack, and_(ack.case_id == Case.id, ack.kind == "first_response", ack.cycle == 1)) \
     .outerjoin(resolution, and_(resolution.case_id == Case.id, resolution.kind == "resolution",
                                 resolution.cycle == 1)) \
     .where(Case.created_at >= period.start, Case.created_at < period.end, Case.kind == CaseKind.COMPLAINT.value)
    for key, *counts in db.session.execute(scope.grouped(query)):
        if counts[0]:
            tally = tallies.setdefault(key, Tally())
            (tally.complaints, tally.complaint_ack_in_time, tally.complaint_ack_decided,
             tally.complaint_resolved_in_time, tally.complaint_resolved_decided) = (int(c) for c in counts)


def _tally_ratings(scope: _Scope, period: Period, tallies: dict) -> None:
    """Satisfaction scores given in the period, by the case's group: a callback's or a follow-up call's
    completion, or a survey's answer."""
    score = case((CaseEvent.kind == SURVEY_EVENT, CaseEvent.data["score"].as_integer()),
                 else_=CaseEvent.data[("data", "satisfaction")].as_integer())
    query = scope.select(func.count(), _count_if(score >= SATISFIED_FROM), func.coalesce(func.sum(score), 0)) \
        .join(CaseEvent, CaseEvent.case_id == Case.id) \
        .where(rating_event(),
               score.is_not(None), CaseEvent.at >= period.start, CaseEvent.at < period.end)
    for key, ratings, satisfied, total in db.session.execute(scope.grouped(query)):
        if ratings:
            tally = tallies.setdefault(key, Tally())
            tally.ratings, tally.satisfied, tally.score_sum = int(ratings), int(satisfied), int(total)


def _tally_backlog(scope: _Scope, at: datetime, tallies: dict) -> None:
    """Cases open at ``at`` (opened before, not closed by then), by age."""
    bucket = case(*[(Case.created_at > at - timedelta(days=days), name) for name, days in BUCKETS if days],
                  else_=BUCKETS[-1][0]).label("bucket")
    query = scope.select(bucket, func.count()).where(
        Case.created_at < at, or_(Case.closed_at.is_(None), Case.closed_at >= at), _support())
    for key, name, count in db.session.execute(scope.grouped(query, bucket)):
        tallies.setdefault(key, Tally()).backlog[name] += int(count)


def _check_agent(filters: dict[str, str]) -> None:
    agent = filters.get("agent")
    if agent is not None and db.session.scalar(select(User.id).where(User.username == agent)) is None:
        raise ValidationFailed("unknown user", [{"field": "query.agent", "message": f"no user '{agent}'"}])
    customer = filters.get("customer_id")
    if customer is not None and db.session.get(Customer, customer) is None:
        raise ValidationFailed("unknown customer", [{"field": "query.customer_id", "message": f"no customer {customer}"}])


def _order(group_by: str, keys: list[str | None]) -> list[str | None]:
    known = VOCABULARIES.get(group_by, ())
    return sorted(keys, key=lambda k: (k is None, k not in known, known.index(k) if k in known else 0, k or ""))


def report(user: User, first: date, last: date, group_by: str = "none",
           filters: dict[str, str] | None = None, now: datetime | None = None) -> Report:
    """The KPIs of the cases matching ``filters``, over the period, per group and in total."""
    require_role(user, *READERS)
    problems = period_problems(first, last)
    if group_by not in GROUPINGS:
        problems.append({"field": "group_by", "message": f"one of {', '.join(GROUPINGS)}"})
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    problems += [{"field": name, "message": "not a filter"} for name in filters if name not in FILTERS]
    if problems:
        raise ValidationFailed("the request is not valid", problems)
    _check_agent(filters)
    return compute(first, last, group_by, filters, now)


def compute(first: date, last: date, group_by: str = "none", filters: dict[str, Any] | None = None,
            now: datetime | None = None) -> Report:
    """The report itself, for callers that checked the reader and the query (the quarterly review)."""
    filters = filters or {}
    now = now or utcnow()
    period, scope = Period(first, last), _Scope(group_by, filters)
    tallies: dict[str | None, Tally] = {}
    total_p90 = _tally_cohort(scope, period, now, tallies)
    _tally_complaints(scope, period, now, tallies)
    _tally_ratings(scope, period, tallies)
    backlog_at = min(period.end, now)
    _tally_backlog(scope, backlog_at, tallies)
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    total.first_response_p90 = total_p90  # not additive (None: taken from the values added)
    groups = [] if group_by == "none" else [
        Group(key, Kpis.of(tallies[key], None)) for key in _order(group_by, list(tallies))
        if tallies[key] != Tally()]
    return Report(first, last, TIMEZONE, group_by, filters, now, backlog_at,
                  Kpis.of(total, period.feedback_target()), groups)


__all__ = ["BUCKETS", "FILTERS", "GROUPINGS", "MAX_YEARS", "READERS", "TIMEZONE", "Group", "Kpis", "Report",
           "compute", "period_problems", "report"]
