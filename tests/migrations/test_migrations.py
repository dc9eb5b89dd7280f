"""The migrations are the schema: one head, and nothing in the models they miss."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from cases.core.db import db


def test_migrations_have_one_head(app, app_ctx):
    config = app.extensions["migrate"].migrate.get_config(directory=app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_match_the_migrated_database(app_ctx):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []

