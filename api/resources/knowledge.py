"""The knowledge base: articles and canned answers, search, and suggestions for an intake."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.responses import dumped, if_match_version
from api.schemas import username_of
from cases.core.errors import ValidationFailed
from cases.core.models import CATEGORIES
from cases.knowledge import articles as knowledge
from gateway.auth import current_user

blp = Blueprint("knowledge", __name__, url_prefix="/api/v1/knowledge",
                description="Knowledge base: articles (zh/en), canned answers, search, suggestions at intake")

ARTICLE_ID = "/articles/<int(max=2147483647):article_id>"


class ArticleBodySchema(Schema):
    kind = fields.String(validate=validate.OneOf(knowledge.KINDS), metadata={
        "description": "article (default) or canned_answer (staff only)"})
    language = fields.String(required=True, validate=validate.OneOf(knowledge.LANGUAGES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000), metadata={
        "description": "Markdown"})
    category = fields.String(allow_none=True, validate=validate.OneOf(CATEGORIES))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20))
    status = fields.String(validate=validate.OneOf(knowledge.STATUSES), metadata={"description": "default draft"})


class ArticleChangeSchema(ArticleBodySchema):
    """The fields to change; send If-Match: "<version>"."""

    language = fields.String(validate=validate.OneOf(knowledge.LANGUAGES))
    title = fields.String(validate=validate.Length(min=1, max=200))
    body = fields.String(validate=validate.Length(min=1, max=100_000))


class ArticleSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    language = fields.String()
    title = fields.String()
    body = fields.String()
    category = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    status = fields.String()
    author = username_of("author")
    version = fields.Integer(metadata={"description": "send it as If-Match to change the article"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


ARTICLE = ArticleSchema()
ArticlePageSchema = page_schema(ArticleSchema, "ArticlePage")


class _Filters(Schema):
    language = fields.String(validate=validate.OneOf(knowledge.LANGUAGES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    kind = fields.String(validate=validate.OneOf(knowledge.KINDS))
    status = fields.String(validate=validate.OneOf(knowledge.STATUSES), metadata={
        "description": "staff; customers see published articles only"})


class ArticleListArgs(PageArgs, _Filters):
    tag = fields.String(validate=validate.Length(min=1, max=40))


class SearchArgs(_Filters):
    q = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "words or Chinese text; title matches rank higher"})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class SuggestArgs(Schema):
    title = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    category_hint = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES), metadata={
        "description": "raises the articles of this category a little"})
    language = fields.String(load_default=None, validate=validate.OneOf(knowledge.LANGUAGES))


class HitSchema(Schema):
    id = fields.Function(lambda h: h.article.id)
    kind = fields.Function(lambda h: h.article.kind)
    language = fields.Function(lambda h: h.article.language)
    title = fields.Function(lambda h: h.article.title)
    category = fields.Function(lambda h: h.article.category)
    tags = fields.Function(lambda h: h.article.tags)
    status = fields.Function(lambda h: h.article.status)
    score = fields.Float(metadata={"description": "BM25; higher is better"})
    snippet = fields.String(metadata={"description": "the body around the first match"})


class HitListSchema(Schema):
    items = fields.List(fields.Nested(HitSchema))


def _seen_version() -> int | None:
    return if_match_version("article")


def _response(article, status: int = 200):
    return dumped(ARTICLE, article, status, headers={"ETag": f'"{article.version}"'})


@blp.route("/articles")
class ArticleCollection(MethodView):
    @blp.arguments(ArticleListArgs, location="query")
    @blp.response(200, ArticlePageSchema)
    def get(self, args):
        """Articles, newest change first (customers: published articles only)."""
        page, per_page = args.pop("page"), args.pop("per_page")
        return knowledge.list_articles(current_user(), args, page, per_page)

    @blp.arguments(ArticleBodySchema)
    @blp.response(201, ArticleSchema)
    def post(self, body):
        """Write an article or a canned answer (agents, service consultants, supervisors, admins)."""
        return _response(knowledge.create(current_user(), body), 201)


@blp.route(ARTICLE_ID)
class ArticleItem(MethodView):
    @blp.response(200, ArticleSchema)
    def get(self, article_id):
        """One article; ETag: its version."""
        return _response(knowledge.get(current_user(), article_id))

    @blp.arguments(ArticleChangeSchema)
    @blp.response(200, ArticleSchema)
    def patch(self, body, article_id):
        """Change an article with If-Match: "<version>" (428 without, 409 stale_version when it changed)."""
        return _response(knowledge.update(current_user(), article_id, _seen_version(), body))

    @blp.response(204)
    def delete(self, article_id):
        """Delete an article with If-Match: "<version>"."""
        knowledge.delete(current_user(), article_id, _seen_version())


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, HitListSchema)
    def get(self, args):
        """Full-text search (Chinese and English), best match first, with a snippet. Staff search published
        articles and canned answers unless they ask for a status; customers published articles only."""
        text, limit = args.pop("q"), args.pop("limit")
        return {"items": knowledge.search(current_user(), text, args, limit)}


@blp.route("/suggest")
class Suggest(MethodView):
    @blp.arguments(SuggestArgs, location="query")
    @blp.response(200, HitListSchema)
    def get(self, args):
        """The three published articles that best answer a new case's title and description."""
        text = f"{args['title']}\n{args['description']}"
        if not text.strip():
            raise ValidationFailed("nothing to suggest for", [{"field": "query.title",
                                                               "message": "give a title or a description"}])
        return {"items": knowledge.suggest(text, args["language"], 3, args["category_hint"])}

