"""The escalation queue counts the running targets of open cases without reading the cases: each
target's ``case_open`` is its case's status, kept by the database (cases/sla/models.py
CASE_OPEN_TRIGGERS, migrations/versions/0021_h16e). These tests hold the queue against the join
with the open cases it replaced, whoever writes the tables: the process closing a case, a case
closed and reopened by a statement, a target inserted or its flag written by hand.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select, text, update

from cases.casework import escalations
from cases.core.db import db
from cases.core.models import Case, utcnow
from cases.sla.models import SlaTarget
from tests.helpers import open_case, step

#: a week after the cases opened: every running target is breached, so all of them are in the queue
LATER = timedelta(days=30)


def by_join(now) -> list[tuple[int, str, int]]:
    """The queue's rows as the query before 0021_h16e read them: joined with the open cases."""
    breached = or_(SlaTarget.breached_at.is_not(None), SlaTarget.due_at <= now)
    at_risk = and_(SlaTarget.breached_at.is_(None), SlaTarget.due_at > now, SlaTarget.warning_at <= now)
    rows = db.session.execute(select(SlaTarget.case_id, SlaTarget.kind, SlaTarget.cycle)
                              .join(Case, Case.id == SlaTarget.case_id)
                              .where(SlaTarget.state == "running", Case.status == "open", or_(breached, at_risk))
                              .order_by(SlaTarget.due_at, SlaTarget.id))
    return [tuple(row) for row in rows]


def queued(world, now, **filters) -> tuple[list[tuple[int, str, int]], int]:
    db.session.expire_all()
    page = escalations.queue(world.user("supervisor"), filters, 1, 100, now=now)
    return [(e.case.id, e.target["kind"], e.target["cycle"]) for e in page.items], page.total


def same_as_join(world, now, **filters) -> set[int]:
    """The queue's page and total are the join's rows; returns the cases in it."""
    rows = [row for row in by_join(now) if all(_matches(row[0], key, value) for key, value in filters.items())]
    assert queued(world, now, **filters) == (rows, len(rows))
    return {case_id for case_id, _, _ in rows}


def _matches(case_id: int, key: str, value: str) -> bool:
    case = db.session.get(Case, case_id)
    if key == "tier":
        return case.customer.tier == value
    now = utcnow() + LATER
    target_rows = db.session.scalars(select(SlaTarget).where(SlaTarget.case_id == case_id)).all()
    assert key == "status" and all(t.due_at <= now for t in target_rows)
    return value == "breached"


def flags(case_id: int) -> list[tuple[str, bool]]:
    db.session.expire_all()
    return [(t.state, t.case_open) for t in db.session.scalars(
        select(SlaTarget).where(SlaTarget.case_id == case_id).order_by(SlaTarget.id))]


def close_by_hand(case_id: int, status: str = "closed") -> None:
    db.session.execute(update(Case).where(Case.id == case_id).values(status=status))
    db.session.commit()


def test_a_case_the_process_closes_leaves_the_queue_and_its_clocks_stop(api, world):
    acme = world.customers["ACME"].id
    done, waiting = open_case(api, customer_id=acme), open_case(api, customer_id=acme)
    now = utcnow() + LATER
    assert same_as_join(world, now) == {done["id"], waiting["id"]}
    step(api, done["id"], "classify", {"category": "data_problem", "priority": "medium"})
    step(api, done["id"], "assign", {"owner": "consultant1", "due_at": "2030-01-01T09:00:00Z"})
    step(api, done["id"], "resolve")
    step(api, done["id"], "confirm")
    step(api, done["id"], "callback")
    assert db.session.get(Case, done["id"]).status == "closed"
    # closing stopped every clock (after_step: the clock follows before the case closes) ...
    assert [state for state, _ in flags(done["id"])] and all(state in ("met", "cancelled")
                                                              for state, _ in flags(done["id"]))
    # ... and the database marked the case's targets
    assert {flag for _, flag in flags(done["id"])} == {False}
    assert {flag for _, flag in flags(waiting["id"])} == {True}
    assert same_as_join(world, now) == {waiting["id"]}


def test_a_case_closed_and_reopened_by_a_statement_leaves_and_rejoins_the_queue(api, world):
    acme, vip = world.customers["ACME"].id, world.customers["VIPCO"].id
    first, second = open_case(api, customer_id=acme), open_case(api, customer_id=vip, priority_hint="low")
    now = utcnow() + LATER
    before = queued(world, now)
    assert same_as_join(world, now) == {first["id"], second["id"]}
    # a closed case with running targets (the process never leaves one: written by hand here)
    close_by_hand(first["id"])
    assert flags(first["id"]) == [("running", False), ("running", False)]
    assert same_as_join(world, now) == {second["id"]}
    assert same_as_join(world, now, tier="standard") == set()
    assert same_as_join(world, now, tier="vip") == {second["id"]}
    close_by_hand(first["id"], "open")
    assert flags(first["id"]) == [("running", True), ("running", True)]
    assert queued(world, now) == before
    assert same_as_join(world, now, status="breached") == {first["id"], second["id"]}
    assert queued(world, now, status="at_risk") == ([], 0)


def test_a_target_written_by_hand_takes_its_case_status(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    close_by_hand(case["id"])
    now = utcnow()
    target = SlaTarget(case_id=case["id"], kind="next_update", cycle=9, policy_version=0, calendar="default",
                       target_minutes=60, extended_minutes=0, warning_percent=75, manager_after_minutes=120,
                       started_at=now, elapsed_seconds=0, running_since=now, state="running",
                       warning_at=now, due_at=now, case_open=True)
    db.session.add(target)
    db.session.commit()
    assert flags(case["id"]) == [("running", False)] * 3
    # the flag cannot be set against the case's status
    db.session.execute(text("UPDATE sla_targets SET case_open = :yes WHERE case_id = :case").bindparams(
        yes=True, case=case["id"]))
    db.session.commit()
    assert flags(case["id"]) == [("running", False)] * 3
    assert same_as_join(world, now + LATER) == set()
    close_by_hand(case["id"], "open")
    assert flags(case["id"]) == [("running", True)] * 3
    assert same_as_join(world, now + LATER) == {case["id"]}
