"""What the service parts share: who may do what, the local day, version checks, money."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from cases.core.access import FRONT_LINE_ROLES, require_role
from cases.core.errors import Conflict, NotFound, PreconditionRequired
from cases.core.models import STAFF_ROLES, Role, User
from cases.sla import calendars

#: who books visits, records repair logs and remote sessions: the front line
FIELD_STAFF = FRONT_LINE_ROLES
#: who keeps the catalogue of paid special services: business managers (and managers, admins)
CATALOGUE_KEEPERS = (Role.BUSINESS_MANAGER.value, Role.MANAGER.value, Role.ADMIN.value)
#: who plans maintenance schedules
PLANNERS = (Role.SUPERVISOR.value, Role.MANAGER.value, Role.ADMIN.value)


def zone() -> ZoneInfo:
    """The service's local zone (the default calendar's): days and reminders are counted in it."""
    return ZoneInfo(calendars.DEFAULT_TIMEZONE)


def local_day(moment: datetime) -> date:
    return moment.astimezone(zone()).date()


def require_staff(user: User, thing: str) -> None:
    """Staff only; anyone else is told it does not exist (internal work is never shown to customers)."""
    if not user.is_staff:
        raise NotFound(f"{thing} not found", resource=thing)


def require_field_staff(user: User) -> None:
    require_role(user, *FIELD_STAFF)


def any_staff(user: User) -> None:
    require_role(user, *sorted(STAFF_ROLES))


def check_seen(kind: str, row_version: int, seen: int | None) -> None:
    if seen is None:
        raise PreconditionRequired(f"send the {kind} version you saw (\"version\" or If-Match)")
    if seen != row_version:
        raise Conflict(f"the {kind} changed since version {seen}; it is now at {row_version}",
                       code="stale_version", current_version=row_version)


def cents(amount: float | int) -> int:
    return int(round(float(amount) * 100))


def yuan(amount_cents: int) -> float:
    return amount_cents / 100
