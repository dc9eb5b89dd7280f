"""What a transaction already read is read once (issue 16), and never hides a row that came or went."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, event, select

from cases.core.db import db, prime_rows, prime_transaction_rows, take_primed, transaction_rows, unit_of_work
from cases.sla.models import SlaPause
from tests.helpers import open_case

AT = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def _pauses(case_id: int) -> list[SlaPause]:
    return transaction_rows(SlaPause, case_id, lambda: db.session.scalars(
        select(SlaPause).where(SlaPause.case_id == case_id).order_by(SlaPause.id)))


def _counting():
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_second_read_sends_no_statement_and_a_new_or_deleted_row_is_seen(api, world):
    case_id = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    seen = _counting()
    with unit_of_work():
        assert _pauses(case_id) == []
        before = len([s for s in seen if "FROM sla_pauses" in s])
        assert _pauses(case_id) == []
        assert len([s for s in seen if "FROM sla_pauses" in s]) == before  # read once
        pause = SlaPause(case_id=case_id, reason="waiting:customer_reply", started_at=AT)
        db.session.add(pause)
        assert _pauses(case_id) == [pause]  # a pending row: the cache was dropped, the read flushed it
        db.session.delete(pause)
        assert _pauses(case_id) == []  # deleted in the session: read again
    with unit_of_work():
        db.session.add(SlaPause(case_id=case_id, reason="x", started_at=AT))
    with unit_of_work():
        assert len(_pauses(case_id)) == 1
        db.session.execute(delete(SlaPause).where(SlaPause.case_id == case_id))  # a bulk statement
        assert _pauses(case_id) == []


def test_a_released_savepoint_keeps_the_reads_and_a_rolled_back_one_forgets_them(api, world):
    case_id = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    seen = _counting()

    def reads() -> int:
        return len([s for s in seen if "FROM sla_pauses" in s])

    with unit_of_work():
        assert _pauses(case_id) == []
        with db.session.begin_nested():  # a timer batch's instance: its savepoint is released
            assert _pauses(case_id) == []
        before = reads()
        assert _pauses(case_id) == [] and reads() == before  # still read once
        savepoint = db.session.begin_nested()
        db.session.add(SlaPause(case_id=case_id, reason="waiting:customer_reply", started_at=AT))
        assert len(_pauses(case_id)) == 1  # read inside the savepoint, with its row
        savepoint.rollback()  # the row is undone: so is what was read inside
        assert _pauses(case_id) == []


def test_primed_rows_stand_in_for_the_reads(api, world):
    case_id = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    seen = _counting()
    with unit_of_work():
        prime_transaction_rows(SlaPause, {case_id: []})
        assert _pauses(case_id) == [] and not [s for s in seen if "FROM sla_pauses" in s]
        pause = SlaPause(case_id=case_id, reason="x", started_at=AT)
        db.session.add(pause)
        assert _pauses(case_id) == [pause]  # a new row still drops the primed list


def test_rows_primed_by_key_are_taken_once_and_a_row_of_a_key_forgets_that_key_only(api, world):
    """A timer batch primes a hundred instances' rows; one step adding or deleting a row of its own
    key must not drop the others' (they stay read), and must drop its own (its read sees the row)."""
    first = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    second = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    with unit_of_work():
        db.session.add(SlaPause(case_id=first, reason="x", started_at=AT))
    with unit_of_work():
        kept = db.session.scalars(select(SlaPause).where(SlaPause.case_id == first)).one()
        prime_rows(SlaPause, lambda row: row.case_id, {first: [kept], second: []})
        assert take_primed(SlaPause, 12345) is None  # never primed: read it
        db.session.add(SlaPause(case_id=second, reason="waiting:customer_reply", started_at=AT))
        assert take_primed(SlaPause, second) is None  # a row of its key came: read again
        assert take_primed(SlaPause, first) == [kept]  # the other key's rows stay
        assert take_primed(SlaPause, first) is None  # taken once
    with unit_of_work():
        kept = db.session.scalars(select(SlaPause).where(SlaPause.case_id == first)).one()
        prime_rows(SlaPause, lambda row: row.case_id, {first: [kept], second: []})
        db.session.delete(kept)
        assert take_primed(SlaPause, first) is None  # a row of it is being deleted
        assert take_primed(SlaPause, second) is not None
    with unit_of_work():
        prime_rows(SlaPause, lambda row: row.case_id, {first: [], second: []})
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        assert take_primed(SlaPause, first) is None  # a rollback forgets everything primed
        prime_rows(SlaPause, lambda row: row.case_id, {first: [], second: []})
        db.session.execute(delete(SlaPause).where(SlaPause.case_id == 0))  # a bulk statement on the table
        assert take_primed(SlaPause, second) is None
        prime_rows(SlaPause, lambda row: row.case_id, {first: []})
    with unit_of_work():
        assert take_primed(SlaPause, first) is None  # a new transaction starts with nothing primed


def test_a_read_flushes_only_for_its_own_table_also_without_autoflush(api, world):
    """A step reads without autoflush and writes once at the end: a change to another table does
    not make a read flush; a row of the read's own table added in the step does (so it is found)."""
    from cases.core.models import Case

    case_id = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    seen = _counting()
    with unit_of_work():
        case = db.session.get(Case, case_id)
        case.title = "changed in the step"
        assert _pauses(case_id) == []  # autoflush on: still no reason to write the case first
        assert not [s for s in seen if s.startswith("UPDATE cases")]
        with db.session.no_autoflush:
            pause = SlaPause(case_id=case_id, reason="waiting:customer_reply", started_at=AT)
            db.session.add(pause)
            assert _pauses(case_id) == [pause]  # its own table's new row: flushed, then read
            assert [s for s in seen if s.startswith("INSERT INTO sla_pauses")]
        assert _pauses(case_id) == [pause]
    assert [s for s in seen if s.startswith("UPDATE cases")]
