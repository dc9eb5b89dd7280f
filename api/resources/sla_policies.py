"""The SLA policy: its versions, publishing a new one (admins), and which targets a case would get."""
from __future__ import annotations

from datetime import datetime, timezone

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.parsing import Blueprint
from api.responses import dumped
from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES, TIERS
from cases.process import calendar_edits
from cases.sla import calendars
from cases.sla import policies as sla_policies
from cases.sla.policy_input import CASE_KINDS
from gateway.auth import current_user
from gateway.inputs import MAX_ID

blp = Blueprint("sla_policies", __name__, url_prefix="/api/v1/sla-policy",
                description="SLA policy versions: targets per priority and customer tier")

_MINUTES = {"description": "business minutes on the rule's calendar"}


class RuleSchema(Schema):
    priority = fields.String(metadata={"description": f"{', '.join(PRIORITIES)} or * (default *)"})
    tier = fields.String(metadata={"description": f"{', '.join(TIERS)} or * (default *)"})
    case_kind = fields.String(metadata={
        "description": "support, complaint or * (default *): a complaint rule gives complaint cases "
                       "(complaint_handling.bpmn) their own targets: first_response = acknowledge, "
                       "resolution = resolve"})
    category = fields.String(metadata={
        "description": f"{', '.join(CATEGORIES)} or * (default *): a rule for one kind of problem, e.g. "
                       "hardware_repair: first response within 60 minutes on the 24x7 calendar"})
    channel = fields.String(metadata={"description": f"{', '.join(CHANNELS)} or * (default *)"})
    calendar = fields.String(allow_none=True, dump_default=None, metadata={
        "description": "null: the policy's calendar"})
    first_response = fields.Integer(strict=True, metadata=_MINUTES)
    next_update = fields.Integer(strict=True, allow_none=True, dump_default=None, metadata=_MINUTES)
    resolution = fields.Integer(strict=True, metadata=_MINUTES)
    off_hours = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True), allow_none=True,
                            dump_default=None, metadata={
                                "description": "minutes replacing the regular ones for a case opened outside the "
                                               "office calendar's working time, e.g. {\"first_response\": 60}"})


class PolicyBodySchema(Schema):
    calendar = fields.String(required=True, metadata={"description": "calendar of the rules that name none"})
    office_calendar = fields.String(allow_none=True, metadata={
        "description": "whose working time are office hours (for off_hours); null: no off-hours rule"})
    warning_percent = fields.Integer(strict=True, metadata={
        "description": "warn the owner at this share of a target (1-99, default 75)"})
    manager_after_minutes = fields.Integer(strict=True, metadata={
        "description": "escalate to the manager this long after a breach (default 120)"})
    comment = fields.String(allow_none=True)
    ladder = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": 'any number of rungs, each {"name", "at_percent" (1-100) or "after_breach_minutes", '
                       '"notify": case_owner, supervisor, manager or a role}; null: warning, breach, manager '
                       "(docs/sla.md)"})
    rules = fields.List(fields.Nested(RuleSchema), required=True, metadata={
        "description": "the most specific rule applies: exact priority and tier, then priority, then tier"})


class PolicyVersionSchema(Schema):
    version = fields.Integer(attribute="policy.version", metadata={"description": "0: the built-in policy"})
    active = fields.Boolean()
    builtin = fields.Boolean()
    calendar = fields.String(attribute="policy.calendar")
    office_calendar = fields.String(attribute="policy.office_calendar", allow_none=True)
    warning_percent = fields.Integer(attribute="policy.warning_percent")
    manager_after_minutes = fields.Integer(attribute="policy.manager_after_minutes")
    ladder = fields.List(fields.Dict(), attribute="policy.ladder", allow_none=True)
    comment = fields.String(attribute="policy.comment", allow_none=True)
    rules = fields.List(fields.Nested(RuleSchema), attribute="policy.rules")
    created_at = fields.DateTime(allow_none=True)
    created_by = fields.String(allow_none=True)


VERSION = PolicyVersionSchema()


