"""What the service pages (training, risks, quality audits) share: reading a form's dates and numbers,
and the domain's refusals as messages by the field."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from cases.core.errors import ValidationFailed

#: the zone a page's date-times are typed in (the default calendar's)
ZONE = ZoneInfo("Asia/Shanghai")


def local_moment(raw: str) -> datetime | None:
    """A ``datetime-local`` value in the service's zone (None: not a date and time)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=ZONE) if moment.tzinfo is None else moment


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
