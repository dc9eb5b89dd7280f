"""The application's PostgreSQL connections start with DATABASE_SESSION_OPTIONS (JIT off by default),
merged with the options the URL carries; SQLite drops them."""
from __future__ import annotations

from sqlalchemy import text

from cases.core.db import SESSION_OPTIONS_KEY, db
from server import config


def test_jit_is_off_unless_told_otherwise():
    assert config.from_environment({})["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True, "connect_args": {SESSION_OPTIONS_KEY: "-c jit=off"}}
    kept = config.from_environment({"DATABASE_SESSION_OPTIONS": ""})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert kept["connect_args"] == {SESSION_OPTIONS_KEY: ""}
    more = config.from_environment({"DATABASE_SESSION_OPTIONS": " -c jit=off -c work_mem=8MB "})
    assert more["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"][SESSION_OPTIONS_KEY] == "-c jit=off -c work_mem=8MB"


def test_the_connections_have_them(app_ctx):
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            # the URL's own options (the tests' search_path) are kept beside them
            assert conn.execute(text("SELECT current_schema()")).scalar().startswith("cf_test_")
        else:
            assert conn.execute(text("SELECT 1")).scalar() == 1
