"""The permission matrix: every endpoint × every role, exhaustively."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from cases.core import accounts
from cases.core.models import Role
from gateway import permissions
from gateway.auth import PUBLIC_ENDPOINTS
from tests.conftest import FAST_HASH, PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
ROLES = [r.value for r in Role]


def _routes(app) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def test_every_endpoint_is_in_the_matrix(app):
    routes = {(endpoint, method) for endpoint, method, _ in _routes(app)}
    assert routes == set(permissions.MATRIX)


@pytest.fixture
def one_user_per_role(world):
    for role in ROLES:
        accounts.create_user(f"only_{role}", PASSWORD, [role], hash_method=FAST_HASH,
                             customer_code="ACME" if role == "customer" else None)


def test_every_role_on_every_endpoint(app, api, one_user_per_role):
    checked = 0
    for endpoint, method, url in _routes(app):
        allowed, _ = permissions.MATRIX[(endpoint, method)]
        for role in ROLES:
            r = api.request(method, url, f"only_{role}", json={})
            refused = r.status_code == 403 and r.json["code"] == "role_not_allowed"
            assert refused is (role not in allowed), (endpoint, method, role, r.status_code, r.json)
            if refused:
                assert r.json["required_roles"] == sorted(allowed)
            assert r.status_code < 500
            checked += 1
    assert checked == len(permissions.MATRIX) * len(ROLES)


def test_the_documented_matrix_is_the_enforced_one():
    assert permissions.as_markdown() in (ROOT / "docs" / "permissions.md").read_text()
