"""What if: replay a period's cases under a proposed SLA policy or calendar (docs/what-if.md)."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.parsing import Blueprint
from api.responses import dumped
from cases.kpis.figures import period_problems
from cases.whatif import runs
from gateway.auth import current_user
from gateway.inputs import MAX_ID, id_field

blp = Blueprint("whatif", __name__, url_prefix="/api/v1/whatif",
                description="What if: the service's own history replayed under a proposal, beside what happened")

_PROPOSAL = {"description": "{\"policy\": draft SLA policy | {\"version\": n} | null, \"calendars\": "
                            "{name: draft calendar}, \"classification\": {\"dmn\": text}, \"assignment\": "
                            "{\"strategies\": {step or lane: strategy}, \"rosters\": {username: roster | null}, "
                            "\"skills\": {username: skills}, \"dedicated_consultants\": {customer: username | "
                            "null}}}; {} is the control (docs/what-if.md)"}


class WhatifPeriodSchema(Schema):
    first = fields.Date(required=True, data_key="from", metadata={"description": "first day (Asia/Shanghai)"})
    last = fields.Date(required=True, data_key="to", metadata={"description": "last day, included"})

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "first" in data and "last" in data and (problems := period_problems(data["first"], data["last"])):
            raise ValidationError({p["field"]: [p["message"]] for p in problems})


class WhatifReplayBodySchema(WhatifPeriodSchema):
    proposal = fields.Dict(load_default=dict, metadata=_PROPOSAL)


class WhatifSaveBodySchema(WhatifReplayBodySchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class WhatifExplainBodySchema(Schema):
    case = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "the case number, e.g. CF-2026-000042"})
    proposal = fields.Dict(load_default=dict, metadata=_PROPOSAL)


class WhatifCompareArgs(Schema):
    first = id_field(strict=False, required=True)
    second = id_field(strict=False, required=True)


class WhatifResultSchema(Schema):
    from_ = fields.String(attribute="from", data_key="from")
    to = fields.String()
    timezone = fields.String()
    computed_at = fields.String(metadata={"description": "running targets are judged at this instant"})
    proposal = fields.Dict(metadata={"description": "the proposal as checked (normalised)"})
    cases = fields.Integer(metadata={"description": "support cases opened in the period"})
    control = fields.Dict(metadata={
        "description": "equal: the replay without change gives back every stored outcome and the KPI report's "
                       "figures (kpis.report / actual / control); mismatches otherwise, per case"})
    totals = fields.Dict(metadata={"description": "actual, control, proposal: cases, first_response_within_sla, "
                                                  "resolution_within_sla, first_response_average_seconds, "
                                                  "breaches, rungs {warning, breach, manager}"})
    groups = fields.Dict(metadata={"description": "tier (at opening), priority, category, team, agent: "
                                                  "[{key, actual, control, proposal}]"})
    changed = fields.Dict(metadata={"description": "cases and targets whose outcome differs; the first 500 listed"})
    load_ = fields.Dict(attribute="load", data_key="load", metadata={"description": "tasks received per role: by_day {role: {date: n}}, "
                                                "by_hour {role: [24 counts]}"})
    tier_sources = fields.Dict(metadata={"description": "where each case's tier at opening came from: case, "
                                                        "contract, record"})
    routing = fields.Dict(allow_none=True, metadata={
        "description": "a draft classification table replayed over the cases' stored texts (null without one): "
                       "cases, unclassified, control {equal, differs, examples}, changed {cases, category, priority, "
                       "branch}, agreement with staff's decisions, category_moves, priority_moves, rules, examples, "
                       "failed (docs/what-if.md)"})
    assignment = fields.Dict(allow_none=True, metadata={
        "description": "an assignment proposal replayed over the period's tasks (null without one): tasks, "
                       "replayed, by_hand, control {equal, checked, mismatched, reasons, mismatches}, moved {tasks, "
                       "cases, tasks_from_actual, examples}, nobody_on_duty {control, proposal}, people and roles "
                       "[{key, actual, control, proposal}], by_day, by_hour, open_by_hour (docs/what-if.md)"})
    limits = fields.List(fields.Dict(), metadata={"description": "what was not replayed, and why: {code, count, "
                                                                "message}"})


class WhatifRunSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    from_ = fields.Date(attribute="first", data_key="from")
    to = fields.Date(attribute="last")
    cases = fields.Integer()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    proposal = fields.Dict()


class WhatifRunSchema(WhatifRunSummarySchema):
    result = fields.Nested(WhatifResultSchema)


class WhatifExplanationSchema(Schema):
    case = fields.String()
    opened_at = fields.String()
    priority = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    tier = fields.String(metadata={"description": "the tier at opening"})
    tier_source = fields.String(metadata={"description": "case (kept at opening), contract (in force that day) "
                                                         "or record (today's tier)"})
    agent = fields.String(allow_none=True)
    team = fields.String(allow_none=True)
    computed_at = fields.String()
    pauses = fields.List(fields.Dict())
    targets = fields.List(fields.Dict(), metadata={
        "description": "{kind, cycle, before, after, changed, reasons [{code, ...}], text}"})
    changed = fields.Boolean()


class WhatifComparisonSchema(Schema):
    first = fields.Dict()
    second = fields.Dict()
    same_period = fields.Boolean()
    figures = fields.List(fields.Dict(), metadata={"description": "{figure, first, second, difference}"})


RUN = WhatifRunSchema()


@blp.route("/replays")
class Replays(MethodView):
    @blp.arguments(WhatifReplayBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(200, WhatifResultSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Replay the period under the proposal (read-only; nothing is saved)."""
        return runs.replay_period(current_user(), body["first"], body["last"], body["proposal"])


