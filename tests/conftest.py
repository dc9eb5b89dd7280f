"""Test fixtures: a real database per test worker (SQLite file, or a PostgreSQL schema of its own
when TEST_DATABASE_URL/DATABASE_URL points to PostgreSQL), migrated with the real migrations,
the real process files deployed, and every table but the deployed versions emptied after each
test."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Customer
from cases.process.deploy import deploy, read_directory
from server import create_app

ROOT = Path(__file__).resolve().parent.parent
# a development run, also for the processes the tests start (a production start refuses the
# default SECRET_KEY: tests/server/test_production_config.py)
os.environ.setdefault("CASEFLOW_ENV", "development")
FAST_HASH = "pbkdf2:sha256:1000"
PASSWORD = "secret-pw"

def _postgres_url() -> str | None:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql")):
            return url.replace("postgres://", "postgresql://", 1).replace("postgresql://", "postgresql+psycopg://", 1) \
                if "+psycopg" not in url else url
    return None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    pg = _postgres_url()
    if pg is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'caseflow.db'}"
        return
    schema = f"cf_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg else "?"
    try:
        yield f"{pg}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "PASSWORD_HASH_METHOD": FAST_HASH,
                      "ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments"))})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        deploy(*read_directory(ROOT / "processes", ROOT / "forms"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE process_versions SET created_by_id = NULL"))  # versions stay
            for table in reversed(db.metadata.sorted_tables):  # children first
                if table.name != "process_versions":
                    conn.execute(table.delete())
        db.session.remove()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


@dataclass
class World:
    """Customers and one or more users for every role."""

    customers: dict[str, Customer]

    def user(self, username: str):
        from cases.core.models import User
        return db.session.scalar(db.select(User).where(User.username == username))


STAFF = [
    ("agent1", ["agent"]), ("agent2", ["agent"]), ("consultant1", ["service_consultant"]),
    ("consultant2", ["service_consultant"]), ("supervisor", ["supervisor"]),
    ("bizmanager", ["business_manager"]), ("techlead", ["technical_lead"]),
    ("complaints", ["complaint_officer"]), ("owner", ["process_owner"]), ("admin", ["admin"]),
]


@pytest.fixture
def world(app_ctx) -> World:
    customers = {}
    for code, name, tier in (("ACME", "Acme Ltd", "standard"), ("VIPCO", "VIP Co", "vip"),
                             ("OTHER", "Other Inc", "standard")):
        customers[code] = Customer(code=code, name=name, tier=tier)
        db.session.add(customers[code])
    db.session.commit()
    for username, roles in STAFF:
        accounts.create_user(username, PASSWORD, roles, hash_method=FAST_HASH)
    for username, code in (("acme_user", "ACME"), ("vip_user", "VIPCO"), ("other_user", "OTHER")):
        accounts.create_user(username, PASSWORD, ["customer"], customer_code=code, hash_method=FAST_HASH)
    return World(customers)


class ApiClient:
    """Flask's test client with a bearer token per user."""

    def __init__(self, client):
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 201, r.json
            self._tokens[username] = r.json["token"]
        return self._tokens[username]

    def forget_tokens(self) -> None:
        self._tokens.clear()

    def request(self, method: str, url: str, as_user: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if as_user:
            headers["Authorization"] = f"Bearer {self.token(as_user)}"
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url, as_user=None, **kw):
        return self.request("GET", url, as_user, **kw)

    def post(self, url, as_user=None, **kw):
        return self.request("POST", url, as_user, **kw)


@pytest.fixture
def api(app, world) -> ApiClient:
    return ApiClient(app.test_client())


@pytest.fixture
def restore_active_version(app_ctx):
    """For tests that deploy other versions: the real files are the active version again after."""
    yield
    deploy(*read_directory(ROOT / "processes", ROOT / "forms"))
