"""Quality audits (cases/service/quality.py): draw a period's reproducible sample of closed cases,
audit each against the checklist."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.parsing import Blueprint
from api.responses import dumped
from api.schemas import username_of
from cases.core.errors import ValidationFailed
from cases.kpis.figures import Period, period_problems
from cases.service import quality
from gateway.auth import current_user
from gateway.inputs import id_field

blp = Blueprint("quality", __name__, url_prefix="/api/v1/quality",
                description="Quality audits of sampled closed cases")

ID = "int(max=2147483647)"


class _QualityPeriodSchema(Schema):
    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "from_" in data and "to" in data:
            for problem in period_problems(data["from_"], data["to"]):
                raise ValidationError(problem["message"], problem["field"])


class QualitySampleBodySchema(_QualityPeriodSchema):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    share = fields.Float(load_default=None, validate=validate.Range(0, 1, min_inclusive=False), metadata={
        "description": "the share of the period's closed cases to audit (default: QUALITY_AUDIT_SHARE, 0.1)"})


class QualityAuditListArgs(Schema):
    status = fields.String(validate=validate.OneOf((quality.PENDING, quality.DONE)))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class QualityAuditBodySchema(Schema):
    version = fields.Integer(required=True, metadata={"description": "the audit's version you saw"})
    checklist = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True, metadata={
        "description": "every checklist item -> true (met) or false"})
    notes = fields.String(validate=validate.Length(max=10000), load_default=None)


class QualityAuditSchema(Schema):
    id = fields.Integer()
    case_id = id_field()
    case_number = fields.String(attribute="case.number")
    case_title = fields.String(attribute="case.title")
    period_from = fields.Date(attribute="period_first")
    period_to = fields.Date(attribute="period_last")
    drawn_at = fields.DateTime()
    status = fields.String()
    auditor = username_of("auditor")
    checklist = fields.Dict(allow_none=True)
    score = fields.Integer(allow_none=True, metadata={"description": "the share of checklist items met, 0-100"})
    notes = fields.String(allow_none=True)
    audited_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class QualityChecklistItemSchema(Schema):
    key = fields.String()
    label = fields.String()


@blp.route("/checklist")
class Checklist(MethodView):
    @blp.response(200, QualityChecklistItemSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self) -> Any:
        """The audit checklist's items (English labels)."""
        quality.require_monitor(current_user())
        return [{"key": key, "label": label} for key, label in quality.CHECKLIST.items()]


@blp.route("/samples")
class Samples(MethodView):
    @blp.arguments(QualitySampleBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, QualityAuditSchema(many=True))  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Draw the period's sample of closed support cases (random, reproducible, never twice): the audits added."""
        return quality.draw(current_user(), Period(body["from_"], body["to"]), body["share"])


@blp.route("/audits")
class Audits(MethodView):
    @blp.arguments(QualityAuditListArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, QualityAuditSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """The audits, waiting ones first (optionally of one drawn period)."""
        period = None
        if args.get("from_") or args.get("to"):
            if not (args.get("from_") and args.get("to")):
                raise ValidationFailed("both from and to", [{"field": "from" if args.get("to") else "to",
                                                             "message": "both from and to, or neither"}])
            period = Period(args["from_"], args["to"])
        return quality.audits(current_user(), args.get("status"), period)


@blp.route(f"/audits/<{ID}:audit_id>")
class AuditItem(MethodView):
    @blp.response(200, QualityAuditSchema)  # type: ignore[untyped-decorator]
    def get(self, audit_id: int) -> Any:
        """One audit; ETag: its version."""
        row = quality.get(current_user(), audit_id)
        return dumped(QualityAuditSchema(), row, headers={"ETag": f'"{row.version}"'})

    @blp.arguments(QualityAuditBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(200, QualityAuditSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], audit_id: int) -> Any:
        """Record the audit: every checklist item met or not, and notes; the score follows."""
        return quality.record(current_user(), audit_id, body["version"], body["checklist"], body["notes"])