@blp.route("/explanations")
class Explanations(MethodView):
    @blp.arguments(WhatifExplainBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(200, WhatifExplanationSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """One case under the control and the proposal: per target the outcome and the reasons it differs."""
        return runs.explain(current_user(), body["case"], body["proposal"])


@blp.route("/runs")
class Runs(MethodView):
    @blp.response(200, WhatifRunSummarySchema(many=True))  # type: ignore[untyped-decorator]
    def get(self) -> Any:
        """The saved replays, newest first."""
        return runs.list_runs(current_user())

    @blp.arguments(WhatifSaveBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, WhatifRunSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Replay and keep the inputs and the result."""
        run = runs.save(current_user(), body["name"], body["first"], body["last"], body["proposal"])
        return dumped(RUN, run, 201)


@blp.route(f"/runs/<int(max={MAX_ID}):run_id>")
class RunItem(MethodView):
    @blp.response(200, WhatifRunSchema)  # type: ignore[untyped-decorator]
    def get(self, run_id: int) -> Any:
        """A saved replay with its result."""
        return runs.read_run(current_user(), run_id)

    @blp.response(204)  # type: ignore[untyped-decorator]
    def delete(self, run_id: int) -> None:
        """Delete a saved replay."""
        runs.delete_run(current_user(), run_id)


@blp.route(f"/runs/<int(max={MAX_ID}):run_id>/csv")
class RunCsv(MethodView):
    @blp.doc(responses={"200": {"description": "grouping, key, figure, actual, control, proposal",  # type: ignore[untyped-decorator]
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, run_id: int) -> Any:
        """A saved replay's figures as CSV (UTF-8 with a byte order mark)."""
        run = runs.read_run(current_user(), run_id)
        name = runs.csv_filename(run.first.isoformat(), run.last.isoformat())
        return Response(runs.as_csv(run.result or {}).encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/comparison")
class Comparison(MethodView):
    @blp.arguments(WhatifCompareArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, WhatifComparisonSchema)  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """Two saved replays side by side: their inputs and the proposal's figures."""
        return runs.compare(current_user(), args["first"], args["second"])
