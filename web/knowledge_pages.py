"""The knowledge base's pages (cases/knowledge): customers browse and search the published articles
in their language; staff search everything, write, edit and publish articles and see which cases an
article closed (self-service). Supervisors manage the canned answers (named reply texts in both
languages); front-line staff insert a canned answer or an article into a reply on the case page,
without JavaScript: the reply form is posted to ``reply_insert``, which shows the case page again
with the text typed so far and the inserted text."""
from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from cases.core.errors import Conflict, PreconditionRequired, ValidationFailed
from cases.knowledge import articles, canned
from cases.knowledge.models import CannedAnswer, KnowledgeArticle
from web import case_pages
from web.i18n import is_chinese
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("knowledge_pages")

PER_PAGE = 20
LIMITS = {"title": 200, "body": 50000, "category": 40, "tags": 500}
CATEGORIES = ("software_bug", "data_problem", "environment_problem", "operation_problem", "configuration_problem",
              "performance_problem", "general_consultation", "new_requirement")


def page_language() -> str:
    return "zh" if is_chinese() else "en"


def _number(name: str = "page") -> int:
    try:
        return max(1, int(request.args.get(name, 1)))
    except ValueError:
        return 1


@blp.get("/knowledge")
def index() -> Any:
    """Customers: the published articles in the page's language. Staff: every article (filters:
    language, status), the cases each closed; a search over them (``q``)."""
    user = current_user()
    q = request.args.get("q", "").strip()[:200]
    filters: dict[str, Any] = {"kind": "article"}
    if user.is_customer:
        filters["language"] = page_language()
    else:
        for name, choices in (("language", articles.LANGUAGES), ("status", articles.STATUSES)):
            if request.args.get(name) in choices:
                filters[name] = request.args[name]
    number = _number()
    if q:
        hits = articles.search(user, q, filters, limit=50)
        shown: list[tuple[KnowledgeArticle, str | None]] = [(h.article, h.snippet) for h in hits]
        total = len(shown)
        shown = shown[(number - 1) * PER_PAGE: number * PER_PAGE]
    else:
        listed = articles.list_articles(user, filters, number, PER_PAGE)
        shown, total = [(a, None) for a in listed["items"]], listed["total"]
    closed = articles.closed_counts(user, [a.id for a, _snippet in shown])
    return render("knowledge/index.html", rows=shown, total=total, page=number, per_page=PER_PAGE, q=q,
                  filters=filters, closed=closed, may_write=articles.may_write(user),
                  languages=articles.LANGUAGES, statuses=articles.STATUSES,
                  args={k: v for k, v in request.args.items() if k != "page"})


@blp.get("/knowledge/<int(max=2147483647):article_id>")
def article(article_id: int) -> Any:
    user = current_user()
    item = articles.get(user, article_id)
    return render("knowledge/article.html", article=item, closed_cases=articles.closed_cases(user, article_id),
                  may_write=articles.may_write(user))


def _read(form: MultiDict[str, str]) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """(the values to show again, the article's fields, {field: message})."""
    values = {name: form.get(name, "").strip() for name in (*LIMITS, "language", "status")}
    errors: dict[str, str] = {}
    for name in ("title", "body"):
        if not values[name]:
            errors[name] = _("This field is required.")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
    if values["language"] not in articles.LANGUAGES:
        errors["language"] = _("Choose one of the options.")
    if values["category"] and values["category"] not in CATEGORIES:
        errors["category"] = _("Choose one of the options.")
    status = "published" if values["status"] == "published" else "draft"
    fields = {"kind": "article", "language": values["language"], "title": values["title"], "body": values["body"],
              "category": values["category"] or None, "status": status,
              "tags": [t.strip() for t in values["tags"].replace("，", ",").split(",") if t.strip()]}
    return values, fields, errors


def _editor(status: int, values: dict[str, str], errors: dict[str, str], item: KnowledgeArticle | None = None,
            notice: str | None = None) -> Any:
    return render("knowledge/edit.html", status, article=item, values=values, errors=errors, notice=notice,
                  languages=articles.LANGUAGES, categories=CATEGORIES, limits=LIMITS)


def _values_of(item: KnowledgeArticle) -> dict[str, str]:
    return {"title": item.title, "body": item.body, "category": item.category or "", "tags": ", ".join(item.tags or []),
            "language": item.language, "status": item.status, "version": str(item.version)}


@blp.route("/knowledge/new", methods=["GET", "POST"])
def new() -> Any:
    if request.method == "GET":
        return _editor(200, {"language": page_language(), "status": "draft"}, {})
    values, fields, errors = _read(request.form)
    if errors:
        return _editor(422, values, errors)
    item = articles.create(current_user(), fields)
    flash(_("The article “%(title)s” is saved.", title=item.title), "success")
    return redirect(url_for("knowledge_pages.article", article_id=item.id), 303)


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


def _stale() -> str:
    return str(_("This article changed since you opened it (someone else saved it). Nothing was saved: your text is "
             "below."))


@blp.route("/knowledge/<int(max=2147483647):article_id>/edit", methods=["GET", "POST"])
def edit(article_id: int) -> Any:
    user = current_user()
    item = articles.get(user, article_id)
    if request.method == "GET":
        return _editor(200, _values_of(item), {}, item)
    values, fields, errors = _read(request.form)
    values["version"] = request.form.get("version", "")
    if errors:
        return _editor(422, values, errors, item)
    try:
        saved = articles.update(user, article_id, _version(), fields)
    except (Conflict, PreconditionRequired):
        fresh = articles.get(user, article_id)
        values["version"] = str(fresh.version)
        return _editor(409, values, {}, fresh, _stale())
    flash(_("The article “%(title)s” is saved.", title=saved.title), "success")
    return redirect(url_for("knowledge_pages.article", article_id=saved.id), 303)


