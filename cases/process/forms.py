"""Task forms: the JSON schema a task's data is validated against, and its pre-filled values.

The same schema drives the API validation and (later) the HTML form, so there is one
definition of each form. Schemas belong to a deployed version and never change, so they are
cached per version.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from cases.core.db import db
from cases.core.errors import ValidationFailed
from cases.core.models import User, UserRole
from cases.process.models import ProcessVersion

_FORMATS = FormatChecker()


@dataclass(frozen=True)
class Reference:
    """``x-caseflow-reference: <name>``: the field names a row a room above keeps (e.g. an entry of
    the service catalogue). ``check`` says what is wrong with a value (None: fine); ``choices`` lists
    (value, label) pairs for the page's select. Registered by the owning room, like operations."""

    check: Callable[[Any], str | None]
    choices: Callable[[], list[tuple[str, str]]]


REFERENCES: dict[str, Reference] = {}


def reference(name: str, check: Callable[[Any], str | None], choices: Callable[[], list[tuple[str, str]]]) -> None:
    REFERENCES[name] = Reference(check, choices)


#: ``x-caseflow-check: <name>`` at a form's top: a check a room above registers that reads the case
#: the task belongs to (e.g. that the participants named are the training session's own). It gets the
#: case id and the data (already valid against the schema) and returns problems as ``{"field": path
#: below ``data`` (e.g. ``entries.0.participant_id``), "message": ...}``.
CaseCheck = Callable[[int, Any], list[dict[str, str]]]
CHECKS: dict[str, CaseCheck] = {}


def case_check(name: str, check: CaseCheck) -> None:
    CHECKS[name] = check


@functools.lru_cache(maxsize=256)
def _validator(version_id: int, form: str) -> Draft202012Validator:
    forms = db.session.scalar(select(ProcessVersion.forms).where(ProcessVersion.id == version_id))
    return Draft202012Validator(forms[form], format_checker=_FORMATS)


def schema(version_id: int, form: str) -> dict:
    return _validator(version_id, form).schema


def prefill(version_id: int, form: str, data: dict[str, Any]) -> dict[str, Any]:
    """The values the form starts with: process variables named like the form's fields."""
    fields = schema(version_id, form).get("properties", {})
    return {name: data[name] for name in fields if name in data}


@functools.lru_cache(maxsize=256)
def _form_names(version_id: int) -> frozenset[str]:
    forms = db.session.scalar(select(ProcessVersion.forms).where(ProcessVersion.id == version_id))
    return frozenset(forms or ())


def message_form(name: str) -> str:
    """The form a message's payload must match, when the version has one (``<name>.message.schema.json``)."""
    return f"{name}.message.schema.json"


def validate_message(version_id: int, name: str, payload: Any) -> None:
    """Raise ValidationFailed (fields ``payload.<name>``) if the version has a form for the message
    ``name`` and ``payload`` does not match it; messages without a form take any payload."""
    form = message_form(name)
    if form in _form_names(version_id):
        validate(version_id, form, payload, prefix="payload")


def _path(error, prefix: str = "data") -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(missing)
    elif error.validator == "additionalProperties":
        extra = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(extra)
    return ".".join([prefix, *[p for p in parts if p]])


def problems(version_id: int, form: str, data: Any, prefix: str = "data", case_id: int | None = None) -> list[dict]:
    """One entry per field at fault: ``field`` (``<prefix>.<name>``), ``message`` and the schema
    keyword it breaks as ``rule`` with its value as ``limit`` (for messages in other languages).
    ``case_id``: the task's case, for the form's ``x-caseflow-check``."""
    validator = _validator(version_id, form)
    errors = [{"field": _path(e, prefix), "message": e.message, "rule": e.validator, "limit": e.validator_value}
              for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])]
    if not errors and isinstance(data, dict):
        errors = _check_user_references(validator.schema, data)
    check = CHECKS.get(validator.schema.get("x-caseflow-check", ""))
    if not errors and check is not None and case_id is not None:
        errors = [{"field": f"{prefix}.{e['field']}", "message": e["message"], "rule": "x-caseflow-check",
                   "limit": validator.schema["x-caseflow-check"]} for e in check(case_id, data)]
    return errors


def validate(version_id: int, form: str, data: Any, prefix: str = "data", case_id: int | None = None) -> None:
    """Raise ValidationFailed with one entry per field at fault."""
    errors = [{"field": e["field"], "message": e["message"]}
              for e in problems(version_id, form, data, prefix, case_id)]
    if errors:
        raise ValidationFailed(f"the {'task data' if prefix == 'data' else prefix} does not match its form", errors)


def _check_user_references(form_schema: dict, data: dict) -> list[dict]:
    """``x-caseflow-user-role``: the field names an active user holding that role."""
    errors = []
    for name, prop in form_schema.get("properties", {}).items():
        role = prop.get("x-caseflow-user-role")
        if not role or name not in data:
            continue
        found = db.session.scalar(
            select(User.id).join(UserRole).where(User.username == data[name], User.active.is_(True),
                                                 UserRole.role == role)
        )
        if found is None:
            errors.append({"field": f"data.{name}", "rule": "x-caseflow-user-role", "limit": role,
                           "message": f"'{data[name]}' is not an active user with the role '{role}'"})
    for name, prop in form_schema.get("properties", {}).items():
        ref = REFERENCES.get(prop.get("x-caseflow-reference", ""))
        if ref is None or data.get(name) in (None, ""):
            continue
        message = ref.check(data[name])
        if message:
            errors.append({"field": f"data.{name}", "rule": "x-caseflow-reference",
                           "limit": prop["x-caseflow-reference"], "message": message})
    return errors
