"""What an operator reads: /health (liveness), /ready (database, migrations, scheduler lease),
/metrics (Prometheus text, for the monitoring network or its token), and the request id in the
answer's header, its error body and its log lines."""
from __future__ import annotations

import json
import logging

from flask import g
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from cases.core.db import db
from cases.process import lease as leader
from gateway import logs
from tests.helpers import CASE_FIELDS


def _metrics(api, **kwargs) -> dict:
    r = api.client.get("/metrics", **kwargs)
    assert r.status_code == 200, r.get_data(as_text=True)
    found = {}
    for family in text_string_to_metric_families(r.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_health_is_liveness_only_and_ready_says_which_check_fails(api, app, world):
    assert api.client.get("/health").json == {"status": "ok"}
    web = api.client.get("/ready?scope=web")
    assert web.status_code == 200 and web.json["checks"]["database"] == "ok" and web.json["checks"]["migrations"] == "ok"
    no_scheduler = api.client.get("/ready")
    assert no_scheduler.status_code == 503 and no_scheduler.json["checks"]["scheduler"] == "none"
    lease = leader.for_engine(db.engine, 30)
    try:
        assert lease.try_acquire()
        ready = api.client.get("/ready")
        assert ready.status_code == 200 and ready.json["status"] == "ready"
        assert ready.json["scheduler"]["epoch"] == lease.epoch and ready.json["scheduler"]["holder"] == lease.holder
        lease.release()
        stale = api.client.get("/ready")
        assert stale.status_code == 503 and stale.json["checks"]["scheduler"] == "stale"
    finally:
        lease.release()
    assert api.client.get("/ready?scope=nonsense").status_code == 422


def test_ready_notices_a_schema_behind_the_migrations(api, app, world):
    version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.session.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    db.session.commit()
    try:
        r = api.client.get("/ready?scope=web")
        assert r.status_code == 503 and r.json["checks"]["migrations"] == "behind"
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})
        db.session.commit()


def test_metrics_count_requests_by_route_and_read_the_database_figures(api, world):
    case = api.post("/api/v1/cases", "agent1", json={**CASE_FIELDS, "customer_id": world.customers["ACME"].id}).json
    api.get(f"/api/v1/cases/{case['id']}", "agent1")
    api.get("/api/v1/cases/999999", "agent1")
    found = _metrics(api)
    route = "/api/v1/cases/<int(max=2147483647):case_id>"
    assert found[("caseflow_http_requests_total", (("method", "GET"), ("route", route), ("status", "200")))] >= 1
    assert found[("caseflow_http_requests_total", (("method", "GET"), ("route", route), ("status", "404")))] >= 1
    assert found[("caseflow_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))] >= 2
    assert found[("caseflow_open_cases", (("stage", case["stage"]),))] == 1
    assert found[("caseflow_database_up", ())] == 1
    assert found[("caseflow_timers_due", ())] == 0
    for outbox in ("mail", "chat", "hq"):
        assert ("caseflow_outbox_pending", (("outbox", outbox),)) in found
    assert ("caseflow_db_pool_connections", (("state", "in_use"),)) in found


def test_metrics_are_for_the_allowed_network_or_the_token(api, app, monkeypatch):
    assert api.client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.0.0.0/8")
    refused = api.client.get("/metrics")
    assert refused.status_code == 403 and refused.json["code"] == "metrics_forbidden"
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-metrics")
    assert api.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert api.client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"}).status_code == 200


def test_the_request_id_is_in_the_header_the_error_body_and_the_log_lines(api, world):
    r = api.get("/api/v1/cases/999999", "agent1", headers={"X-Request-ID": "trace-42"})
    assert r.headers["X-Request-ID"] == "trace-42" and r.json["request_id"] == "trace-42"
    odd = api.get("/api/v1/cases/999999", "agent1", headers={"X-Request-ID": "no spaces allowed"})
    assert odd.headers["X-Request-ID"] != "no spaces allowed" and odd.json["request_id"] == odd.headers["X-Request-ID"]
    with api.client.application.test_request_context():
        g.request_id = "trace-43"
        record = logging.LogRecord("caseflow.test", logging.WARNING, __file__, 1, "something %s", ("odd",), None)
        logs.RequestIdFilter().filter(record)
    line = json.loads(logs.JsonLines().format(record))
    assert line["message"] == "something odd" and line["request_id"] == "trace-43" and line["level"] == "WARNING"
