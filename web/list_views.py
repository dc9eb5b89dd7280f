"""Saved views on the case list and the inbox (cases/casework/saved_views.py): save the list's
current filter under a name, open it again from "My views", remove it. Plain forms; the partial
``_views.html`` shows them on both lists."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import saved_views
from cases.core.errors import ValidationFailed
from web.pages import current_user, page_blueprint

blp = page_blueprint("list_views")

#: the page each list's views open
ENDPOINTS = {"cases": "case_pages.cases", "inbox": "inbox.inbox"}


@blp.app_template_global()
def view_url(view: Any) -> str:
    return url_for(ENDPOINTS[view.page]) + (f"?{view.query}" if view.query else "")


def current_query(page: str) -> str:
    """The list's filter as it is on this request (what "Save this view" saves)."""
    return saved_views.clean_query(page, request.query_string.decode("utf-8", "replace"))


@blp.post("/views")
def save() -> Any:
    page = request.form.get("page", "")
    if page not in ENDPOINTS:
        page = "cases"
    query = request.form.get("query", "")
    try:
        view = saved_views.save(current_user(), page, request.form.get("name", ""), query)
    except ValidationFailed as exc:
        rule = exc.errors[0].get("rule") if exc.errors else None
        why = {"required": _("Give the view a name."),
               "maxLength": _("The name is too long (at most %(n)d characters).", n=saved_views.MAX_NAME),
               "maxItems": _("You have %(n)d views already; remove one first.", n=saved_views.MAX_VIEWS)}
        flash(_("The view was not saved: %(why)s", why=why.get(rule or "", exc.message)), "error")
        target = url_for(ENDPOINTS[page]) + (f"?{saved_views.clean_query(page, query)}" if query else "")
        return redirect(target, 303)
    flash(_("The view “%(name)s” is saved: find it under “My views”.", name=view.name), "success")
    return redirect(view_url(view), 303)


@blp.post("/views/<int(max=2147483647):view_id>/delete")
def delete(view_id: int) -> Any:
    view = saved_views.delete(current_user(), view_id)
    flash(_("The view “%(name)s” is removed.", name=view.name), "success")
    return redirect(url_for(ENDPOINTS.get(view.page, "case_pages.cases")), 303)


def views_context(page: str) -> dict[str, Any]:
    """What ``_views.html`` needs on a list page."""
    return {"views": saved_views.of(current_user(), page), "views_page": page, "views_query": current_query(page)}
