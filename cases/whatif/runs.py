"""What if: replay a period's cases under a proposal, beside what happened and the control.

``replay_period`` reads the history on a read-only connection of its own (cases/whatif/history.py),
in batches, and never writes; ``explain`` says for one case why its outcome differs; ``save``,
``list_runs``, ``read_run``, ``delete_run`` and ``compare`` keep replays with their inputs; ``csv_rows``
flattens a result for a spreadsheet. Managers, process owners and admins may replay.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, select

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import NotFound, ValidationFailed
from cases.core.models import Role, User, utcnow
from cases.kpis import report as kpis
from cases.kpis.figures import Period, period_problems
from cases.whatif import assignment as assignments
from cases.whatif import explain as explaining
from cases.whatif import history, routing
from cases.whatif import proposal as proposals
from cases.whatif.models import WhatifRun
from cases.whatif.replay import Outcome, World, replay, stored
from cases.whatif.results import COLUMNS, GROUPINGS, Accumulator, load
from engine.isolation.sandbox import default_sandbox

READERS = (Role.MANAGER.value, Role.PROCESS_OWNER.value, Role.ADMIN.value)
KPI_FIGURES = ("cases", "first_response_within_sla", "resolution_within_sla", "first_response_average_seconds")
Progress = Callable[[int, int], None]


def _check_period(first: date, last: date) -> Period:
    if problems := period_problems(first, last):
        raise ValidationFailed("the request is not valid", problems)
    return Period(first, last)


def _limits(acc: Accumulator) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"code": "process_not_rerun", "count": None,
              "message": "The process is not run again: every step happens as it did, at the same instant "
                         "(who did what, when the customer answered); only the promises and the business "
                         "time counted against them change. A changed diagram's user-task outcomes are not "
                         "replayed; a draft classification table (routing) and an assignment proposal (who "
                         "would have received each task) are replayed on their own, and the SLA figures keep "
                         "the priorities staff set and the work as it was timed."},
             {"code": "rungs_reached", "count": None,
              "message": "Warnings and escalations are the rungs each clock reached; the escalations recorded "
                         "also depended on the diagram's alarms and on acknowledgements (a manager rung is "
                         "skipped once a supervisor acknowledged the breach)."}]
    if acc.limits.get("promise_not_made"):
        found.append({"code": "promise_not_made", "count": acc.limits["promise_not_made"],
                      "message": "Targets the proposal does not make (no rule or no minutes for them): left out."})
    if acc.limits.get("no_targets"):
        found.append({"code": "no_targets", "count": acc.limits["no_targets"],
                      "message": "Cases without any stored SLA target: a promise they were never given is not "
                                 "invented (when it would have been met is unknown)."})
    if acc.tier_sources.get("record"):
        found.append({"code": "tier_from_record", "count": acc.tier_sources["record"],
                      "message": "Cases opened before tiers were kept, of customers without contracts: the tier "
                                 "is today's, from the customer record."})
    return found


def _kpi_check(actor: User, period: Period, now: datetime, acc: Accumulator) -> dict[str, Any]:
    """The KPI report's figures beside the stored outcomes and the control: they must agree."""
    totals = kpis.report(actor, period.first, period.last, now=now).totals
    reported = {"cases": totals.cases.value,
                "first_response_within_sla": [totals.first_response_within_sla.numerator,
                                              totals.first_response_within_sla.denominator],
                "resolution_within_sla": [totals.resolution_within_sla.numerator,
                                          totals.resolution_within_sla.denominator],
                "first_response_average_seconds": totals.first_response_average_seconds.value}
    out = {}
    for column in ("actual", "control"):
        figures = acc.totals[column].figures()
        out[column] = {"cases": figures["cases"],
                       "first_response_within_sla": [figures["first_response_within_sla"]["numerator"],
                                                     figures["first_response_within_sla"]["denominator"]],
                       "resolution_within_sla": [figures["resolution_within_sla"]["numerator"],
                                                 figures["resolution_within_sla"]["denominator"]],
                       "first_response_average_seconds": figures["first_response_average_seconds"]}
    return {"report": reported, **out, "equal": reported == out["control"] == out["actual"]}


def _proposed(proposal: proposals.Proposal, world: World, case: history.CaseFacts, control: list[Outcome],
              now: datetime) -> list[Outcome]:
    """The case under the proposal. Without a policy, a target on a calendar the proposal leaves alone has
    exactly the control's inputs (its stored minutes and calendar): its control outcome is reused."""
    if proposal.empty:
        return control
    if proposal.policy is None and not any(t.calendar in proposal.calendars for t in case.targets):
        return control
    return replay(world, case, now)


