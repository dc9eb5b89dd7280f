"""The replay's reading: a read-only transaction that refuses any write, on the replica when
WHATIF_DATABASE_URL names one; the live database stays as it was."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cases.core.db import db
from cases.whatif import history, runs
from tests.cases.kpis.test_kpis import sh
from tests.cases.whatif.snapshot import whole_database


def test_the_reading_transaction_refuses_writes(app, world):
    before = whole_database()
    with history.reading(app.config) as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 3
        with pytest.raises(DBAPIError):
            conn.execute(text("UPDATE customers SET name = 'changed'"))
    assert whole_database() == before
    with db.engine.begin() as conn:  # the pooled connection is writable again for the service
        conn.execute(text("UPDATE customers SET name = name"))


def test_a_replica_url_is_read_instead_of_the_service_database(app, world, dataset, tmp_path):
    replica = f"sqlite:///{tmp_path / 'replica.db'}"
    engine = create_engine(replica)
    db.metadata.create_all(engine)  # a replica that has not received the week's cases yet
    engine.dispose()
    owner = world.user("owner")
    app.config["WHATIF_DATABASE_URL"] = replica
    try:
        result = runs.replay_period(owner, date(2026, 11, 16), date(2026, 11, 22), {}, now=sh(26, 12))
    finally:
        app.config["WHATIF_DATABASE_URL"] = None
    assert result["cases"] == 0  # read from the replica ...
    assert result["control"]["kpis"]["report"]["cases"] == 7  # ... while the KPI report reads the service's
    assert not result["control"]["equal"]  # and the control says the two disagree
    assert runs.replay_period(owner, date(2026, 11, 16), date(2026, 11, 22), {}, now=sh(26, 12))["cases"] == 7
