"""bench/server_profile.py gives each profiled frame to the layer it runs in and names each session
state the way the benchmark reports it (the shares in bench/README.md are read off these)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server_profile():
    spec = importlib.util.spec_from_file_location("bench_server_profile", ROOT / "bench" / "server_profile.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("frame, layer", [
    ("Session._flush (sqlalchemy/orm/session.py:4730)", "SQLAlchemy"),
    ("SQLAlchemy.session (flask_sqlalchemy/extension.py:40)", "SQLAlchemy"),
    ("Connection.wait (psycopg/connection.py:495)", "psycopg"),
    ("Task.parent (SpiffWorkflow/task.py:124)", "SpiffWorkflow (the engine)"),
    ("Schema.dump (marshmallow/schema.py:500)", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("ThreadWorker.handle (gunicorn/workers/gthread.py:553)", "gunicorn"),
    ("complete (cases/casework/tasks.py:113)", "caseflow: cases/"),
    ("ProcessRun._guard (/work/main/engine/runtime.py:271)", "caseflow: engine/"),
    ("authenticate (gateway/auth.py:42)", "caseflow: gateway/"),
    ("JSONEncoder.iterencode (json/encoder.py:258)", "json (stdlib)"),
    ("uuid4 (uuid.py:723)", "uuid (stdlib)"),
    ("Thread.run (threading.py:982)", "other (stdlib, interpreter)"),
    # a library's own folder of the same name as a room is the library's, not caseflow's
    ("thing (/x/lib/python3.11/site-packages/somelib/cases/a.py:1)", "other (stdlib, interpreter)"),
])
def test_a_frame_is_given_to_its_layer(server_profile, frame, layer):
    assert server_profile.layer_of(frame) == layer


@pytest.mark.parametrize("state, wait_type, wait, name", [
    ("idle in transaction", "Client", "ClientRead", "idle in transaction (the application works, a transaction open)"),
    ("active", "Lock", "transactionid", "waiting for a lock (transactionid)"),
    ("active", "IO", "WALSync", "writing the WAL (commit)"),
    ("active", "LWLock", "WALWrite", "writing the WAL (commit)"),
    ("active", None, None, "running a statement"),
    ("idle", "Client", "ClientRead", "idle (no transaction)"),
    ("active", "LWLock", "LockManager", "active: LWLock/LockManager"),
])
def test_a_session_state_is_named_for_the_report(server_profile, state, wait_type, wait, name):
    assert server_profile._state_name(state, wait_type, wait) == name
