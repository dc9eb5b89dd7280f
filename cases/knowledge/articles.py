"""The knowledge base: articles (zh/en) and agents' canned answers, full-text search, and the
suggestions an intake shows for a new case.

Staff of the front line (agents, service consultants, supervisors, admins) write; everyone
reads published articles; customers' users see nothing else (no drafts, no canned answers).
Changing an article needs the version the writer saw, like a task (428 without, 409 when it
moved on). The search index (cases/knowledge/index.py) is rewritten in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy import delete as sql_delete

from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, PreconditionRequired
from cases.core.models import Case, CaseEvent, Role, User, utcnow
from cases.knowledge import index
from cases.knowledge.models import ArticleTerm, KnowledgeArticle

WRITERS = (Role.AGENT.value, Role.SERVICE_CONSULTANT.value, Role.SUPERVISOR.value, Role.ADMIN.value)
LANGUAGES = ("zh", "en")
KINDS = ("article", "canned_answer")
STATUSES = ("draft", "published")
EDITABLE = ("kind", "language", "title", "body", "category", "tags", "status")
INDEXED = ("title", "body", "tags")
#: how much a suggestion's category hint raises the articles of that category
CATEGORY_HINT_BOOST = 1.25


def may_write(user: User) -> bool:
    return user.has_role(*WRITERS)


def _readable(user: User, query: Select) -> Select:
    """Staff read everything; everyone else published articles only."""
    if user.is_staff:
        return query
    return query.where(KnowledgeArticle.status == "published", KnowledgeArticle.kind == "article")


def _filtered(query: Select, filters: dict[str, Any]) -> Select:
    for name in ("language", "category", "kind", "status"):
        if filters.get(name) is not None:
            query = query.where(getattr(KnowledgeArticle, name) == filters[name])
    return query


def get(user: User, article_id: int) -> KnowledgeArticle:
    article = db.session.scalar(_readable(user, select(KnowledgeArticle).where(KnowledgeArticle.id == article_id)))
    if article is None:
        raise NotFound(f"article {article_id} not found", resource="article", id=article_id)
    return article


def list_articles(user: User, filters: dict[str, Any], page: int, per_page: int) -> dict:
    query = _filtered(_readable(user, select(KnowledgeArticle)), filters)
    if filters.get("tag"):
        # JSON containment differs between the databases; a page is small, filter it here
        rows = [a for a in db.session.scalars(query.order_by(KnowledgeArticle.updated_at.desc(),
                                                             KnowledgeArticle.id.desc()))
                if filters["tag"] in (a.tags or [])]
        return {"items": rows[(page - 1) * per_page: page * per_page], "total": len(rows), "page": page,
                "per_page": per_page}
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.order_by(KnowledgeArticle.updated_at.desc(), KnowledgeArticle.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def _clean_tags(tags: list[str] | None) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags or () if t.strip()))


@use_case
def create(actor: User, fields: dict[str, Any]) -> KnowledgeArticle:
    require_role(actor, *WRITERS)
    now = utcnow()
    article = KnowledgeArticle(**{k: fields[k] for k in EDITABLE if k in fields}, author_id=actor.id,
                               author=actor, updated_by_id=actor.id, created_at=now, updated_at=now)
    article.kind = article.kind or "article"
    article.status = article.status or "draft"
    article.tags = _clean_tags(article.tags)
    if article.is_published:
        article.published_at = now
    db.session.add(article)
    index.reindex(article)
    return article


def _check_version(article: KnowledgeArticle, version: int | None) -> None:
    if version is None:
        raise PreconditionRequired("send the article version you saw (If-Match header)")
    if version != article.version:
        raise Conflict(f"article {article.id} changed since version {version}; it is now at {article.version}",
                       code="stale_version", current_version=article.version)


@use_case
def update(actor: User, article_id: int, version: int | None, changes: dict[str, Any]) -> KnowledgeArticle:
    require_role(actor, *WRITERS)
    article = get(actor, article_id)
    _check_version(article, version)
    if "tags" in changes:
        changes = {**changes, "tags": _clean_tags(changes["tags"])}
    for name in EDITABLE:
        if name in changes:
            setattr(article, name, changes[name])
    article.updated_at, article.updated_by_id = utcnow(), actor.id
    if article.is_published and article.published_at is None:
        article.published_at = article.updated_at
    if any(name in changes for name in INDEXED):
        index.reindex(article)
    return article


@use_case
def delete(actor: User, article_id: int, version: int | None) -> None:
    require_role(actor, *WRITERS)
    article = get(actor, article_id)
    _check_version(article, version)
    db.session.execute(sql_delete(ArticleTerm).where(ArticleTerm.article_id == article.id))
    db.session.delete(article)


# --- search ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    article: KnowledgeArticle
    score: float
    snippet: str


def _hits(query: Select, text: str, limit: int, category_boost: str | None = None) -> list[Hit]:
    terms = index.query_terms(text)
    if not terms:
        return []
    candidates = dict(db.session.execute(
        query.with_only_columns(KnowledgeArticle.id, KnowledgeArticle.indexed_length)).all())
    boost = None
    if category_boost:
        boosted = db.session.scalars(query.with_only_columns(KnowledgeArticle.id)
                                     .where(KnowledgeArticle.category == category_boost))
        boost = dict.fromkeys(boosted, CATEGORY_HINT_BOOST)
    ranked = index.rank(terms, candidates, boost)[:limit]
    articles = {a.id: a for a in db.session.scalars(
        select(KnowledgeArticle).where(KnowledgeArticle.id.in_([article_id for article_id, _ in ranked])))}
    return [Hit(articles[article_id], round(score, 4), index.snippet(articles[article_id].body, terms))
            for article_id, score in ranked]


def search(user: User, text: str, filters: dict[str, Any], limit: int = 10) -> list[Hit]:
    """Articles the user may read that match ``text``, best first. Staff get published ones
    unless they ask for a ``status``."""
    filters = dict(filters)
    if user.is_staff and filters.get("status") is None:
        filters["status"] = "published"
    return _hits(_filtered(_readable(user, select(KnowledgeArticle)), filters), text, limit)


def suggest(text: str, language: str | None = None, limit: int = 3, category_hint: str | None = None) -> list[Hit]:
    """The published articles that best answer ``text`` (a new case's title and description),
    for an intake in any channel: the ``category_hint`` raises its category's articles a little."""
    query = select(KnowledgeArticle).where(KnowledgeArticle.status == "published",
                                           KnowledgeArticle.kind == "article")
    if language is not None:
        query = query.where(KnowledgeArticle.language == language)
    return _hits(query, text, limit, category_hint)


# --- which articles closed cases ---------------------------------------------------------------

#: the case event a customer's "this article answered my question" records (cases/casework/self_service.py)
SELF_SERVICE_EVENT = "self_service"


def _article_of_event() -> Any:
    return CaseEvent.data["article_id"].as_integer()


def closed_counts(user: User, article_ids: list[int]) -> dict[int, int]:
    """Staff: how many cases each article closed (a self-service answer), by article id."""
    if not user.is_staff or not article_ids:
        return {}
    article = _article_of_event()
    rows = db.session.execute(select(article, func.count(func.distinct(CaseEvent.case_id)))
                              .where(CaseEvent.kind == SELF_SERVICE_EVENT, article.in_(article_ids))
                              .group_by(article))
    return {int(article_id): int(count) for article_id, count in rows}


def closed_cases(user: User, article_id: int, limit: int = 50) -> list[Case]:
    """Staff: the cases the article closed (newest first)."""
    if not user.is_staff:
        return []
    ids = select(CaseEvent.case_id).where(CaseEvent.kind == SELF_SERVICE_EVENT, _article_of_event() == article_id)
    return list(db.session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id.desc()).limit(limit)))
