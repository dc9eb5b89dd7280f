"""Creating calls answer once, however often they are sent.

The calls in ``ENDPOINTS`` run in one transaction from authentication to the answer: the view's
use case joins it (nested units of work join the outermost), the answer is serialised inside it,
and only then does it commit. So a commit is the last thing that touches the database: a call
that committed has its answer already built (no read after the commit can fail), and a call
whose commit failed saved nothing and says 503 with ``Retry-After``.

With an ``Idempotency-Key`` header (1–200 printable ASCII characters, a UUID say) the answer is
kept with what the call created, in the same transaction (cases/core/idempotency.py), for 24 hours:

- the same key again with the same method, path and body gets the kept answer (same status and
  body, ``Location``/``ETag``, plus ``Idempotent-Replayed: true``) and changes nothing — also when
  the first answer never reached the client;
- the same key with another request: 422 ``idempotency_key_reused``;
- the same key while the first call is still running: the second one's commit fails on the key's
  unique constraint, nothing of it is saved, 409 ``idempotency_key_in_use`` with ``Retry-After``;
  its retry gets the first one's answer.

Answers of 4xx and 5xx are not kept (nothing was saved): a retry runs the call again. Keys are
per user: another user's key of the same text is another key.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import Flask, Response, g, request
from flask_smorest.spec.plugins import FlaskPlugin
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from cases.core import idempotency
from cases.core.db import db, unit_of_work
from gateway.problems import problem

log = logging.getLogger("caseflow.idempotency")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
#: seconds a client waits before retrying after a 503 (database unavailable) or a key in use
RETRY_AFTER = "2"
#: POST endpoints that create something: one transaction, keys honoured. Not the task actions
#: (claim, release, complete): they carry the task's version, so a repeat is a 409, never a
#: double; and a refused completion commits an operator's note (incidents.py) that one
#: transaction for the whole request would roll back.
ENDPOINTS = frozenset({
    "cases.CaseCollection", "cases.CaseMessage", "cases.CaseComplaints", "cases.CaseReplies",
    "channels.Calls", "attachments.CaseAttachments", "escalations.Comment",
    "announcements.AnnouncementCollection", "knowledge.ArticleCollection", "users.UserCollection",
    "customers.CustomerCollection", "customers.CustomerContacts", "customers.CustomerProducts",
    "customers.CustomerContracts",
    "major_incidents.IncidentCollection", "major_incidents.IncidentUpdates", "recurring_problems.KnownProblems",
    "training.SessionCollection", "training.Participants", "risks.RiskCollection", "risks.RiskLinks",
    "quality.Samples",
    "visits.CaseVisits", "visits.VisitLog", "visits.RemoteSessions", "service_work.CatalogueCollection",
    "service_work.CaseInternalTasks", "service_work.ScheduleCollection",
})
#: answer headers kept with the body
KEPT_HEADERS = ("Content-Type", "Location", "ETag")


class _Undo(Exception):
    """Thrown into the request's unit of work to roll it back."""


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data(cache=True)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def begin() -> Response | None:
    """before_request, after authentication: replay a kept answer, or open the request's unit."""
    if request.method != "POST" or request.endpoint not in ENDPOINTS or getattr(g, "user", None) is None:
        return None
    key = request.headers.get(HEADER)
    fingerprint = None
    if key is not None:
        if not idempotency.valid_key(key):
            return problem(400, "invalid_idempotency_key", "The Idempotency-Key header is not valid",
                           errors=[{"field": f"header.{HEADER}",
                                    "message": f"1 to {idempotency.MAX_KEY_LENGTH} printable ASCII characters"}])
        fingerprint = _fingerprint()
        kept = idempotency.find(g.user.id, key)
        if kept is not None:
            if kept.fingerprint != fingerprint:
                return problem(422, "idempotency_key_reused",
                               "This Idempotency-Key was used for another request",
                               errors=[{"field": f"header.{HEADER}",
                                        "message": "already used with another method, path or body"}])
            response = Response(kept.body, status=kept.status)
            for name, value in kept.headers.items():
                response.headers[name] = value
            response.headers[REPLAYED] = "true"
            return response
    unit = unit_of_work()
    unit.__enter__()
    g.idempotency = (unit, key, fingerprint)
    return None


def _close(unit: Any, commit: bool) -> None:
    """Commit or roll back; the unit is closed even when the database fails meanwhile."""
    if commit:
        unit.__exit__(None, None, None)
        return
    try:
        unit.__exit__(_Undo, _Undo(), None)
    except (OperationalError, InterfaceError):
        db.session.close()  # the rollback could not reach the server: drop the connection


def finish(response: Response) -> Response:
    """after_request: keep the answer with the key and commit (2xx/3xx), or roll back."""
    state = g.pop("idempotency", None)
    if state is None:
        return response
    unit, key, fingerprint = state
    if response.status_code >= 400:
        _close(unit, commit=False)
        return response
    try:  # the answer was built from flushed rows: the views read their results back by query
        try:
            if key is not None:
                idempotency.keep(g.user.id, key, fingerprint, response.status_code, response.get_data(as_text=True),
                                 {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers})
        except BaseException:
            _close(unit, commit=False)  # the unit is closed whatever happens: its depth is per thread
            raise
        _close(unit, commit=True)
    except IntegrityError:
        db.session.rollback()
        return problem(409, "idempotency_key_in_use",
                       "Another request with this Idempotency-Key was carried out meanwhile; retry to get its answer",
                       headers={"Retry-After": RETRY_AFTER})
    except (OperationalError, InterfaceError) as exc:  # the server went away: nothing was committed
        _safe_rollback()
        log.warning("commit failed, nothing saved: %s", exc)
        return problem(503, "database_unavailable", "The database is not available; nothing was saved",
                       headers={"Retry-After": RETRY_AFTER})
    return response


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        db.session.close()


def abandon(_exc: BaseException | None) -> None:
    """teardown: a unit left open (the answer never reached ``finish``) is rolled back."""
    state = g.pop("idempotency", None)
    if state is not None:
        try:
            _close(state[0], commit=False)
        except Exception:
            db.session.close()


def document(app: Flask, spec: Any) -> None:
    """The OpenAPI document: the header on each of ``ENDPOINTS``, and their 503."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in ENDPOINTS or "POST" not in (rule.methods or ()):
            continue
        operation = spec._paths.get(FlaskPlugin.flaskpath2openapi(rule.rule), {}).get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append({
            "name": HEADER, "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
            "description": "Retry safely: the same key (24 h, per user) with the same request gets the first "
                           "answer again, marked `Idempotent-Replayed: true`; another request with it gets 422 "
                           "`idempotency_key_reused`.",
        })
        operation.setdefault("responses", {}).setdefault("503", {
            "description": "The database is not available; nothing was saved. Retry after `Retry-After` seconds "
                           "with the same Idempotency-Key.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        })


def register(app: Flask) -> None:
    app.before_request(begin)
    app.after_request(finish)
    app.teardown_request(abandon)
