"""Recurring problems (cases/service/problems.py): the groups of cases that keep coming back over a
period, by product, version, category and customer; known problems with their workaround."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.parsing import Blueprint
from cases.core.models import CATEGORIES
from cases.kpis.figures import TIMEZONE, period_problems
from cases.service import problems
from cases.service.models import KnownProblem
from gateway.auth import current_user

blp = Blueprint("recurring_problems", __name__, url_prefix="/api/v1",
                description="Recurring problems by product, version, category and customer; known problems")


class ProblemArgs(Schema):
    first = fields.Date(required=True, data_key="from", metadata={
        "description": f"first day of the period (YYYY-MM-DD, {TIMEZONE})"})
    last = fields.Date(required=True, data_key="to", metadata={"description": "last day, included"})
    min_cases = fields.Integer(load_default=problems.MIN_CASES, validate=validate.Range(min=1, max=1000), metadata={
        "description": "a group recurs with at least this many cases"})
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2147483647))

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "first" in data and "last" in data:
            found = period_problems(data["first"], data["last"])
            if found:
                raise ValidationError({p["field"]: [p["message"]] for p in found})


class ProblemCaseSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    status = fields.String()
    created_at = fields.DateTime()


class KnownProblemSchema(Schema):
    id = fields.Integer()
    product = fields.String()
    product_version = fields.String()
    category = fields.String()
    customer_id = fields.Integer()
    title = fields.String()
    workaround = fields.String()
    article_id = fields.Integer(allow_none=True)
    article_title = fields.Function(lambda k: k.article.title if k.article else None)
    created_at = fields.DateTime()
    version = fields.Integer()


class ProblemGroupSchema(Schema):
    product = fields.Function(lambda g: g.key.product, metadata={"description": "\"\" when not known"})
    product_version = fields.Function(lambda g: g.key.product_version)
    category = fields.Function(lambda g: g.key.category)
    customer_id = fields.Function(lambda g: g.key.customer_id)
    customer = fields.Function(lambda g: g.customer.code)
    count = fields.Integer()
    cases = fields.List(fields.Nested(ProblemCaseSchema))
    known = fields.Nested(KnownProblemSchema, allow_none=True)


class KnownProblemBodySchema(Schema):
    product = fields.String(load_default="", validate=validate.Length(max=100))
    product_version = fields.String(load_default="", validate=validate.Length(max=100))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    customer_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2147483647))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    workaround = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    article_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2147483647), metadata={
        "description": "the knowledge-base article that holds the workaround"})


@blp.route("/problems")
class ProblemGroups(MethodView):
    @blp.arguments(ProblemArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, ProblemGroupSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> list[problems.Group]:
        """The groups of classified support cases opened in the period with at least ``min_cases`` cases,
        the largest first, each with its cases and its known problem if marked."""
        return problems.recurring(current_user(), args["first"], args["last"], args["min_cases"],
                                  args.get("customer_id"))


@blp.route("/known-problems")
class KnownProblems(MethodView):
    @blp.response(200, KnownProblemSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self) -> list[KnownProblem]:
        """Known problems, the newest first."""
        return problems.known_problems(current_user())

    @blp.arguments(KnownProblemBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, KnownProblemSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> KnownProblem:
        """Mark a group (product, version, category, customer) as a known problem with its workaround,
        linked to a knowledge-base article; 409 already_known when the group is marked."""
        return problems.mark_known(current_user(), body)
