"""Saved views: a user saves a list's current filter (the case list's or the inbox's query string)
under a name and finds it again; each user sees only their own. Saving under a name they used
before replaces that view's filter."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select

from cases.casework.models import SavedView
from cases.core.db import db, use_case
from cases.core.errors import Forbidden, NotFound, ValidationFailed
from cases.core.models import User

#: the lists a view can be saved for, and the query arguments each keeps (never the page number)
PAGES = {
    "cases": ("q", "status", "stage", "priority", "category", "owner", "customer_id", "channel", "kind", "product"),
    "inbox": ("scope", "q", "priority", "category", "lane", "order"),
}
MAX_NAME = 100
MAX_QUERY = 2000
MAX_VIEWS = 50


def clean_query(page: str, query: str) -> str:
    """The query string with only the list's filter arguments, in a stable order."""
    keep = PAGES[page]
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k in keep and v.strip()]
    return urlencode(sorted(pairs, key=lambda kv: keep.index(kv[0])))


def _check(user: User, page: str) -> None:
    if not user.is_staff:
        raise Forbidden("only staff save views")
    if page not in PAGES:
        raise ValidationFailed("unknown list", [{"field": "page", "message": f"one of {', '.join(PAGES)}"}])


def of(user: User, page: str) -> list[SavedView]:
    """The user's saved views of a list, by name."""
    if not user.is_staff or page not in PAGES:
        return []
    return list(db.session.scalars(select(SavedView).where(SavedView.user_id == user.id, SavedView.page == page)
                                   .order_by(SavedView.name, SavedView.id)))


@use_case
def save(user: User, page: str, name: str, query: str) -> SavedView:
    """Save the filter ``query`` of list ``page`` as ``name`` (replacing the user's view of that name)."""
    _check(user, page)
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("a view needs a name", [{"field": "name", "message": "required", "rule": "required"}])
    if len(name) > MAX_NAME:
        raise ValidationFailed("name too long", [{"field": "name", "message": f"at most {MAX_NAME} characters",
                                                  "rule": "maxLength", "limit": MAX_NAME}])
    cleaned = clean_query(page, query)
    if len(cleaned) > MAX_QUERY:
        raise ValidationFailed("filter too long", [{"field": "query", "message": f"at most {MAX_QUERY} characters",
                                                    "rule": "maxLength", "limit": MAX_QUERY}])
    view = db.session.scalar(select(SavedView).where(SavedView.user_id == user.id, SavedView.page == page,
                                                     SavedView.name == name))
    if view is None:
        if len(of(user, page)) >= MAX_VIEWS:
            raise ValidationFailed("too many views", [{"field": "name", "message": f"at most {MAX_VIEWS} views",
                                                       "rule": "maxItems", "limit": MAX_VIEWS}])
        view = SavedView(user_id=user.id, page=page, name=name, query=cleaned)
        db.session.add(view)
    else:
        view.query = cleaned
    db.session.flush()
    return view


@use_case
def delete(user: User, view_id: int) -> SavedView:
    """Remove one of the user's own views (another's is not found)."""
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        raise NotFound(f"view {view_id} not found", resource="view", id=view_id)
    db.session.delete(view)
    return view
