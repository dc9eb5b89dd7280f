"""Knowledge-base articles and their search terms."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.core.db import db
from cases.core.models import (
    User,
    UTCDateTime,
    utcnow,
)


class KnowledgeArticle(db.Model):
    """A knowledge-base article or an agents' canned answer (``kind``), in one language.
    ``version`` guards concurrent edits like a task's; the search index is ``article_terms``."""

    __tablename__ = "knowledge_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="article")  # article | canned_answer
    language: Mapped[str] = mapped_column(String(5), index=True)  # zh | en
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)  # draft | published
    #: the number of index terms (title, tags and body weighted): BM25's document length
    indexed_length: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_published(self) -> bool:
        return self.status == "published"


class ArticleTerm(db.Model):
    """The full-text index of the knowledge base, built in Python (cases/knowledge/index.py) so
    it behaves the same on SQLite and PostgreSQL: how often ``term`` occurs in a ``field``."""

    __tablename__ = "article_terms"
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    field: Mapped[str] = mapped_column(String(10), primary_key=True)  # title | tags | body
    term: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer)


class CannedAnswer(db.Model):  # type: ignore[name-defined,misc]  # Flask-SQLAlchemy's dynamic base
    """A named reply text in both languages that front-line staff insert into a reply to a
    customer; supervisors manage them (cases/knowledge/canned.py). ``version`` guards edits."""

    __tablename__ = "canned_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    text_zh: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    def text(self, language: str) -> str:
        """The text in ``language`` (zh | en), else the other one."""
        first, other = (self.text_zh, self.text_en) if language == "zh" else (self.text_en, self.text_zh)
        return first or other
