"""POST /cases under load while the database restarts (a PostgreSQL server of the test's own,
stopped like a crash and started again, twice): clients retry with the same Idempotency-Key
until they get 201. Nothing is saved twice, nothing saved goes unacknowledged, and every error
on the way is a problem+json answer (503 with Retry-After, or 409), never an HTML page."""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case, Customer
from cases.process.deploy import deploy, read_directory
from server import create_app
from tests.conftest import FAST_HASH, PASSWORD, ROOT
from tests.helpers import CASE_FIELDS
from tests.own_postgres import OwnPostgres

CLIENTS = 3
CASES_PER_CLIENT = 12
ATTEMPTS = 200  # per case: a bound for a hang, not a timing assertion


@pytest.fixture
def own_server(tmp_path):
    pg = OwnPostgres()
    app = create_app({"SQLALCHEMY_DATABASE_URI": pg.url, "PASSWORD_HASH_METHOD": FAST_HASH,
                      "ATTACHMENT_DIR": str(tmp_path / "attachments")})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        deploy(*read_directory(ROOT / "processes", ROOT / "forms"))
        customer = Customer(code="ACME", name="Acme Ltd", tier="standard")
        db.session.add(customer)
        db.session.commit()
        accounts.create_user("agent1", PASSWORD, ["agent"], hash_method=FAST_HASH)
        customer_id = customer.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pg, app, f"http://127.0.0.1:{server.server_port}/api/v1", customer_id
    finally:
        server.shutdown()
        thread.join(30)
        with app.app_context():
            db.engine.dispose()
        pg.close()


def test_a_database_restart_under_load_neither_doubles_nor_loses_a_case(own_server):
    pg, app, base, customer_id = own_server
    token = requests.post(f"{base}/auth/token", json={"username": "agent1", "password": PASSWORD}, timeout=30)
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    acknowledged: dict[str, int] = {}
    refusals: list[tuple[int, str, str | None]] = []
    connection_errors = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        with requests.Session() as session:
            for _ in range(CASES_PER_CLIENT):
                key = str(uuid.uuid4())
                body = {**CASE_FIELDS, "customer_id": customer_id, "title": key}
                for _attempt in range(ATTEMPTS):
                    try:
                        r = session.post(f"{base}/cases", json=body, timeout=30,
                                         headers={**headers, "Idempotency-Key": key})
                    except requests.ConnectionError:
                        with lock:
                            connection_errors[n] += 1
                        time.sleep(0.1)
                        continue
                    if r.status_code == 201:
                        assert r.json()["title"] == key
                        with lock:
                            acknowledged[key] = r.json()["id"]
                        break
                    with lock:
                        refusals.append((r.status_code, r.headers.get("Content-Type", ""), r.headers.get("Retry-After")))
                    time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for after in (5, 20):  # restart once some cases are in, and again later
        for _ in range(600):
            with lock:
                if len(acknowledged) >= after:
                    break
            time.sleep(0.05)
        pg.restart("immediate")
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads)

    assert len(acknowledged) == CLIENTS * CASES_PER_CLIENT  # every case acknowledged in the end
    with app.app_context():
        titles = Counter(db.session.scalars(select(Case.title)))
        ids = dict(db.session.execute(select(Case.title, Case.id)).all())
    assert titles == Counter(dict.fromkeys(acknowledged, 1))  # none doubled, none saved unacknowledged
    assert ids == acknowledged  # and the answer named the case that was saved
    for status, content_type, retry_after in refusals:
        assert content_type == "application/problem+json" and status in (409, 503), (status, content_type)
        if status == 503:
            assert retry_after is not None
    print(f"\nrestarts answered: {Counter(s for s, _c, _r in refusals)}, connection errors {sum(connection_errors.values())}")
