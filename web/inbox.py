"""The inbox: my tasks, the tasks my roles may claim, the unassigned ones; filters; claim."""
from __future__ import annotations

from flask import flash, request
from flask_babel import gettext as _

from cases.casework import queries
from cases.casework import tasks as work
from cases.core.errors import Conflict
from cases.core.models import PRIORITIES
from web import list_views
from web.display import WORDS, task_title
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("inbox")

SCOPES = ("mine", "claimable", "all")
PER_PAGE = 50


def _int(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


@blp.get("/inbox")
def inbox():
    user = current_user()
    scope = request.args.get("scope") if request.args.get("scope") in SCOPES else "mine"
    filters = {key: request.args[key].strip() for key in ("priority", "category", "lane", "q")
               if request.args.get(key, "").strip()}
    if filters.get("priority") not in (None, *PRIORITIES):
        filters.pop("priority")
    if len(filters.get("q", "")) > 200:
        filters.pop("q")
    order = request.args.get("order") if request.args.get("order") in queries.TASK_ORDERS else "due"
    page = queries.list_tasks(user, scope, dict(filters), _int("page", 1), PER_PAGE, order)
    counts = {s: queries.list_tasks(user, s, dict(filters), 1, 1).total for s in SCOPES}
    categories = [c for c in WORDS if c.endswith(("_bug", "_problem", "_consultation", "_requirement", "_service",
                                                  "_repair")) or c == "complaint"]
    return render("inbox.html", tasks=page.items, page=page, scope=scope, counts=counts, filters=filters, order=order,
                  priorities=PRIORITIES, categories=categories, lanes=sorted(user.roles),
                  **list_views.views_context("inbox"))


@blp.post("/tasks/<string:task_id>/claim")
def claim(task_id: str):
    """Claim in one click: the form carries the task version the user saw."""
    try:
        task = work.claim(current_user(), task_id, _int_form("version"))
    except Conflict as exc:
        flash(_stale_message(exc), "error")
        return back_to("inbox.inbox")
    flash(_("You took the task “%(name)s”.", name=task_title(task)), "success")
    return back_to("task_pages.task", task_id=task.id)


def _int_form(name: str) -> int | None:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        return None


def _stale_message(exc: Conflict) -> str:
    if exc.code == "already_claimed":
        return _("Someone else (%(user)s) has taken this task meanwhile.", user=exc.details.get("assignee"))
    if exc.code == "stale_version":
        return _("The task changed since you loaded the page; look at it again. Nothing was saved.")
    if exc.code == "task_not_open":
        return _("The task is no longer open.")
    return str(_("The task cannot be taken as it is now. Nothing was changed."))