def replay_period(actor: User, first: date, last: date, proposal_fields: Any, now: datetime | None = None,
                  progress: Progress | None = None) -> dict[str, Any]:
    """The period's support cases replayed under the proposal, beside what happened and the control."""
    require_role(actor, *READERS)
    period = _check_period(first, last)
    proposal = proposals.check(proposal_fields)
    now = now or utcnow()
    config = current_app.config
    batch_size = int(config.get("WHATIF_BATCH_SIZE") or history.BATCH_SIZE)
    acc = Accumulator()
    routed = routing.RoutingTally(proposal.classification) if proposal.classification is not None else None
    with history.reading(config) as conn:
        tables = routing.VersionTables(conn, default_sandbox())
        known = history.stored_calendars(conn)
        control_world, world = World(known), proposal.world(known)
        total, done = history.count(conn, period.start, period.end), 0
        if progress:
            progress(0, total)
        for batch in history.batches(conn, period.start, period.end, batch_size):
            for case in batch:
                control = replay(control_world, case, now)
                acc.add(case, stored(case, now), control, _proposed(proposal, world, case, control, now))
            if routed is not None:
                for facts in routing.texts(conn, {case.id: case.tier for case in batch}).values():
                    routed.add(facts, tables)
            done += len(batch)
            if progress:
                progress(done, total)
        acc.fold()
        tasks = history.task_load(conn, period.start, period.end)
        assigned = None
        if proposal.assignment is not None:
            assigned = assignments.replay(assignments.read(conn, period.start, period.end), proposal.assignment)
    kpi_check = _kpi_check(actor, period, now, acc)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": kpis.TIMEZONE,
        "computed_at": now.isoformat(), "proposal": proposal.raw, "cases": acc.totals["actual"].cases,
        "control": {"equal": acc.mismatched_cases == 0 and kpi_check["equal"],
                    "mismatched_cases": acc.mismatched_cases, "mismatches": acc.mismatches, "kpis": kpi_check},
        "totals": {c: acc.totals[c].figures() for c in COLUMNS},
        "groups": acc.groups_out(),
        "changed": {"cases": acc.changed_cases, "targets": acc.changed_targets, "listed": acc.changed},
        "load": load(tasks),
        "tier_sources": dict(acc.tier_sources),
        "limits": _limits(acc) + (_routing_limits(routed) if routed is not None else [])
        + (assignments.limits(assigned) if assigned is not None else []),
        "routing": routed.result() if routed is not None else None,
        "assignment": assigned,
    }


def _routing_limits(routed: routing.RoutingTally) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{
        "code": "classification_proposal_only", "count": None,
        "message": "A classification table only proposes: staff confirmed or changed each proposal at the Classify "
                   "step. The routing replay says how often each table agrees with their decision; it does not "
                   "guess what they would have decided, and the SLA figures keep the priorities they set."}]
    if routed.unclassified:
        found.append({"code": "not_classified", "count": routed.unclassified,
                      "message": "Cases that never reached classification (no proposal stored): left out of routing."})
    if routed.failed:
        found.append({"code": "draft_table_failed", "count": len(routed.failed),
                      "message": "Cases on which the draft table failed (a cell could not be evaluated): listed "
                                 "under routing.failed."})
    return found


def explain(actor: User, number: str, proposal_fields: Any, now: datetime | None = None) -> dict[str, Any]:
    """One case under the control and under the proposal, every target with the reasons it differs."""
    require_role(actor, *READERS)
    proposal = proposals.check(proposal_fields)
    now = now or utcnow()
    with history.reading(current_app.config) as conn:
        case = history.one(conn, number)
        if case is None:
            raise NotFound(f"case {number} not found", resource="case", id=number)
        known = history.stored_calendars(conn)
        return explaining.explain(case, World(known), proposal.world(known), now)


# -- saved replays ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunView:
    id: int
    name: str
    first: date
    last: date
    cases: int
    created_at: datetime
    created_by: str | None
    proposal: dict[str, Any]
    result: dict[str, Any] | None  # None in lists


def _view(row: WhatifRun, author: str | None, full: bool) -> RunView:
    return RunView(row.id, row.name, row.first, row.last, row.cases, row.created_at, author, row.proposal,
                   row.result if full else None)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationFailed("the request is not valid", [{"field": "name", "message": "1 to 200 characters"}])
    return name.strip()


def save(actor: User, name: Any, first: date, last: date, proposal_fields: Any,
         now: datetime | None = None, progress: Progress | None = None) -> RunView:
    """Replay (read-only), then keep the inputs and the result in one transaction."""
    name = _check_name(name)
    result = replay_period(actor, first, last, proposal_fields, now, progress)
    return _store(actor, name, first, last, result)


@use_case
def _store(actor: User, name: str, first: date, last: date, result: dict[str, Any]) -> RunView:
    row = WhatifRun(name=name, first=first, last=last, proposal=result["proposal"], result=result,
                    cases=result["cases"], created_at=utcnow(), created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "whatif_saved", str(row.id), name=name, cases=row.cases)
    return _view(row, actor.username, True)


