"""Log-ins are rate-limited: too many failures for a user name lock it for the window."""
from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core.accounts import LOGIN_WINDOW, MAX_FAILURES_PER_USER
from cases.core.db import db
from cases.core.models import LoginFailure
from tests.conftest import PASSWORD


def _login(api, username, password):
    return api.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_too_many_failures_lock_the_user_name_for_the_window(api, world):
    with freeze_time("2030-01-01 09:00:00"):
        for _ in range(MAX_FAILURES_PER_USER):
            assert _login(api, "agent1", "wrong").status_code == 401
        locked = _login(api, "agent1", PASSWORD)  # even the right password waits
        assert locked.status_code == 429 and locked.json["code"] == "too_many_attempts"
        assert 0 < int(locked.headers["Retry-After"]) <= LOGIN_WINDOW.total_seconds() + 1
        assert _login(api, "agent2", PASSWORD).status_code == 201  # other users are not affected
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == MAX_FAILURES_PER_USER
    with freeze_time("2030-01-01 09:00:00") as clock:
        clock.tick(LOGIN_WINDOW + timedelta(seconds=1))
        assert _login(api, "agent1", PASSWORD).status_code == 201


def test_unknown_user_names_count_too(api, world):
    with freeze_time("2031-01-01 09:00:00"):
        for _ in range(MAX_FAILURES_PER_USER):
            assert _login(api, "nobody", "x").status_code == 401
        assert _login(api, "nobody", "x").status_code == 429
