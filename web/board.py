"""The supervisors' board: breached and at-risk cases with the escalation actions."""
from __future__ import annotations

from cases import escalations

from .pages import current_user, page_blueprint, render

blp = page_blueprint("board")


@blp.get("/board")
def board():
    page = escalations.queue(current_user(), {}, 1, 100)
    return render("board.html", page=page)
