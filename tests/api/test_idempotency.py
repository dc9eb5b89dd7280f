"""Creating calls with an Idempotency-Key: a retry gets the first answer and creates nothing; the
key is kept in the transaction that created, so a commit that fails keeps neither."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from api import idempotency as http_idempotency
from cases.core import db as db_module
from cases.core import idempotency
from cases.core.db import db
from cases.core.models import Case, utcnow
from tests.helpers import CASE_FIELDS

KEY = {"Idempotency-Key": "3f2b9c1e-7d4a-4e8b-9a51-0c6d2e8f1a77"}


def _cases() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Case))


def _body(world) -> dict:
    return {**CASE_FIELDS, "customer_id": world.customers["ACME"].id}


def test_a_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing(api, world):
    first = api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.headers.get("Location") == first.headers.get("Location")
    assert _cases() == 1


def test_the_same_key_for_another_request_is_refused_and_changes_nothing(api, world):
    assert api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY).status_code == 201
    other = api.post("/api/v1/cases", "agent1", json={**_body(world), "title": "another"}, headers=KEY)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert other.json["errors"][0]["field"] == "header.Idempotency-Key"
    assert _cases() == 1


def test_keys_are_per_user(api, world):
    assert api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY).status_code == 201
    theirs = api.post("/api/v1/cases", "agent2", json=_body(world), headers=KEY)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert _cases() == 2


def test_a_malformed_key_is_a_400_naming_the_header(api, world):
    for bad in ("", "x" * 201, "bad key", "键"):
        r = api.post("/api/v1/cases", "agent1", json=_body(world), headers={"Idempotency-Key": bad})
        assert r.status_code == 400 and r.json["code"] == "invalid_idempotency_key", bad
        assert r.json["errors"][0]["field"] == "header.Idempotency-Key"
    assert _cases() == 0


def test_a_refused_call_keeps_no_answer_and_its_corrected_retry_runs(api, world):
    r = api.post("/api/v1/cases", "agent1", json={**_body(world), "channel": "pigeon"}, headers=KEY)
    assert r.status_code == 422 and _cases() == 0
    assert db.session.scalar(select(func.count()).select_from(idempotency.IdempotencyKey)) == 0
    # the key was not used up by a refusal; the same key with a body that passes creates
    ok = api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY)
    assert ok.status_code == 201 and _cases() == 1


def test_a_commit_that_fails_saves_neither_the_case_nor_the_key_and_says_503_with_retry_after(api, world, monkeypatch):
    real = idempotency.keep

    def database_gone(*args, **kwargs):
        real(*args, **kwargs)
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(idempotency, "keep", database_gone)
    r = api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY)
    assert r.status_code == 503 and r.json["code"] == "database_unavailable"
    assert r.headers["Retry-After"] == http_idempotency.RETRY_AFTER
    assert r.headers["Content-Type"] == "application/problem+json"
    assert _cases() == 0
    assert db_module._depth.get() == 0  # the request's unit was closed: later units commit again
    monkeypatch.setattr(idempotency, "keep", real)
    retry = api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY)  # the client's retry
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers and _cases() == 1


def test_kept_answers_go_after_a_day_and_the_key_may_then_be_used_again(api, world):
    assert api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY).status_code == 201
    later = utcnow() + idempotency.RETENTION + timedelta(minutes=1)
    assert idempotency.purge(now=utcnow()) == 0
    assert idempotency.purge(now=later) == 1
    again = api.post("/api/v1/cases", "agent1", json=_body(world), headers=KEY)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers and _cases() == 2


def test_the_openapi_document_names_the_header_and_the_503(api):
    operation = api.client.get("/api/openapi.json").json["paths"]["/api/v1/cases"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= operation["parameters"][0].items()
    assert "Retry-After" in operation["responses"]["503"]["headers"]
