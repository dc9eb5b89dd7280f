"""A production start refuses the default SECRET_KEY and cookies without Secure; a development
run (CASEFLOW_ENV=development: make run, make test) and the tests accept them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server import create_app
from server.config import UnsafeConfiguration

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": False, "DEVELOPMENT": False}
GOOD_KEY = "k" * 48


def test_production_refuses_the_default_secret_key():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY is the default"):
        create_app({**PRODUCTION, "SESSION_COOKIE_SECURE": True})
    with pytest.raises(UnsafeConfiguration, match="shorter than 32"):
        create_app({**PRODUCTION, "SECRET_KEY": "short", "SESSION_COOKIE_SECURE": True})


def test_production_refuses_cookies_without_secure():
    with pytest.raises(UnsafeConfiguration, match="SESSION_COOKIE_SECURE"):
        create_app({**PRODUCTION, "SECRET_KEY": GOOD_KEY, "SESSION_COOKIE_SECURE": False})


def test_production_starts_with_a_real_key_and_secure_cookies_and_development_with_neither():
    assert create_app({**PRODUCTION, "SECRET_KEY": GOOD_KEY, "SESSION_COOKIE_SECURE": True}).config["SECRET_KEY"] == GOOD_KEY
    assert create_app({**PRODUCTION, "DEVELOPMENT": True}).config["SESSION_COOKIE_SECURE"] is False


def test_a_process_started_without_the_development_flag_exits_with_the_reason():
    env = {k: v for k, v in os.environ.items() if k not in ("CASEFLOW_ENV", "SECRET_KEY", "SESSION_COOKIE_SECURE")}
    done = subprocess.run([sys.executable, "-c", "from server import create_app; create_app()"], cwd=ROOT,
                          env={**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": "sqlite://"},
                          capture_output=True, text=True)
    assert done.returncode != 0 and "refusing to start in production" in done.stderr
    assert "CASEFLOW_ENV=development" in done.stderr
    ok = subprocess.run([sys.executable, "-c", "from server import create_app; create_app()"], cwd=ROOT,
                        env={**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": "sqlite://", "CASEFLOW_ENV": "development"},
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
