"""The quarterly service review (docs/service.md): every section the parts of the service register, for
one customer or the whole service, as JSON or as a CSV file with the labels in the reader's language."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_babel import gettext
from marshmallow import RAISE, Schema, fields, validate

from api.parsing import Blueprint
from cases.service import review
from gateway.auth import current_user

blp = Blueprint("service_review", __name__, url_prefix="/api/v1",
                description="The quarterly service review: volumes, time promises, satisfaction and every "
                            "part of the service that registers a section")


class ReviewArgs(Schema):
    quarter = fields.String(required=True, validate=validate.Regexp(review.QUARTER, error="a quarter like 2026-Q4"),
                            metadata={"description": "the quarter, e.g. 2026-Q4 (days in the reporting time zone)"})
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2147483647), metadata={
        "description": "one customer's review; without it, the whole service"})


class FigureSchema(Schema):
    key = fields.String()
    label = fields.String(metadata={"description": "in the reader's language (Accept-Language)"})
    value = fields.Float(allow_none=True, metadata={"description": "null: nothing to count in the quarter"})
    unit = fields.String(metadata={"description": "one of " + ", ".join(review.UNITS)})
    target = fields.Float(allow_none=True, metadata={"description": "the service plan's target, if it names one"})
    higher_is_better = fields.Boolean()
    meets_target = fields.Boolean(allow_none=True)


class TableSchema(Schema):
    columns = fields.List(fields.Dict(keys=fields.String(), values=fields.String()),
                          metadata={"description": "each {key, label}"})
    rows = fields.List(fields.Dict(keys=fields.String(), values=fields.Raw()))


class SectionSchema(Schema):
    key = fields.String()
    title = fields.String()
    figures = fields.List(fields.Nested(FigureSchema))
    tables = fields.List(fields.Nested(TableSchema))


class ReviewSchema(Schema):
    quarter = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    timezone = fields.String()
    customer_id = fields.Integer(allow_none=True)
    computed_at = fields.DateTime()
    sections = fields.List(fields.Nested(SectionSchema))


def _review(args: dict[str, Any]) -> review.Review:
    return review.quarterly_review(current_user(), args["quarter"], args.get("customer_id"))


def _translated(result: review.Review) -> dict[str, Any]:
    return {
        "quarter": result.quarter, "from_": result.period.first, "to": result.period.last,
        "timezone": result.timezone, "computed_at": result.computed_at,
        "customer_id": result.customer.id if result.customer is not None else None,
        "sections": [{
            "key": part.key, "title": gettext(part.title),
            "figures": [{"key": f.key, "label": gettext(f.label), "value": f.value, "unit": f.unit,
                         "target": f.target, "higher_is_better": f.higher_is_better,
                         "meets_target": f.meets_target} for f in part.figures],
            "tables": [{"columns": [{"key": key, "label": gettext(label)} for key, label in table.columns],
                        "rows": list(table.rows)} for table in part.tables],
        } for part in result.sections],
    }


@blp.route("/service-review")
class ServiceReview(MethodView):
    @blp.arguments(ReviewArgs, location="query", unknown=RAISE)  # type: ignore[untyped-decorator]
    @blp.response(200, ReviewSchema)  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The review of a quarter: each section with its figures (value, target, met) and detail tables."""
        return _translated(_review(args))


@blp.route("/service-review.csv")
class ServiceReviewCsv(MethodView):
    @blp.arguments(ReviewArgs, location="query", unknown=RAISE)  # type: ignore[untyped-decorator]
    @blp.doc(responses={"200": {"description": "one row per figure: " + ", ".join(review.CSV_COLUMNS)
                                               + " (UTF-8 with a byte order mark)",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Response:
        """The same figures as a CSV file for spreadsheets."""
        result = _review(args)
        return Response(review.as_csv(result, gettext).encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{review.csv_filename(result)}"'})
