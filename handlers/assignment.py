"""Assignment operations."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation


@operation("round_robin_user")
def round_robin_user(ctx: Services, role: str) -> str:
    """The next active user holding ``role``, in turn; the user name goes into the result variable."""
    if not isinstance(role, str) or not role:
        raise HandlerError("bad_parameter", "round_robin_user needs a role name")
    username = ctx.next_user(role)
    if username is None:
        raise HandlerError("no_user", f"no active user holds the role '{role}'")
    return username


@operation("dedicated_consultant")
def dedicated_consultant(ctx: Services, resolution_hours: Any = 48) -> str | None:
    """A VIP customer's case goes straight to their dedicated service consultant (who becomes the
    owner, due in ``resolution_hours``); None when the customer has none: the queue decides."""
    if isinstance(resolution_hours, bool) or not isinstance(resolution_hours, (int, float)) or resolution_hours <= 0:
        raise HandlerError("bad_parameter", "dedicated_consultant needs a positive number of resolution hours")
    return ctx.dedicated_consultant(resolution_hours)
