"""``GET /metrics``: Prometheus text format (prometheus_client).

Per process (each web worker counts its own requests; run gunicorn with
``PROMETHEUS_MULTIPROC_DIR`` set to an empty directory for one sum over its workers):

- ``caseflow_http_requests_total{route,method,status}`` and
  ``caseflow_http_request_duration_seconds{route,method}`` (a histogram); ``route`` is the URL
  rule (``/api/v1/cases/<int:case_id>``), never the raw path;
- ``caseflow_db_pool_connections{state}``: the database pool's connections in use, idle, over
  the pool size.

Read from the database when scraped (the same for every replica; cases/process/observability.py):
timers due, late (> 60 s) and fired in the last 5 minutes, the oldest due timer's age; the
scheduler lease (holder, epoch, seconds since its last renewal, seconds until it expires); each
outbox's (mail, chat, hq) pending rows and the oldest one's age; open cases by stage.

Who may read it: a client from ``METRICS_ALLOW`` (comma-separated networks, default loopback
only), or one sending ``Authorization: Bearer <METRICS_TOKEN>`` when that is set; anyone else
gets 403.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from cases.core.db import db
from cases.process import observability
from gateway import auth
from gateway.problems import problem

ENDPOINT = "metrics"
REQUESTS_REGISTRY = CollectorRegistry()
REQUESTS = Counter("caseflow_http_requests", "HTTP requests answered", ["route", "method", "status"],
                   registry=REQUESTS_REGISTRY)
LATENCY = Histogram("caseflow_http_request_duration_seconds", "Time to answer an HTTP request", ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REQUESTS_REGISTRY)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None and request.endpoint != ENDPOINT:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
    return response


def allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = [n.strip() for n in str(current_app.config.get("METRICS_ALLOW", "")).split(",") if n.strip()]
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


class DatabaseFigures:
    """The figures read from the database at scrape time."""

    def collect(self):
        try:
            f = observability.figures()
        except SQLAlchemyError:
            db.session.rollback()
            up = GaugeMetricFamily("caseflow_database_up", "1 when the database answered the scrape")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("caseflow_database_up", "1 when the database answered the scrape")
        up.add_metric([], 1)
        yield up
        for name, doc, value in (
                ("caseflow_timers_due", "Timers of running instances past their due time, not fired yet", f.timers_due),
                ("caseflow_timers_late", "Timers more than 60 s past due, not fired", f.timers_late),
                ("caseflow_timers_oldest_due_seconds", "How long the most overdue timer has waited", f.oldest_due_seconds),
                ("caseflow_timers_fired_5m", "Timers fired in the last 5 minutes", f.timers_fired_recently)):
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], value)
            yield gauge
        holder = GaugeMetricFamily("caseflow_scheduler_leader", "1 for the holder of the scheduler lease",
                                   labels=["holder", "epoch"])
        if f.lease_holder is not None:
            holder.add_metric([f.lease_holder, str(f.lease_epoch)], 1)
        yield holder
        for name, doc, value in (
                ("caseflow_scheduler_lease_age_seconds", "Seconds since the leader last renewed its lease",
                 f.lease_age_seconds),
                ("caseflow_scheduler_lease_expires_in_seconds", "Seconds until the lease expires (negative: expired)",
                 f.lease_expires_in_seconds)):
            gauge = GaugeMetricFamily(name, doc)
            if value is not None:
                gauge.add_metric([], value)
            yield gauge
        pending = GaugeMetricFamily("caseflow_outbox_pending", "Rows waiting to be delivered", labels=["outbox"])
        oldest = GaugeMetricFamily("caseflow_outbox_oldest_seconds", "Age of the oldest row waiting", labels=["outbox"])
        for outbox, count in f.outbox_pending.items():
            pending.add_metric([outbox], count)
            oldest.add_metric([outbox], f.outbox_oldest_seconds[outbox])
        yield pending
        yield oldest
        cases = GaugeMetricFamily("caseflow_open_cases", "Open cases by stage", labels=["stage"])
        for stage, count in sorted(f.open_cases_by_stage.items()):
            cases.add_metric([stage], count)
        yield cases
        pool = getattr(db.engine, "pool", None)
        if pool is not None and hasattr(pool, "checkedout"):
            gauge = GaugeMetricFamily("caseflow_db_pool_connections", "This process's database pool",
                                      labels=["state"])
            gauge.add_metric(["in_use"], pool.checkedout())
            gauge.add_metric(["idle"], pool.checkedin())
            gauge.add_metric(["overflow"], max(0, pool.overflow()))
            yield gauge


def scrape() -> Response:
    if not allowed():
        return problem(403, "metrics_forbidden", "The metrics are for the monitoring network or its token")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests_registry = CollectorRegistry()
        MultiProcessCollector(requests_registry)
    else:
        requests_registry = REQUESTS_REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseFigures())
    return Response(generate_latest(requests_registry) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST)


def register(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_count)
    app.add_url_rule("/metrics", ENDPOINT, scrape)
    auth.public(ENDPOINT)  # its own check: an allowed network or the metrics token
