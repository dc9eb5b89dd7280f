"""Request parsing: JSON that cannot be stored is refused as invalid before any schema runs."""
from __future__ import annotations

import json
from typing import Any

import flask_smorest
from flask import Request
from flask_smorest.fields import Upload
from marshmallow import fields
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.datastructures import CombinedMultiDict, MultiDict


def _unstorable(value: Any) -> str | None:
    """Why a decoded JSON value cannot be stored (NUL characters, unpaired surrogates), if so."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "text contains a NUL character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "text contains an unpaired surrogate"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _reject_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not a JSON number", "<body>", 0)


class CaseflowParser(FlaskParser):
    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            if req.get_data(cache=True):  # a body in another format would be read as empty: refuse it
                abort(415, unsupported_media_type=req.mimetype or "none")
            return core.missing
        try:
            value = json.loads(req.get_data(cache=True), parse_constant=_reject_constant)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "<body>", 0) from None
        except UnicodeDecodeError:
            raise json.JSONDecodeError("not UTF-8 text", "<body>", 0) from None
        except json.JSONDecodeError:
            raise
        except ValueError as exc:  # e.g. an integer literal longer than Python converts
            raise json.JSONDecodeError(str(exc), "<body>", 0) from None
        reason = _unstorable(value)
        if reason:
            raise json.JSONDecodeError(reason, "<body>", 0)
        return value

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        detail = getattr(error, "msg", None) or str(error)
        abort(400, exc=error, messages={"json": ["Invalid JSON body."]}, invalid_json=detail)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint with caseflow's parser."""

    ARGUMENTS_PARSER = CaseflowParser()


def _takes_files(field: object) -> bool:
    """A file field, or a list of them: form fields of that name are not files and are left out."""
    return isinstance(field, Upload) or (isinstance(field, fields.List) and isinstance(field.inner, Upload))


class MultipartParser(CaseflowParser):
    """The "files" location reads the form fields of the multipart body too: one schema (and one
    OpenAPI request body) holds the files and the fields sent with them."""

    def load_files(self, req, schema):
        form = MultiDict((key, value) for key, value in req.form.items(multi=True)
                         if not _takes_files(schema.fields.get(key)))  # a file field takes files only
        return self._makeproxy(CombinedMultiDict([req.files, form]), schema)
