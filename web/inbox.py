"""The inbox: my tasks, the tasks my roles may claim, the unassigned ones; filters; claim."""
from __future__ import annotations

from typing import Any

from flask import flash, request
from flask_babel import gettext as _

from cases.casework import bulk, queries
from cases.casework import tasks as work
from cases.core import accounts
from cases.core.errors import Conflict, ValidationFailed
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
    return _inbox()


def _inbox(results: list[tuple[bulk.Result, str]] | None = None) -> Any:
    """The inbox; after a bulk action, with each row's result above the list (``results``)."""
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
                  may_bulk=user.has_role(*bulk.BULK_ROLES), bulk_results=results,
                  colleagues=accounts.staff_with_role(user) if user.has_role(*bulk.BULK_ROLES) else [],
                  **list_views.views_context("inbox"))


def _rows() -> list[bulk.Row]:
    """The selected rows: ``row`` values "<task id>:<version>" (the version the page showed)."""
    rows = []
    for raw in request.form.getlist("row")[: bulk.MAX_ROWS + 1]:
        task_id, _sep, version = raw.partition(":")
        rows.append(bulk.Row(task_id[:64], int(version) if version.isdigit() and len(version) < 10 else None))
    return rows


def bulk_reason(result: bulk.Result) -> str:
    """Why a row of a bulk action was left as it was, for the page."""
    return {"stale_version": _("it changed since you loaded the page"),
            "case_closed": _("the case is closed"),
            "task_not_open": _("it is no longer open"),
            "already_claimed": _("someone else has taken it"),
            "forbidden": _("your roles do not allow it"),
            "not_found": _("it does not exist any more"),
            "validation_failed": _("the colleague may not work on it")}.get(result.code) or str(
                _("it cannot be changed now"))


@blp.post("/inbox/bulk")
def bulk_action() -> Any:
    """Supervisors: claim, reassign or change the priority of the selected rows, each on its own;
    every row's result is reported (stale rows are left as they are)."""
    form = request.form
    action = form.get("action", "")
    try:
        results = bulk.run(current_user(), action, _rows(), username=form.get("username") or None,
                           priority=form.get("priority") or None, reason=(form.get("reason") or "").strip()[:2000])
    except ValidationFailed as exc:
        field = str(exc.errors[0].get("field") or "") if exc.errors else ""
        flash({"rows": _("Choose at least one row (at most %(n)d).", n=bulk.MAX_ROWS),
               "username": _("Choose the colleague to give the tasks to."),
               "priority": _("Choose a priority."), "reason": _("Give a reason for the new priority."),
               "action": _("Choose what to do with the rows.")}.get(field, exc.message), "error")
        return back_to("inbox.inbox")
    return _inbox([(r, bulk_reason(r)) for r in results])


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
