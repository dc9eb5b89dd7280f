"""Every error becomes an application/problem+json response, here and nowhere else."""
from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, Response, g, has_request_context, json, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from cases.core import errors as domain

log = logging.getLogger("caseflow.api")

PROBLEM_BASE = "https://caseflow.example/problems/"

STATUS = {
    domain.NotFound: 404, domain.Forbidden: 403, domain.Unauthenticated: 401, domain.Conflict: 409,
    domain.PreconditionRequired: 428, domain.ValidationFailed: 422, domain.ProcessFailure: 422,
    domain.InvalidDefinition: 422, domain.TooManyAttempts: 429, domain.Gone: 410, domain.TooLarge: 413,
}


class ProblemItemSchema(ma.Schema):
    field = ma.fields.String(allow_none=True, metadata={"description": "the input field at fault"})
    message = ma.fields.String()
    element = ma.fields.String(metadata={"description": "process files: the BPMN/DMN element"})
    file = ma.fields.String(metadata={"description": "process files: the file"})
    line = ma.fields.Integer(metadata={"description": "process files: the line"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with caseflow's machine-readable ``code`` and ``errors``."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "e.g. validation_failed, stale_version, not_found"})
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(ProblemItemSchema))
    element = ma.fields.String(metadata={"description": "process_error: the BPMN element that failed"})
    line = ma.fields.Integer(metadata={"description": "process_error: the script line"})
    resource = ma.fields.String(metadata={"description": "not_found: what was not found"})
    id = ma.fields.Raw(metadata={"description": "not_found: the id that was not found"})
    current_version = ma.fields.Integer(metadata={"description": "stale_version: the task's version now"})
    state = ma.fields.String(metadata={"description": "task_not_open: the task's state"})
    assignee = ma.fields.String(metadata={"description": "already_claimed / forbidden: who holds the task"})
    lane = ma.fields.String(metadata={"description": "forbidden: the lane (role) the task needs"})
    retry_after = ma.fields.Integer(metadata={"description": "too_many_attempts: seconds to wait"})
    required_roles = ma.fields.List(ma.fields.String(), metadata={"description": "forbidden: roles that may"})
    max_bytes = ma.fields.Integer(metadata={"description": "too_large: the size limit in bytes"})
    stage = ma.fields.String(metadata={"description": "the case's stage that does not allow it"})
    kind = ma.fields.String(metadata={"description": "what kind of thing the error is about (e.g. an SLA target)"})
    expired_at = ma.fields.String(metadata={"description": "gone: when the link or offer expired (ISO 8601)"})
    message_name = ma.fields.String(metadata={"description": "not_waiting: the message the case does not wait for"})
    platform = ma.fields.String(metadata={"description": "chat: the platform concerned"})
    details = ma.fields.Dict(metadata={"description": "any other fact about this error, by name"})
    request_id = ma.fields.String(metadata={"description": "this request's id (also the X-Request-ID header): "
                                                           "quote it when reporting a problem"})


#: longest text an error body repeats (a message quoting a rejected value): longer is cut, with "…"
MAX_ECHO = 300


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return value[:MAX_ECHO] + "…"
    if isinstance(value, list):
        return [_cut(item) for item in value]
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    return value


def problem(status: int, code: str, title: str, detail: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """The problem+json answer. Fields the ``Problem`` schema names go at the top level, any other
    under ``details``, so the body always validates against the published schema; long texts
    (a message quoting what was sent) are cut to ``MAX_ECHO`` characters."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": _cut(title), "status": status, "code": code}
    if detail:
        body["detail"] = _cut(detail)
    others: dict[str, Any] = {}
    for key, value in extra.items():
        if value is None:
            continue
        (body if key in _TOP_LEVEL else others)[key] = _cut(value)
    if others:
        body["details"] = {**body.get("details", {}), **others}
    if has_request_context() and g.get("request_id"):
        body["request_id"] = g.request_id
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_TOP_LEVEL = frozenset(ProblemSchema().fields) - {"type", "title", "status", "code", "detail"}


def _flatten(messages: Any, prefix: str = "") -> list[dict]:
    """webargs/marshmallow error dicts -> [{field, message}]."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_flatten(value, name))
    elif isinstance(messages, list):
        for item in messages:
            out.extend(_flatten(item, prefix) if isinstance(item, (dict, list)) else
                       [{"field": prefix or None, "message": str(item)}])
    else:
        out.append({"field": prefix or None, "message": str(messages)})
    return out


def handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if data.get("invalid_json"):
        return problem(400, "invalid_json", "The request body is not valid JSON", data["invalid_json"],
                       errors=[{"field": None, "message": data["invalid_json"]}])
    if data.get("unsupported_media_type"):
        message = f"send the body as application/json, not {data['unsupported_media_type']}"
        return problem(415, "unsupported_media_type", "The request body is not JSON", message,
                       errors=[{"field": "Content-Type", "message": message}])
    if messages:
        errors = []
        for location, fields in messages.items():
            for item in _flatten(fields):
                field = item["field"]
                if location not in ("json", "form", "files") and field:
                    field = f"{location}.{field}"
                errors.append({"field": field, "message": item["message"]})
        code = "validation_failed" if error.code == 422 else "bad_request"
        return problem(error.code or 400, code, "The request is not valid", errors=errors)
    if isinstance(error, InternalServerError):
        log.exception("unhandled error", exc_info=error.original_exception or error)
        return problem(500, "internal_error", "Internal error")
    code = (error.name or "error").lower().replace(" ", "_")
    return problem(error.code or 500, code, error.name, error.description, headers=dict(error.get_headers())
                   if error.code == 405 else None)


def handle_domain_error(error: domain.DomainError) -> Response:
    status = next((code for cls in type(error).__mro__ if (code := STATUS.get(cls))), 400)
    extra: dict[str, Any] = dict(error.details)
    headers = None
    if isinstance(error, domain.ValidationFailed):
        extra["errors"] = error.errors
    elif isinstance(error, domain.ProcessFailure):
        extra.update(element=error.element, line=error.line)
    elif isinstance(error, domain.InvalidDefinition):
        extra["errors"] = error.problems
    elif isinstance(error, domain.Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="caseflow"'}
    elif isinstance(error, domain.TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    return problem(status, error.code, error.message, headers=headers, **extra)


def handle_stale(error: StaleDataError) -> Response:
    return problem(409, "concurrent_update", "Someone else changed this at the same time; reload and retry")


def handle_operational(error: OperationalError | InterfaceError) -> Response:
    if "locked" in str(error.orig).lower() or "could not serialize" in str(error.orig).lower():
        return problem(409, "concurrent_update", "The database was busy with a concurrent change; retry")
    log.exception("database error", exc_info=error)
    return problem(503, "database_unavailable", "The database is not available", headers={"Retry-After": "2"})


def reject_unstorable_url() -> Response | None:
    """A NUL character in the path or the query can never match anything stored: say so."""
    if "\x00" in request.path:
        return problem(400, "bad_request", "The URL contains a NUL character",
                       errors=[{"field": "path", "message": "NUL character"}])
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            return problem(400, "bad_request", "A query parameter contains a NUL character",
                           errors=[{"field": f"query.{name}", "message": "NUL character"}])
    return None


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(domain.DomainError, handle_domain_error)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(OperationalError, handle_operational)
    app.register_error_handler(InterfaceError, handle_operational)  # a connection the server dropped
