"""The migrations are the schema: one head, and nothing in the models they miss."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from cases.core.db import db
from cases.core.models import MIGRATION_ONLY_INDEXES, include_in_comparison


def test_migrations_have_one_head(app, app_ctx):
    config = app.extensions["migrate"].migrate.get_config(directory=app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_match_the_migrated_database(app_ctx):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_in_comparison}),
                                db.metadata)
    assert diff == []


def test_the_migration_only_indexes_are_postgresql_ones(app_ctx):
    """What the comparison leaves out exists exactly on PostgreSQL (0019_h16v: the search's trigram index)."""
    with db.engine.connect() as conn:
        names = {ix["name"] for table in ("cases", "case_events") for ix in sa.inspect(conn).get_indexes(table)}
        expected = MIGRATION_ONLY_INDEXES if conn.dialect.name == "postgresql" else set()
    assert names & MIGRATION_ONLY_INDEXES == expected


def test_0019_downgrades_and_upgrades_again(app, app_ctx):
    """The volume indexes (0019_h16v) go and come back; the case search works at both revisions."""
    from flask_migrate import downgrade, upgrade

    from cases.core.models import Case, Customer

    directory = app.extensions["migrate"].directory
    customer = Customer(code="MIG", name="Migration Ltd", tier="standard")
    db.session.add(customer)
    db.session.flush()
    db.session.add(Case(number="CF-2026-777001", customer_id=customer.id, channel="web", title="登录失败 100%",
                        description="d"))
    db.session.commit()

    def indexes() -> set[str]:
        with db.engine.connect() as conn:
            inspector = sa.inspect(conn)
            return {ix["name"] for table in ("cases", "tasks", "case_events", "sla_targets")
                    for ix in inspector.get_indexes(table)}

    ours = {"ix_cases_open", "ix_tasks_open_pooled", "ix_case_events_confirmations", "ix_case_events_self_service",
            "ix_case_events_ratings", "ix_sla_targets_open_queue",
            "ix_sla_targets_first_response", "ix_sla_targets_first_resolution", "ix_cases_cohort"}
    assert ours <= indexes()
    db.session.remove()
    try:
        downgrade(directory=directory, revision="0019_h18p")
        assert not (ours | MIGRATION_ONLY_INDEXES) & indexes()
        found = db.session.scalars(sa.select(Case.number).where(Case.title.ilike("%100\\%%", escape="\\"))).all()
        assert found == ["CF-2026-777001"]
        db.session.remove()
    finally:
        upgrade(directory=directory)
    assert ours <= indexes()
    with db.engine.connect() as conn:
        assert (MIGRATION_ONLY_INDEXES <= indexes()) == (conn.dialect.name == "postgresql")



def test_0021_marks_the_closed_cases_targets_and_keeps_them_marked(app, app_ctx):
    """0021_h16e: the targets of a case closed before the upgrade start unmarked; the triggers keep
    the flag after it."""
    from datetime import datetime, timezone

    from flask_migrate import downgrade, upgrade

    from cases.core.models import Case, Customer

    directory = app.extensions["migrate"].directory
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    customer = Customer(code="MIG21", name="Migration 21", tier="standard")
    db.session.add(customer)
    db.session.flush()
    rows = [Case(number=f"CF-2026-7770{n}", customer_id=customer.id, channel="web", title="t", description="d")
            for n in (21, 22)]
    db.session.add_all(rows)
    db.session.commit()
    cases = [row.id for row in rows]
    db.session.remove()
    downgrade(directory=directory, revision="0020_h18v")
    try:
        with db.engine.begin() as conn:
            for case_id in cases:
                conn.execute(sa.text(
                    "INSERT INTO sla_targets (case_id, kind, cycle, policy_version, calendar, target_minutes, "
                    "extended_minutes, warning_percent, manager_after_minutes, started_at, elapsed_seconds, "
                    "state) VALUES (:c, 'resolution', 1, 0, 'default', 60, 0, 75, 120, :at, 0, 'running')"),
                    {"c": case_id, "at": at})
            conn.execute(sa.text("UPDATE cases SET status = 'closed' WHERE id = :c"), {"c": cases[1]})
    finally:
        upgrade(directory=directory)

    def marks() -> list[bool]:
        with db.engine.connect() as conn:
            return [bool(row[0]) for row in conn.execute(sa.text(
                "SELECT case_open FROM sla_targets WHERE case_id IN (:a, :b) ORDER BY case_id"),
                {"a": cases[0], "b": cases[1]})]

    assert marks() == [True, False]
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE cases SET status = CASE WHEN status = 'open' THEN 'closed' ELSE 'open' END "
                             "WHERE id IN (:a, :b)"), {"a": cases[0], "b": cases[1]})
    assert marks() == [False, True]