def _with_author() -> Select[WhatifRun, str]:
    return select(WhatifRun, User.username).outerjoin(User, User.id == WhatifRun.created_by_id)


def list_runs(actor: User) -> list[RunView]:
    require_role(actor, *READERS)
    rows = db.session.execute(_with_author().order_by(WhatifRun.id.desc()).limit(200)).all()
    return [_view(row, author, False) for row, author in rows]


def read_run(actor: User, run_id: int) -> RunView:
    require_role(actor, *READERS)
    found = db.session.execute(_with_author().where(WhatifRun.id == run_id)).first()
    if found is None:
        raise NotFound(f"replay {run_id} not found", resource="whatif_run", id=run_id)
    return _view(found[0], found[1], True)


@use_case
def delete_run(actor: User, run_id: int) -> None:
    require_role(actor, *READERS)
    row = db.session.get(WhatifRun, run_id)
    if row is None:
        raise NotFound(f"replay {run_id} not found", resource="whatif_run", id=run_id)
    db.session.delete(row)
    audit.record(actor, "whatif_deleted", str(run_id), name=row.name)


def compare(actor: User, first_id: int, second_id: int) -> dict[str, Any]:
    """Two saved replays side by side: their inputs, their proposal figures and the difference."""
    a, b = read_run(actor, first_id), read_run(actor, second_id)
    ra, rb = a.result or {}, b.result or {}
    rows = []
    for figure in ("first_response_within_sla", "resolution_within_sla"):
        va, vb = ra["totals"]["proposal"][figure]["value"], rb["totals"]["proposal"][figure]["value"]
        rows.append({"figure": figure, "first": va, "second": vb,
                     "difference": None if va is None or vb is None else round(vb - va, 4)})
    for figure in ("breaches", "first_response_average_seconds"):
        va, vb = ra["totals"]["proposal"][figure], rb["totals"]["proposal"][figure]
        rows.append({"figure": figure, "first": va, "second": vb,
                     "difference": None if va is None or vb is None else round(vb - va, 1)})
    if ra.get("assignment") and rb.get("assignment"):  # two assignment proposals: what each moves
        for figure, path in (("assignment_moved_tasks", ("moved", "tasks")),
                             ("assignment_nobody_on_duty", ("nobody_on_duty", "proposal"))):
            va, vb = ra["assignment"][path[0]][path[1]], rb["assignment"][path[0]][path[1]]
            rows.append({"figure": figure, "first": va, "second": vb, "difference": vb - va})
    same_period = (a.first, a.last) == (b.first, b.last)
    return {"first": {"id": a.id, "name": a.name, "from": a.first.isoformat(), "to": a.last.isoformat(),
                      "proposal": a.proposal, "control_equal": ra["control"]["equal"]},
            "second": {"id": b.id, "name": b.name, "from": b.first.isoformat(), "to": b.last.isoformat(),
                       "proposal": b.proposal, "control_equal": rb["control"]["equal"]},
            "same_period": same_period, "figures": rows}


# -- CSV ---------------------------------------------------------------------------------------------
CSV_HEADER = ("grouping", "key", "figure", *COLUMNS)


def csv_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One row per grouping × key × figure, with the three columns (shares as values 0..1)."""
    rows: list[tuple[Any, ...]] = []

    def emit(grouping: str, key: Any, columns: dict[str, dict[str, Any]]) -> None:
        for figure in ("cases", "first_response_within_sla", "resolution_within_sla",
                       "first_response_average_seconds", "breaches"):
            values = [columns[c][figure] for c in COLUMNS]
            values = [v["value"] if isinstance(v, dict) else v for v in values]
            rows.append((grouping, key if key is not None else "", figure, *values))
        for level in ("warning", "breach", "manager"):
            rows.append((grouping, key if key is not None else "", f"rungs_{level}",
                         *[columns[c]["rungs"][level] for c in COLUMNS]))

    emit("total", "", result["totals"])
    for grouping in GROUPINGS:
        for group in result["groups"].get(grouping, []):
            emit(grouping, group["key"], group)
    assigned = result.get("assignment")
    if assigned:  # tasks received per person and per role (roles: given to a person, not left in the lane)
        for grouping, items in (("assignee", assigned["people"]), ("role", assigned["roles"])):
            for item in items:
                rows.append((grouping, item["key"] if item["key"] is not None else "", "tasks_received",
                             *[item[c] for c in COLUMNS]))
        rows.append(("assignment", "", "moved_tasks", "", 0, assigned["moved"]["tasks"]))
        rows.append(("assignment", "", "nobody_on_duty", "", assigned["nobody_on_duty"]["control"],
                     assigned["nobody_on_duty"]["proposal"]))
    return rows


def as_csv(result: dict[str, Any]) -> str:
    """The result as CSV text (UTF-8 with a byte order mark, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in csv_rows(result):
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff" + out.getvalue()


def csv_filename(first: str, last: str) -> str:
    return f"whatif_{first}_{last}.csv"
