"""Assignment operations."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError

from . import operation


@operation("round_robin_user")
def round_robin_user(ctx: Any, role: str) -> str:
    """The next active user holding ``role``, in turn; the user name goes into the result variable."""
    if not isinstance(role, str) or not role:
        raise HandlerError("bad_parameter", "round_robin_user needs a role name")
    username = ctx.next_user(role)
    if username is None:
        raise HandlerError("no_user", f"no active user holds the role '{role}'")
    return username
