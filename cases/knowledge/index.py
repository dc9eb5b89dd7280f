"""The knowledge base's full-text index, built and ranked in Python so it behaves the same on
SQLite and PostgreSQL (docs/knowledge.md says why).

Text is normalised (NFKC, lower case); Latin words become terms (a light English stemmer maps
"printers" and "printer", "resetting" and "reset" together, a few stop words are dropped); CJK
text becomes overlapping character bigrams ("报表报错" → 报表 表报 报错) plus single characters, so
a query of one character finds something too. ``article_terms`` holds how often each term occurs
in an article's title, tags and body; ``rank`` scores with BM25F: title terms weigh 3, tags 2,
body 1.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import delete, select

from cases.core.db import db
from cases.knowledge.models import ArticleTerm, KnowledgeArticle

FIELD_WEIGHTS = {"title": 3.0, "tags": 2.0, "body": 1.0}
K1, B = 1.2, 0.75
MAX_TERM = 64
MAX_QUERY_TERMS = 300

_CJK = (r"\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        r"\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f")
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W{_CJK}_]+)")
STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how i if in is it my of on or the this to was what when "
    "where which why with you your".split())


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed (enough to match the usual forms of a word)."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # resetting -> reset
            return base
    return word


def terms(text: str, unigrams: bool = True) -> list[str]:
    """The index terms of ``text``, in order (with repeats)."""
    found: list[str] = []
    for cjk, word in _RUNS.findall(normalise(text)):
        if word:
            if word not in STOP_WORDS:
                found.append(stem(word)[:MAX_TERM])
            continue
        found.extend(cjk[i:i + 2] for i in range(len(cjk) - 1))
        if unigrams or len(cjk) == 1:
            found.extend(cjk)
    return found


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query: CJK bigrams (single characters only for a one-character
    run), Latin words; in the order they appear, at most ``MAX_QUERY_TERMS`` (a long case
    description is still one bounded query)."""
    return list(dict.fromkeys(terms(text, unigrams=False)))[:MAX_QUERY_TERMS]


def reindex(article: KnowledgeArticle) -> None:
    """Replace the article's index rows (in the caller's transaction). The length is set before
    anything is flushed, so the article's row is written once (one version step per change)."""
    fields = {"title": article.title, "tags": " ".join(article.tags or ()), "body": article.body}
    counts = {field: Counter(terms(text)) for field, text in fields.items()}
    article.indexed_length = int(sum(FIELD_WEIGHTS[f] * sum(c.values()) for f, c in counts.items()))
    db.session.flush()
    db.session.execute(delete(ArticleTerm).where(ArticleTerm.article_id == article.id))
    db.session.add_all(ArticleTerm(article_id=article.id, field=field, term=term, count=count)
                       for field, found in counts.items() for term, count in found.items())


def rank(query: list[str], candidates: dict[int, int], boost: dict[int, float] | None = None
         ) -> list[tuple[int, float]]:
    """BM25F scores of the ``candidates`` (article id -> indexed length) for the ``query`` terms,
    best first; articles that match no term are left out."""
    if not query or not candidates:
        return []
    weighted: dict[str, dict[int, float]] = {}
    rows = db.session.execute(select(ArticleTerm.article_id, ArticleTerm.term, ArticleTerm.field, ArticleTerm.count)
                              .where(ArticleTerm.term.in_(query)))
    for article_id, term, field, count in rows:
        if article_id in candidates:
            per_article = weighted.setdefault(term, {})
            per_article[article_id] = per_article.get(article_id, 0.0) + FIELD_WEIGHTS[field] * count
    total = len(candidates)
    average = (sum(candidates.values()) / total) or 1.0
    scores: dict[int, float] = {}
    for per_article in weighted.values():
        idf = math.log(1 + (total - len(per_article) + 0.5) / (len(per_article) + 0.5))
        for article_id, tf in per_article.items():
            norm = K1 * (1 - B + B * candidates[article_id] / average)
            scores[article_id] = scores.get(article_id, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
    for article_id, factor in (boost or {}).items():
        if article_id in scores:
            scores[article_id] *= factor
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


_MARKDOWN = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|[#*_`>|~]+")


def snippet(body: str, query: Iterable[str], width: int = 120) -> str:
    """About ``width`` characters of ``body`` (Markdown marks removed) around the first query
    term found, with … where text was cut."""
    text = re.sub(r"\s+", " ", _MARKDOWN.sub(lambda m: m.group(1) or " ", unicodedata.normalize("NFKC", body))).strip()
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)  # same length, same offsets
    hits = [i for i in (lowered.find(term) for term in query) if i >= 0]
    start = max(0, min(hits) - width // 3) if hits else 0
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
