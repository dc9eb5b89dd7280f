"""Major incidents (cases/service/major_incidents.py): declare one from a case, link the cases it
affects, name its team, post updates to the affected customers, resolve every linked case with its
solution. Not the process errors of an instance (``/api/v1/instances``)."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import INCLUDE, Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.responses import Overlay, dumped, if_match_version
from api.schemas import username_of
from cases.core.models import PRIORITIES
from cases.core.paging import Page
from cases.service import major_incidents
from cases.service.major_incidents import RESOLVED
from cases.service.models import MajorIncidentUpdate
from gateway.auth import current_user

blp = Blueprint("major_incidents", __name__, url_prefix="/api/v1/major-incidents",
                description="Major incidents: one fault affecting many cases, a team, updates to the "
                            "customers, one resolution")

ITEM = "/<int(max=2147483647):incident_id>"
CASE_ID = fields.Integer(validate=validate.Range(min=1, max=2147483647))


class MIListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("open", RESOLVED)))


class MIDeclareSchema(Schema):
    case_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2147483647), metadata={
        "description": "the case the incident is declared from (linked first)"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    priority = fields.String(validate=validate.OneOf(PRIORITIES), metadata={
        "description": "default: the case's priority, else urgent"})
    team = fields.List(fields.String(validate=validate.Length(min=1, max=80)), validate=validate.Length(max=50),
                       load_default=list, metadata={"description": "user names; the declarer leads the team"})
    link_cases = fields.List(CASE_ID, validate=validate.Length(max=500), load_default=list,
                             metadata={"description": "more cases it affects"})


class MILinkSchema(Schema):
    case_ids = fields.List(CASE_ID, required=True, validate=validate.Length(min=1, max=500))
    version = fields.Integer(metadata={"description": "the incident version seen (optional; 409 when stale)"})


class MITeamSchema(Schema):
    team = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                       validate=validate.Length(min=1, max=50))
    version = fields.Integer(metadata={"description": "the incident version seen (or If-Match)"})


class MIUpdateBodySchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    public = fields.Boolean(load_default=True, metadata={
        "description": "true: every affected customer hears of it once, on their channel"})


class MIResolveSchema(Schema):
    """The fields of the process's resolve form (forms/resolve_major_incident.schema.json): the
    solution and cause, and any field a process owner added to the form (checked against it)."""

    class Meta:
        unknown = INCLUDE

    solution = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    cause = fields.String(validate=validate.Length(min=1, max=10000))
    version = fields.Integer(metadata={"description": "the incident version seen (or If-Match)"})


class MIUpdateSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    text = fields.String()
    public = fields.Boolean()


class MIStaffUpdateSchema(MIUpdateSchema):
    author = username_of("author")
    reached = fields.List(fields.Dict(), metadata={"description": "[{customer, case_number, via, to}]"})


class MILinkedCaseSchema(Schema):
    case_id = fields.Integer()
    number = fields.Function(lambda row: row.case.number)
    title = fields.Function(lambda row: row.case.title)
    customer = fields.Function(lambda row: row.case.customer.code)
    stage = fields.Function(lambda row: row.case.stage)
    status = fields.Function(lambda row: row.case.status)
    linked_at = fields.DateTime()
    outcome = fields.String(allow_none=True, metadata={
        "description": "after the resolution: resolved | already_resolved | not_resolvable | failed"})
    outcome_detail = fields.String(allow_none=True)


class MICustomerLinkedCaseSchema(Schema):
    case_id = fields.Integer()
    number = fields.Function(lambda row: row.case.number)
    title = fields.Function(lambda row: row.case.title)
    status = fields.Function(lambda row: row.case.status)


class MIIncidentSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    priority = fields.String()
    status = fields.String()
    declared_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class MICustomerIncidentSchema(MIIncidentSummarySchema):
    """What a customer sees: the incident, their own linked cases, the public updates."""

    solution = fields.Function(lambda v: v.incident.solution if v.incident.resolved_at else None)
    cases = fields.List(fields.Nested(MICustomerLinkedCaseSchema))
    updates = fields.List(fields.Nested(MIUpdateSchema))


class MIIncidentSchema(MIIncidentSummarySchema):
    description = fields.String()
    origin_case_id = fields.Integer()
    declared_by = username_of("declared_by")
    cause = fields.String(allow_none=True)
    solution = fields.String(allow_none=True)
    resolved_by = username_of("resolved_by")
    sla = fields.List(fields.Dict(), metadata={
        "description": "its own targets: [{kind, minutes, calendar, due_at, ladder, met_at, breached}]"})
    escalations = fields.List(fields.Dict(), metadata={"description": "rungs reached: [{target, rung, kind, at, notified}]"})
    version = fields.Integer()
    process_case_id = fields.Integer(allow_none=True, metadata={
        "description": "the internal case (kind major_incident) running its process (processes/major_incident.bpmn)"})
    work_task_id = fields.String(allow_none=True, metadata={
        "description": "its open task \"Work the incident\" (resolving the incident completes it)"})
    team = fields.List(fields.String())
    cases = fields.List(fields.Nested(MILinkedCaseSchema))
    updates = fields.List(fields.Nested(MIStaffUpdateSchema))


class MICaseResultSchema(Schema):
    case_id = fields.Integer()
    number = fields.String(allow_none=True)
    outcome = fields.String(metadata={"description": "resolved | already_resolved | not_resolvable | failed"})
    detail = fields.String(allow_none=True)
    stage = fields.String(allow_none=True)


class MIResolutionSchema(Schema):
    incident = fields.Nested(MIIncidentSchema)
    results = fields.List(fields.Nested(MICaseResultSchema))


def _flat(view: major_incidents.IncidentView) -> Overlay:
    return Overlay(view.incident, incident=view.incident, team=[u.username for u in view.team], cases=view.cases,
                   updates=view.updates, work_task_id=view.work_task.id if view.work_task is not None else None)


def _answer(view: major_incidents.IncidentView, status: int = 200) -> Response:
    schema = MIIncidentSchema() if view.internal else MICustomerIncidentSchema()
    headers = {"ETag": f'"{view.incident.version}"'} if view.internal else {}
    if status == 201:
        headers["Location"] = f"/api/v1/major-incidents/{view.incident.id}"
    return dumped(schema, _flat(view), status, headers=headers)


def _version(body: dict[str, Any]) -> int | None:
    seen = if_match_version("major incident")
    return seen if seen is not None else body.get("version")


@blp.route("")
class IncidentCollection(MethodView):
    @blp.arguments(MIListArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, page_schema(MIIncidentSummarySchema, "MajorIncidentPage"))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Page:
        """Major incidents, the newest first (customers: those affecting their cases)."""
        return major_incidents.list_incidents(current_user(), args.get("status"), args["page"], args["per_page"])

    @blp.arguments(MIDeclareSchema)  # type: ignore[untyped-decorator]
    @blp.response(201, MIIncidentSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Response:
        """Declare a major incident from a case, with its team and the other cases it affects; its own
        SLA targets start (the policy's rules for the case kind ``major_incident``)."""
        user = current_user()
        incident = major_incidents.declare(user, body.pop("case_id"), body)
        return _answer(major_incidents.view(user, incident.id), 201)


@blp.route(ITEM)
class IncidentItem(MethodView):
    @blp.response(200, MIIncidentSchema)  # type: ignore[untyped-decorator]
    def get(self, incident_id: int) -> Response:
        """A major incident; ETag: its version. Customers: only when it affects their cases, with those
        cases and the public updates."""
        return _answer(major_incidents.view(current_user(), incident_id))


@blp.route(f"{ITEM}/cases")
class IncidentCases(MethodView):
    @blp.arguments(MILinkSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, MIIncidentSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], incident_id: int) -> Response:
        """Link more cases to the open incident (the team works them from now on)."""
        user = current_user()
        major_incidents.link(user, incident_id, body["case_ids"], _version(body))
        return _answer(major_incidents.view(user, incident_id))