class ExplainArgs(Schema):
    priority = fields.String(validate=validate.OneOf(PRIORITIES), metadata={
        "description": "left out: a case not classified yet"})
    tier = fields.String(validate=validate.OneOf(TIERS))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    case_kind = fields.String(validate=validate.OneOf(CASE_KINDS), metadata={"description": "default support"})
    opened_at = fields.AwareDateTime(metadata={"description": "default: now (encode '+' as %2B)"})
    version = fields.Integer(validate=validate.Range(min=0, max=MAX_ID), metadata={
        "description": "default: the active version"})

    @validates_schema
    def _check(self, data, **kwargs):
        if problems := calendars.instant_problems(**{k: data[k] for k in ("opened_at",) if k in data}):
            raise ValidationError({p["field"]: [p["message"]] for p in problems})


class TargetSchema(Schema):
    kind = fields.String()
    minutes = fields.Integer()
    calendar = fields.String()
    off_hours = fields.Boolean(metadata={"description": "the rule's off-hours value applies"})
    due_at = fields.DateTime(metadata={"description": "UTC, if the clock ran from opened_at without a pause"})
    due_at_local = fields.DateTime()


class ExplanationSchema(Schema):
    version = fields.Integer()
    priority = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    office_calendar = fields.String(allow_none=True)
    office_hours = fields.Boolean(allow_none=True, metadata={
        "description": "opened_at lies in the office calendar's working time (null: no office calendar)"})
    category = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    case_kind = fields.String()
    rule_index = fields.Integer(allow_none=True)
    rule = fields.Nested(RuleSchema, allow_none=True)
    matched = fields.List(fields.Integer(), metadata={
        "description": "every rule the case meets, the most specific (the one applied) first"})
    why = fields.String(metadata={"description": "which rule applied and why, in words"})
    targets = fields.List(fields.Nested(TargetSchema))


@blp.route("")
class ActivePolicy(MethodView):
    @blp.response(200, PolicyVersionSchema)
    def get(self):
        """The active version: the newest published one, else the built-in one (version 0)."""
        return sla_policies.read_active(current_user())


@blp.route("/versions")
class PolicyVersions(MethodView):
    @blp.response(200, PolicyVersionSchema(many=True))
    def get(self):
        """Every version, the newest (active) first; the built-in version 0 last."""
        return sla_policies.list_versions(current_user())

    @blp.arguments(PolicyBodySchema)
    @blp.response(201, PolicyVersionSchema)
    def post(self, body):
        """Publish a new version; it applies to cases opened from now on. Every priority x tier (and a case
        without a priority yet) must meet a rule; calendars must exist."""
        return dumped(VERSION, sla_policies.publish(current_user(), body), 201)


@blp.route("/versions/<int(max=2147483647):version_id>")
class PolicyVersion(MethodView):
    @blp.response(200, PolicyVersionSchema)
    def get(self, version_id):
        """One version (0: the built-in one)."""
        return sla_policies.read_version(current_user(), version_id)


@blp.route("/targets")
class PolicyTargets(MethodView):
    @blp.arguments(ExplainArgs, location="query")
    @blp.response(200, ExplanationSchema)
    def get(self, args):
        """Which rule a case with this priority and tier, opened at 'opened_at', meets, and its targets."""
        opened_at = args.get("opened_at") or datetime.now(timezone.utc)
        return sla_policies.explain(current_user(), args.get("priority"), args.get("tier"), opened_at,
                                    args.get("version"), args.get("category"), args.get("channel"),
                                    args.get("case_kind", "support"))


class ReapplyBodySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReappliedSchema(Schema):
    cases = fields.Integer(metadata={"description": "open cases whose SLA instants moved"})
    targets = fields.Integer(metadata={"description": "targets that moved"})


@blp.route("/reapply")
class Reapply(MethodView):
    @blp.arguments(ReapplyBodySchema)
    @blp.response(200, ReappliedSchema)
    def post(self, body):
        """Re-apply the active version to every running or paused target of every open case: the business
        time used so far is kept (counted on the calendar the target had), the rule's minutes and calendar apply
        from now; each case that moved gets an sla_recomputed event with old and new instants (docs/sla.md)."""
        return calendar_edits.reapply_policy(current_user(), body["reason"])
