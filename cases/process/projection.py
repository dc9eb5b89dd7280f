"""Copying process variables onto case fields (the ``caseFields`` property of a user task)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from cases.core.db import db
from cases.core.errors import ValidationFailed
from cases.core.models import Case, User


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc) if parsed is not None else None


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def _mapping(value: Any) -> dict | None:
    return dict(value) if isinstance(value, Mapping) else None


#: case attribute -> how to turn the process variable of the same name into its value.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "category": _text, "priority": _text, "classification_rule": _mapping, "due_at": _datetime,
    "analysis": _text, "solution": _text, "satisfaction": _integer,
}
PROJECTED_FIELDS: tuple[str, ...] = (*CONVERTERS, "owner")


def _display(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def apply(case: Case, data: Mapping[str, Any], fields: Iterable[str]) -> dict[str, list]:
    """Set the named fields from ``data``; return {field: [old, new]} for what changed."""
    changes: dict[str, list] = {}
    for field in fields:
        if field not in data:
            continue
        if field == "owner":
            old = case.owner.username if case.owner else None
            new = data["owner"]
            if new != old:
                user = db.session.scalar(select(User).where(User.username == new)) if new else None
                case.owner = user
                case.owner_id = user.id if user else None
                changes["owner"] = [old, user.username if user else None]
            continue
        old = getattr(case, field)
        try:
            new = CONVERTERS[field](data[field])
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationFailed(f"'{field}' cannot be stored on the case",
                                   [{"field": f"data.{field}", "message": str(exc)}]) from None
        if new != old:
            setattr(case, field, new)
            changes[field] = [_display(old), _display(new)]
    return changes