@blp.route(f"{ITEM}/team")
class IncidentTeam(MethodView):
    @blp.arguments(MITeamSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, MIIncidentSchema)  # type: ignore[untyped-decorator]
    def put(self, body: dict[str, Any], incident_id: int) -> Response:
        """The incident's team (user names): they work every staff task of the linked cases.
        If-Match or "version" (428 without, 409 stale_version)."""
        user = current_user()
        major_incidents.set_team(user, incident_id, body["team"], _version(body))
        return _answer(major_incidents.view(user, incident_id))


@blp.route(f"{ITEM}/updates")
class IncidentUpdates(MethodView):
    @blp.arguments(MIUpdateBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, MIStaffUpdateSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], incident_id: int) -> MajorIncidentUpdate:
        """Post an update; a public one reaches every affected customer once, on their channel."""
        return major_incidents.post_update(current_user(), incident_id, body["text"], body["public"])


@blp.route(f"{ITEM}/resolve")
class IncidentResolve(MethodView):
    @blp.arguments(MIResolveSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, MIResolutionSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], incident_id: int) -> dict[str, Any]:
        """Resolve the incident and every linked case at its resolve step with the solution, one
        transaction per case; each case's result is reported (a case elsewhere is not forced). Again
        on a resolved incident: retries the cases not resolved. If-Match or "version"."""
        user = current_user()
        done = major_incidents.resolve(user, incident_id, body, _version(body))
        return {"incident": _flat(major_incidents.view(user, incident_id)), "results": done.results}
