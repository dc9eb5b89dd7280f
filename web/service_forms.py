"""What the service pages (training, risks, quality audits) share: reading a form's dates and numbers,
and the domain's refusals as messages by the field."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from cases.core.errors import ValidationFailed


def zone() -> ZoneInfo:
    """The zone the pages show times in and read date-time fields in (``WEB_TIMEZONE``)."""
    return ZoneInfo(current_app.config.get("WEB_TIMEZONE", "Asia/Shanghai"))


def local_moment(raw: str) -> datetime | None:
    """A ``datetime-local`` value in the pages' zone (None: not a date and time)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone()) if moment.tzinfo is None else moment


def local_input(moment: datetime | None) -> str:
    """A moment as a ``datetime-local`` value in the pages' zone (what :func:`local_moment` reads back)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored in UTC
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone()).strftime("%Y-%m-%dT%H:%M")


def day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def whole(raw: str, low: int, high: int) -> int | None:
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def required(values: dict[str, str], names: tuple[str, ...], errors: dict[str, str]) -> None:
    for name in names:
        if not values.get(name):
            errors.setdefault(name, _("This field is required."))


def refusals(exc: ValidationFailed) -> dict[str, Any]:
    """{field: message} of a domain refusal (the field's first segment: ``invitees.0`` -> ``invitees``)."""
    found: dict[str, Any] = {}
    for error in exc.errors:
        found.setdefault(str(error["field"]).split(".")[0], error["message"])
    return found
