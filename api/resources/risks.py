"""The risk register (cases/service/risks.py): risks by kind and level with an owner, a contingency plan
and a review date; the cases and escalations that are evidence of each; the owner's reviews."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.parsing import Blueprint
from api.responses import dumped, if_match_version
from api.schemas import username_of
from cases.service import risks
from gateway.auth import current_user
from gateway.inputs import id_field

blp = Blueprint("risks", __name__, url_prefix="/api/v1/risks",
                description="The risk register: technical, operational, security and market risks")

ID = "int(max=2147483647)"


class RiskBodySchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=10000), load_default=None)
    kind = fields.String(required=True, validate=validate.OneOf(risks.KINDS))
    level = fields.String(required=True, validate=validate.OneOf(risks.LEVELS))
    owner = fields.String(validate=validate.Length(min=1, max=80), metadata={
        "description": "the owner's user name (default: who raises it)"})
    contingency_plan = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    review_on = fields.Date(required=True, metadata={"description": "the review date: from today, at most five "
                                                                    "years ahead; the review comes due that day"})
    customer_id = id_field(load_default=None, allow_none=True,
                           metadata={"description": "the customer it concerns, if one"})
    case_id = id_field(metadata={"description": "raised from this case: its first evidence"})
    escalation_id = id_field(metadata={"description": "an escalation of that case"})
    note = fields.String(validate=validate.Length(max=500))


class RiskPatchSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=10000), allow_none=True)
    kind = fields.String(validate=validate.OneOf(risks.KINDS))
    level = fields.String(validate=validate.OneOf(risks.LEVELS))
    owner = fields.String(validate=validate.Length(min=1, max=80))
    contingency_plan = fields.String(validate=validate.Length(min=1, max=10000))
    review_on = fields.Date()


class RiskLinkBodySchema(Schema):
    case_id = id_field(required=True)
    escalation_id = id_field(load_default=None, allow_none=True)
    note = fields.String(validate=validate.Length(max=500), load_default=None)


class RiskReviewBodySchema(Schema):
    version = fields.Integer(required=True, metadata={"description": "the risk's version you saw"})
    level = fields.String(validate=validate.OneOf(risks.LEVELS), metadata={"description": "default: unchanged"})
    notes = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    next_review_on = fields.Date(load_default=None, metadata={"description": "required unless close"})
    close = fields.Boolean(load_default=False)


class RiskLinkSchema(Schema):
    id = fields.Integer()
    case_id = id_field()
    case_number = fields.String(attribute="case.number")
    case_title = fields.String(attribute="case.title")
    escalation_id = id_field(allow_none=True)
    note = fields.String(allow_none=True)
    linked_at = fields.DateTime()


class RiskReviewSchema(Schema):
    id = fields.Integer()
    reviewed_by = username_of("reviewed_by")
    reviewed_at = fields.DateTime()
    level = fields.String()
    notes = fields.String()
    next_review_on = fields.Date(allow_none=True)
    closed = fields.Boolean()


class RiskSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    kind = fields.String()
    level = fields.String()
    status = fields.String()
    owner = username_of("owner")
    contingency_plan = fields.String()
    customer_id = id_field(allow_none=True)
    review_on = fields.Date()
    review_due_since = fields.DateTime(allow_none=True, metadata={
        "description": "the review came due then and waits for the owner (null: not due)"})
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    links = fields.List(fields.Nested(RiskLinkSchema))
    reviews = fields.List(fields.Nested(RiskReviewSchema))
    review_case_id = id_field(allow_none=True, metadata={
        "description": "the internal case (kind risk_review) running the risk's reviews (processes/risk_review.bpmn)"})
    review_case_number = fields.String(attribute="review_case.number", allow_none=True)
    review_task_id = fields.Method("_review_task", allow_none=True, metadata={
        "type": "string", "description": "the open task 'Review the risk' while the review is due (complete it, or post a review)"})

    def _review_task(self, row: Any) -> str | None:
        task = risks.review_task(row)
        return task.id if task is not None else None


class RiskListArgs(Schema):
    kind = fields.String(validate=validate.OneOf(risks.KINDS))
    level = fields.String(validate=validate.OneOf(risks.LEVELS))
    status = fields.String(validate=validate.OneOf((risks.OPEN, risks.CLOSED)))
    case_id = id_field(strict=False)
    review_due = fields.Boolean(metadata={"description": "only the open risks whose review is due"})


def _risk(row: Any, status: int = 200) -> Response:
    return dumped(RiskSchema(), row, status, headers={"ETag": f'"{row.version}"'})


@blp.route("")
class RiskCollection(MethodView):
    @blp.arguments(RiskListArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, RiskSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """The register: open risks first, the highest level first, then the nearest review (staff)."""
        return risks.register(current_user(), args)

    @blp.arguments(RiskBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, RiskSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Raise a risk (staff); with case_id it is raised from that case, the case's first evidence."""
        return _risk(risks.raise_risk(current_user(), body), 201)


@blp.route(f"/<{ID}:risk_id>")
class RiskItem(MethodView):
    @blp.response(200, RiskSchema)  # type: ignore[untyped-decorator]
    def get(self, risk_id: int) -> Any:
        """A risk with its evidence and reviews; ETag: its version."""
        return _risk(risks.risk(current_user(), risk_id))

    @blp.arguments(RiskPatchSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, RiskSchema)  # type: ignore[untyped-decorator]
    def patch(self, body: dict[str, Any], risk_id: int) -> Any:
        """Change a risk (its owner, supervisors, managers, technical leads); If-Match: "<version>"."""
        return _risk(risks.update(current_user(), risk_id, body, if_match_version("risk")))


@blp.route(f"/<{ID}:risk_id>/links")
class RiskLinks(MethodView):
    @blp.arguments(RiskLinkBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, RiskLinkSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], risk_id: int) -> Any:
        """Link a case (and one of its escalations) as evidence of the risk; the case's timeline says so."""
        return risks.link_case(current_user(), risk_id, body)


@blp.route(f"/<{ID}:risk_id>/reviews")
class RiskReviews(MethodView):
    @blp.arguments(RiskReviewBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, RiskReviewSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], risk_id: int) -> Any:
        """Review the risk: the level now, notes, the next review date — or close it."""
        fields_ = {k: v for k, v in body.items() if k != "version"}
        return risks.review_risk(current_user(), risk_id, fields_, body["version"])
