"""Service KPIs over a period, as JSON or as a CSV file for spreadsheets (docs/kpis.md)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from api.parsing import Blueprint
from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES, TIERS
from cases.kpis import csv_export as kpi_csv
from cases.kpis import report as kpis
from gateway.auth import current_user

blp = Blueprint("kpis", __name__, url_prefix="/api/v1",
                description="Service KPIs: response and resolution times, SLA shares, satisfaction, backlog")


class KpiArgs(Schema):
    first = fields.Date(required=True, data_key="from", metadata={
        "description": f"first day of the period (YYYY-MM-DD, {kpis.TIMEZONE})"})
    last = fields.Date(required=True, data_key="to", metadata={
        "description": f"last day, included; at most {kpis.MAX_YEARS} years after 'from'"})
    group_by = fields.String(load_default="none", validate=validate.OneOf(kpis.GROUPINGS), metadata={
        "description": "one row per value of: the case's category, channel, priority, customer tier, the owner's "
                       "team or the owner (agent); none: totals only"})
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2147483647), metadata={
        "description": "the customer's cases only"})
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    tier = fields.String(validate=validate.OneOf(TIERS))
    team = fields.String(validate=validate.Length(min=1, max=60), metadata={"description": "the owner's team"})
    agent = fields.String(validate=validate.Length(min=1, max=80), metadata={"description": "the owner's user name"})

    @validates_schema
    def _period(self, data, **kwargs):
        if "first" in data and "last" in data:
            problems = kpis.period_problems(data["first"], data["last"])
            if problems:
                raise ValidationError({p["field"]: [p["message"]] for p in problems})


class RatioSchema(Schema):
    value = fields.Float(allow_none=True, metadata={"description": "numerator / denominator (null: nothing to count)"})
    numerator = fields.Integer()
    denominator = fields.Integer()
    target = fields.Float(allow_none=True, metadata={"description": "the domain's target share, if it names one"})
    met = fields.Boolean(allow_none=True, metadata={"description": "value ≥ target (null: no target or no data)"})


class StatisticSchema(Schema):
    value = fields.Float(allow_none=True)
    count = fields.Integer(metadata={"description": "how many values it is taken over"})
    target = fields.Float(allow_none=True)
    met = fields.Boolean(allow_none=True)


class VolumeSchema(Schema):
    value = fields.Integer()
    target = fields.Float(allow_none=True, metadata={"description": "feedback: 100 a month, pro rata"})
    met = fields.Boolean(allow_none=True)


class BacklogSchema(Schema):
    value = fields.Integer(metadata={"description": "open cases at the end of the period"})
    buckets = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "by age: " + ", ".join(name for name, _ in kpis.BUCKETS)})
    target = fields.Float(allow_none=True)
    met = fields.Boolean(allow_none=True)


class KpisSchema(Schema):
    cases = fields.Nested(VolumeSchema, metadata={"description": "cases opened in the period"})
    first_response_average_seconds = fields.Nested(StatisticSchema)
    first_response_p90_seconds = fields.Nested(StatisticSchema)
    first_response_within_sla = fields.Nested(RatioSchema)
    resolution_within_sla = fields.Nested(RatioSchema)
    resolution_rate = fields.Nested(RatioSchema)
    reopen_rate = fields.Nested(RatioSchema)
    self_service = fields.Nested(RatioSchema, metadata={
        "description": "cases closed because a knowledge-base article answered them, of all cases"})
    csat = fields.Nested(RatioSchema)
    satisfaction_average = fields.Nested(StatisticSchema)
    feedback_volume = fields.Nested(VolumeSchema)
    backlog = fields.Nested(BacklogSchema)
    complaints = fields.Nested(VolumeSchema, metadata={
        "description": "complaints (complaint_handling.bpmn, cases of their own) opened in the period"})
    complaint_acknowledged_within_sla = fields.Nested(RatioSchema, metadata={
        "description": "those acknowledged within their own target, of those whose outcome is known"})
    complaint_resolved_within_sla = fields.Nested(RatioSchema, metadata={
        "description": "those resolved within their own target (2 working days built in), of those decided"})


class GroupSchema(Schema):
    key = fields.String(allow_none=True, metadata={"description": "null: not set (no category or owner yet, "
                                                                  "an owner without a team)"})
    kpis = fields.Nested(KpisSchema)


class ReportSchema(Schema):
    from_ = fields.Date(attribute="first", data_key="from")
    to = fields.Date(attribute="last")
    timezone = fields.String()
    group_by = fields.String()
    filters = fields.Dict(keys=fields.String(), values=fields.Raw())
    computed_at = fields.DateTime(metadata={"description": "rates use what was known at this instant"})
    backlog_at = fields.DateTime(metadata={"description": "the backlog's instant: the period's end, or now"})
    totals = fields.Nested(KpisSchema)
    groups = fields.List(fields.Nested(GroupSchema))


def _report(args: dict) -> kpis.Report:
    filters = {name: args[name] for name in kpis.FILTERS if name in args}
    return kpis.report(current_user(), args["first"], args["last"], args["group_by"], filters)


@blp.route("/kpis")
class Kpis(MethodView):
    @blp.arguments(KpiArgs, location="query", unknown=RAISE)
    @blp.response(200, ReportSchema)
    def get(self, args):
        """The KPIs of the period: in total and per group, each with its target and whether it is met."""
        return _report(args)


@blp.route("/kpis.csv")
class KpisCsv(MethodView):
    @blp.arguments(KpiArgs, location="query", unknown=RAISE)
    @blp.doc(responses={"200": {"description": "one row per group, then the totals (UTF-8 with a byte order mark)",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args):
        """The same KPIs as a CSV file for spreadsheets (columns: docs/kpis.md)."""
        report = _report(args)
        name = kpi_csv.filename(report)
        return Response(kpi_csv.as_csv(report).encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
