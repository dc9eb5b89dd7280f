"""Recurring problems (cases/service/problems.py, as /api/v1/problems and /api/v1/known-problems): the
groups of cases that keep coming back over a period — by product, version, category and customer —
with the cases behind each, the recurrence rate, and the form to mark a group as a known problem with
its workaround in a knowledge-base article."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, request
from flask_babel import gettext as _
from sqlalchemy import select

from cases.core.db import db
from cases.core.errors import Conflict, ValidationFailed
from cases.core.models import utcnow
from cases.knowledge.models import KnowledgeArticle
from cases.kpis.figures import Period, period_problems
from cases.service import problems
from cases.service.risks import today as service_today
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("problem_pages", url_prefix="/problems")

DEFAULT_DAYS = 90


def _day(raw: str | None, default: date) -> date | None:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _page(status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
          group_key: str | None = None) -> Any:
    user = current_user()
    today = service_today(utcnow())  # the service's date, in whose zone the period is read (not the machine's)
    first = _day(request.args.get("from"), today - timedelta(days=DEFAULT_DAYS - 1))
    last = _day(request.args.get("to"), today)
    query_errors = {}
    if first is None:
        query_errors["from"] = _("A date (YYYY-MM-DD).")
    if last is None:
        query_errors["to"] = _("A date (YYYY-MM-DD).")
    if first is None or last is None or period_problems(first, last):
        query_errors = query_errors or {"to": _("The period must end after it starts, within three years.")}
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    groups = problems.recurring(user, first, last)
    figures = problems.recurrence(Period(first, last))
    articles = db.session.scalars(select(KnowledgeArticle).order_by(KnowledgeArticle.title)).all()
    return render("problems/index.html", status, groups=groups, figures=figures, first=first, last=last,
                  target=problems.RECURRENCE_TARGET, articles=articles, known=problems.known_problems(user),
                  query=request.args, query_errors=query_errors, values=values or {}, errors=errors or {},
                  group_key=group_key)


@blp.get("")
def index() -> Any:
    return _page()


def key_of(group: problems.Group) -> str:
    return f"{group.key.customer_id}|{group.key.category}|{group.key.product}|{group.key.product_version}"


@blp.post("/known")
def mark_known() -> Any:
    form = request.form
    values = {name: form.get(name, "").strip() for name in ("title", "workaround", "article_id")}
    group_key = form.get("group", "")
    parts = group_key.split("|", 3)
    errors = {}
    for name, limit in (("title", 200), ("workaround", 10000)):
        if not values[name]:
            errors[name] = _("This field is required.")
        elif len(values[name]) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
    if not values["article_id"].isdigit() or len(values["article_id"]) > 9:
        errors["article_id"] = _("Choose the knowledge-base article that holds the workaround.")
    if len(parts) != 4 or not parts[0].isdigit() or len(parts[0]) > 9:
        errors["group"] = _("Choose a group.")
    if errors:
        return _page(422, values, errors, group_key)
    fields = {"customer_id": int(parts[0]), "category": parts[1], "product": parts[2], "product_version": parts[3],
              "title": values["title"], "workaround": values["workaround"], "article_id": int(values["article_id"])}
    try:
        row = problems.mark_known(current_user(), fields)
    except ValidationFailed as exc:
        return _page(422, values, {e["field"]: e["message"] for e in exc.errors}, group_key)
    except Conflict:
        flash(_("This group is a known problem already. Nothing was saved."), "error")
        return _page(409, values, {}, group_key)
    flash(_("“%(title)s” is a known problem now; its workaround is in the knowledge base.", title=row.title),
          "success")
    return back_to("problem_pages.index")


def register_globals(app: Any) -> None:
    app.jinja_env.globals.update(problem_group_key=key_of)
