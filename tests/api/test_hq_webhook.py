"""Bug reports reach HQ through a webhook: recorded with the step, posted afterwards to a real
HTTP server on 127.0.0.1, at least once, retried with backoff, never inside the transaction."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import utcnow
from cases.outbox import hq
from cases.outbox.models import HqReport
from tests.helpers import get_case, open_case, send_message, step


class Receiver:
    """HQ's end of the webhook: answers with the next status of ``statuses`` (the last one
    repeats) and keeps what arrived."""

    def __init__(self):
        self.received: list[dict] = []
        self.statuses = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"path": self.path, "headers": dict(self.headers),
                                          "body": json.loads(body), "raw": body})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hq/bugs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app, monkeypatch):
    hq_end = Receiver()
    monkeypatch.setitem(app.config, "HQ_WEBHOOK_URL", hq_end.url)
    monkeypatch.setitem(app.config, "HQ_WEBHOOK_TIMEOUT", 5)
    yield hq_end
    hq_end.close()


def reported_bug(api, world) -> dict:
    case = open_case(api, customer_id=world.customers["ACME"].id, title="保存凭证时报错",
                     description="Saving a voucher shows error 0x80004005.")
    step(api, case["id"], "classify", {"category": "software_bug", "priority": "high"})
    return get_case(api, case["id"])


def report_rows(case_id: int) -> list[HqReport]:
    db.session.rollback()
    return list(db.session.scalars(select(HqReport).where(HqReport.case_id == case_id)
                                   .execution_options(populate_existing=True)))


def test_the_report_is_posted_after_the_step_commits_and_only_once(api, world, app_ctx, receiver):
    case = reported_bug(api, world)
    [row] = report_rows(case["id"])
    assert (row.status, row.url, row.attempts) == ("pending", receiver.url, 0)
    assert receiver.received == []  # the step only recorded it

    assert hq.deliver_pending() == 1
    [arrived] = receiver.received
    assert arrived["path"] == "/hq/bugs"
    assert arrived["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert arrived["headers"]["Idempotency-Key"] == f"caseflow-hq-{row.id}"
    body = arrived["body"]
    assert body["report_id"] == row.id and body["case_number"] == case["number"]
    assert body["title"] == "保存凭证时报错" and body["priority"] == "high" and body["category"] == "software_bug"
    assert body["customer"] == {"code": "ACME", "name": "Acme Ltd", "tier": "standard"}
    assert body["steps_to_reproduce"] == "Open the report"
    [row] = report_rows(case["id"])
    assert (row.status, row.response_status, row.attempts) == ("sent", 200, 1) and row.sent_at

    assert hq.deliver_pending() == 0  # nothing twice
    assert len(receiver.received) == 1

    # HQ's answer comes back through the API and is noted on the report
    send_message(api, case["id"], "fixed_version", {"version": "7.2.1", "notes": "fixed"}, as_user="consultant1")
    [row] = report_rows(case["id"])
    assert row.fixed_version == "7.2.1" and row.fixed_at


def test_a_failing_hq_is_retried_with_backoff_under_the_same_key(api, world, app_ctx, receiver):
    receiver.statuses = [503, 200]
    case = reported_bug(api, world)
    now = utcnow()
    assert hq.deliver_pending(now=now) == 0
    [row] = report_rows(case["id"])
    assert (row.status, row.attempts, row.response_status, row.last_error) == ("pending", 1, 503,
                                                                               "HTTP 503 Service Unavailable")
    assert row.send_after == now + timedelta(minutes=1)
    assert hq.deliver_pending(now=now + timedelta(seconds=30)) == 0  # not due yet
    assert len(receiver.received) == 1
    assert hq.deliver_pending(now=now + timedelta(minutes=2)) == 1
    [row] = report_rows(case["id"])
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.received}
    assert keys == {f"caseflow-hq-{row.id}"} and len(receiver.received) == 2


def test_a_refusal_fails_at_once_and_an_unreachable_hq_is_retried(api, world, app, app_ctx, receiver, monkeypatch):
    receiver.statuses = [400]
    case = reported_bug(api, world)
    assert hq.deliver_pending() == 0
    [row] = report_rows(case["id"])
    assert (row.status, row.response_status) == ("failed", 400)

    monkeypatch.setitem(app.config, "HQ_WEBHOOK_URL", "http://127.0.0.1:9/nobody-listens")
    other = reported_bug(api, world)
    assert hq.deliver_pending() == 0
    [row] = report_rows(other["id"])
    assert row.status == "pending" and row.attempts == 1 and row.response_status is None
    assert row.last_error.startswith("URLError")


def test_without_a_webhook_the_report_is_recorded_only(api, world, app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "HQ_WEBHOOK_URL", None)
    case = reported_bug(api, world)
    [row] = report_rows(case["id"])
    assert (row.status, row.url) == ("recorded", None)
    assert row.payload["case_number"] == case["number"]
    assert hq.deliver_pending() == 0
    [event] = [e for e in case["history"] if e["kind"] == "hq_reported"]
    assert event["data"] == {"report_id": row.id, "status": "recorded"}
    assert case["stage"] == "waiting:fixed_version"  # the case still waits for HQ's release
