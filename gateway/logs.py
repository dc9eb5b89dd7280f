"""Logs as JSON lines, and a request id that ties a request's lines, its answer and its error
body together.

Every request gets an id: the caller's ``X-Request-ID`` when it is sane (1–100 characters of
letters, digits, ``.``, ``_``, ``-``; a proxy's), else a new random one. It comes back in the
``X-Request-ID`` header of every answer and as ``request_id`` in every problem+json body, and every
log line written while the request runs carries it. ``LOG_FORMAT=text`` gives the old plain lines
(for a terminal); the default is one JSON object per line: ``time``, ``level``, ``logger``,
``message``, ``request_id`` (inside a request), ``exception`` (a traceback, when there is one).
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timezone

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,100}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def configure(log_format: str) -> None:
    """The root logger's one handler (stderr), JSON lines unless ``log_format`` is ``text``."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "caseflow", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.caseflow = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT) if log_format == "text" else JsonLines())
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex


def _answer(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[HEADER] = request_id
    return response


def register(app: Flask) -> None:
    """First of the request hooks: the id exists before anything can log or fail."""
    app.before_request(_assign)
    app.after_request(_answer)