@blp.post("/knowledge/<int(max=2147483647):article_id>/publish")
def publish(article_id: int) -> Any:
    try:
        item = articles.update(current_user(), article_id, _version(), {"status": "published"})
    except (Conflict, PreconditionRequired):
        flash(_("This article changed since you opened it. Nothing was changed."), "error")
    else:
        flash(_("The article “%(title)s” is published.", title=item.title), "success")
    return redirect(url_for("knowledge_pages.article", article_id=article_id), 303)


# --- canned answers ---------------------------------------------------------------------------

CANNED_MESSAGES = {"unique": lambda: _("Another canned answer has this name."),
                   "required": lambda: _("Write the text in at least one language."),
                   "maxLength": lambda: _("This is too long.")}


def _canned_page(status: int = 200, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 editing: CannedAnswer | None = None, notice: str | None = None) -> Any:
    user = current_user()
    return render("knowledge/canned.html", status, answers=canned.list_all(user), may_manage=canned.may_manage(user),
                  values=values or {}, errors=errors or {}, editing=editing, notice=notice, max_name=canned.MAX_NAME,
                  max_text=canned.MAX_TEXT)


def _canned_errors(exc: ValidationFailed) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in exc.errors:
        if e["field"] == "name" and e.get("rule") == "required":
            found["name"] = _("This field is required.")
        elif e["field"] not in found:
            said = CANNED_MESSAGES.get(e.get("rule", ""))
            found[e["field"]] = said() if said is not None else str(e["message"])
    return found


def _canned_values() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in (*canned.FIELDS, "version")}


@blp.get("/canned-answers")
def canned_answers() -> Any:
    return _canned_page()


@blp.post("/canned-answers")
def canned_create() -> Any:
    values = _canned_values()
    try:
        item = canned.create(current_user(), values)
    except ValidationFailed as exc:
        return _canned_page(422, values, _canned_errors(exc))
    flash(_("The canned answer “%(name)s” is saved.", name=item.name), "success")
    return redirect(url_for("knowledge_pages.canned_answers"), 303)


@blp.route("/canned-answers/<int(max=2147483647):answer_id>", methods=["GET", "POST"])
def canned_edit(answer_id: int) -> Any:
    user = current_user()
    item = canned.get(user, answer_id)
    if request.method == "GET":
        values = {"name": item.name, "text_zh": item.text_zh, "text_en": item.text_en, "version": str(item.version)}
        return _canned_page(200, values, {}, item)
    values = _canned_values()
    try:
        version = int(values["version"])
    except ValueError:
        version = None
    try:
        saved = canned.update(user, answer_id, version, values)
    except ValidationFailed as exc:
        return _canned_page(422, values, _canned_errors(exc), item)
    except (Conflict, PreconditionRequired):
        fresh = canned.get(user, answer_id)
        values["version"] = str(fresh.version)
        return _canned_page(409, values, {}, fresh, _("This canned answer changed since you opened it. Nothing was "
                                                      "saved: your text is below."))
    flash(_("The canned answer “%(name)s” is saved.", name=saved.name), "success")
    return redirect(url_for("knowledge_pages.canned_answers"), 303)


@blp.post("/canned-answers/<int(max=2147483647):answer_id>/delete")
def canned_delete(answer_id: int) -> Any:
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        canned.delete(current_user(), answer_id, version)
    except (Conflict, PreconditionRequired):
        flash(_("This canned answer changed since you opened it. Nothing was changed."), "error")
    else:
        flash(_("The canned answer is deleted."), "success")
    return redirect(url_for("knowledge_pages.canned_answers"), 303)


# --- inserting into a reply -------------------------------------------------------------------

def _joined(typed: str, inserted: str) -> str:
    typed = typed.rstrip()
    return f"{typed}\n\n{inserted}" if typed else inserted


@blp.post("/cases/<int(max=2147483647):case_id>/replies/insert")
def reply_insert(case_id: int) -> Any:
    """The reply form sent with an insert button: the case page again, the typed text kept, with a
    canned answer (``canned`` = ``<id>:<zh|en>``) or a published article (``article`` = id) appended,
    or with the articles matching ``kb_q`` to choose from."""
    user = current_user()
    text = request.form.get("text", "")
    hits: list[articles.Hit] = []
    query = request.form.get("kb_q", "").strip()[:200]
    choice = request.form.get("article") or ""
    if choice.isdigit():
        item = articles.get(user, int(choice))
        if item.is_published and item.kind == "article":
            text = _joined(text, f"{item.title}\n\n{item.body}")
    elif request.form.get("insert") == "canned":
        answer_id, _sep, language = request.form.get("canned", "").partition(":")
        if answer_id.isdigit():
            answer = canned.get(user, int(answer_id))
            text = _joined(text, answer.text(language if language in articles.LANGUAGES else page_language()))
        else:
            flash(_("Choose a canned answer first."), "error")
    elif query:
        hits = articles.search(user, query, {"kind": "article"}, limit=5)
        if not hits:
            flash(_("No published article matches “%(q)s”.", q=query), "info")
    return case_pages.case_page(case_id, reply_text=text, kb_q=query, kb_hits=hits)


def canned_choices() -> list[tuple[str, str]]:
    """For the reply form: (value, label) of each canned answer in each language it has."""
    user = current_user()
    if not user.is_staff:
        return []
    out = []
    for answer in canned.list_all(user):
        if answer.text_zh:
            out.append((f"{answer.id}:zh", f"{answer.name} (中文)"))
        if answer.text_en:
            out.append((f"{answer.id}:en", f"{answer.name} (English)"))
    return out


def register(app: Flask) -> None:
    app.jinja_env.globals.update(canned_choices=canned_choices)
