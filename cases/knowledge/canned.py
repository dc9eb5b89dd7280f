"""Canned answers: a small table of named reply texts in Chinese and English that front-line staff
insert into a reply to a customer (the case page). Supervisors create, change (with the version
they saw: 409 when it moved on) and delete them; all staff read them."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, Forbidden, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import Role, User, utcnow
from cases.knowledge.models import CannedAnswer

MANAGERS = (Role.SUPERVISOR.value,)
MAX_NAME = 100
MAX_TEXT = 20000
FIELDS = ("name", "text_zh", "text_en")


def may_manage(user: User) -> bool:
    return user.has_role(*MANAGERS)


def list_all(user: User) -> list[CannedAnswer]:
    if not user.is_staff:
        raise Forbidden("canned answers are for staff")
    return list(db.session.scalars(select(CannedAnswer).order_by(func.lower(CannedAnswer.name), CannedAnswer.id)))


def get(user: User, answer_id: int) -> CannedAnswer:
    answer = db.session.get(CannedAnswer, answer_id) if user.is_staff else None
    if answer is None:
        raise NotFound(f"canned answer {answer_id} not found", resource="canned_answer", id=answer_id)
    return answer


def _checked(fields: dict[str, Any], answer_id: int | None = None) -> dict[str, str]:
    values = {k: str(fields.get(k) or "").strip() for k in FIELDS}
    errors: list[dict[str, Any]] = []
    if not values["name"]:
        errors.append({"field": "name", "message": "required", "rule": "required"})
    elif len(values["name"]) > MAX_NAME:
        errors.append({"field": "name", "message": f"at most {MAX_NAME} characters", "rule": "maxLength",
                       "limit": MAX_NAME})
    else:
        same = db.session.scalar(select(CannedAnswer.id).where(func.lower(CannedAnswer.name) == values["name"].lower()))
        if same is not None and same != answer_id:
            errors.append({"field": "name", "message": "another canned answer has this name", "rule": "unique"})
    if not values["text_zh"] and not values["text_en"]:
        errors.append({"field": "text_zh", "message": "write the text in at least one language", "rule": "required"})
    for name in ("text_zh", "text_en"):
        if len(values[name]) > MAX_TEXT:
            errors.append({"field": name, "message": f"at most {MAX_TEXT} characters", "rule": "maxLength",
                           "limit": MAX_TEXT})
    if errors:
        raise ValidationFailed("the canned answer is not valid", errors)
    return values


@use_case
def create(actor: User, fields: dict[str, Any]) -> CannedAnswer:
    require_role(actor, *MANAGERS)
    answer = CannedAnswer(**_checked(fields), updated_by_id=actor.id, updated_at=utcnow())
    db.session.add(answer)
    return answer


def _check_version(answer: CannedAnswer, version: int | None) -> None:
    if version is None:
        raise PreconditionRequired("send the canned answer's version you saw")
    if version != answer.version:
        raise Conflict(f"canned answer {answer.id} changed since version {version}; it is now at {answer.version}",
                       code="stale_version", current_version=answer.version)


@use_case
def update(actor: User, answer_id: int, version: int | None, fields: dict[str, Any]) -> CannedAnswer:
    require_role(actor, *MANAGERS)
    answer = get(actor, answer_id)
    _check_version(answer, version)
    for name, value in _checked(fields, answer.id).items():
        setattr(answer, name, value)
    answer.updated_by_id, answer.updated_at = actor.id, utcnow()
    return answer


@use_case
def delete(actor: User, answer_id: int, version: int | None) -> None:
    require_role(actor, *MANAGERS)
    answer = get(actor, answer_id)
    _check_version(answer, version)
    db.session.delete(answer)
