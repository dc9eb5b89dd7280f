"""Self-service: a customer whose question a knowledge-base article answered closes the case.

At intake the best matching published articles are suggested (``suggestions``). While the case
still waits for its classification (nobody works on it yet), the customer — or a front-line
agent on their behalf — may say an article answered it: the process receives the
``answered_by_article`` message (an interrupting boundary event on the classification task in
the diagram) and closes without agent work. The ``self_service`` event is what the KPIs count.
"""
from __future__ import annotations

from cases.casework.tasks import deliver_message
from cases.core import events
from cases.core.access import FRONT_LINE_ROLES, visible_case
from cases.core.db import db, use_case
from cases.core.errors import Conflict, Forbidden, ValidationFailed
from cases.core.models import Case, User
from cases.knowledge import articles as knowledge
from cases.knowledge.models import KnowledgeArticle

MESSAGE = "answered_by_article"
OPEN_TO_SELF_SERVICE = "classifying"
SUGGESTIONS = 3


def suggestions(case: Case) -> list[knowledge.Hit]:
    text = " ".join(filter(None, (case.title, case.description)))
    return knowledge.suggest(text, limit=SUGGESTIONS, category_hint=case.category_hint)


@use_case
def answered_by_article(user: User, case_id: int, article_id: int) -> Case:
    case = visible_case(user, case_id)
    if not (user.is_customer and user.customer_id == case.customer_id) and not user.has_role(*FRONT_LINE_ROLES):
        raise Forbidden("only the customer, or an agent for them, says an article answered the case")
    article = db.session.get(KnowledgeArticle, article_id)
    if article is None or article.status != "published" or article.kind != "article":
        raise ValidationFailed("unknown article", [{"field": "article_id", "message": "no published article with this id"}])
    if not case.is_open or case.stage != OPEN_TO_SELF_SERVICE:
        raise Conflict(f"case {case.number} is already being handled ({case.stage}); it closes through its process",
                       code="self_service_too_late", stage=case.stage)
    events.record(case, "self_service", user, public=True, article_id=article.id, title=article.title)
    return deliver_message(case, user, MESSAGE, {"article_id": article.id, "title": article.title})
