"""Repairs and visits on site, remote-assistance sessions and a case's service report
(cases/service/visits.py, remote.py, report.py)."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_babel import force_locale, gettext
from marshmallow import RAISE, Schema, fields, validate

from api.parsing import Blueprint
from api.responses import if_match_version
from api.schemas import username_of
from cases.service import remote, report, visits
from gateway.auth import current_user

blp = Blueprint("visits", __name__, url_prefix="/api/v1",
                description="On-site repairs and visits in appointment windows, remote sessions, the service report")


class VisitWindowSchema(Schema):
    window_start = fields.AwareDateTime(required=True, metadata={"description": "in the future"})
    window_end = fields.AwareDateTime(required=True, metadata={"description": "after window_start, at most 24 h"})


class VisitBookSchema(VisitWindowSchema):
    kind = fields.String(required=True, validate=validate.OneOf(visits.KINDS))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    technician = fields.String(validate=validate.Length(min=1, max=80), metadata={
        "description": "user name of the front-line staff member who goes"})
    catalogue_code = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "the special service the visit is charged as when out of warranty (required then)"})


class VisitProposeSchema(VisitWindowSchema):
    version = fields.Integer(metadata={"description": "the visit's version (or If-Match)"})
    note = fields.String(validate=validate.Length(max=2000))
    catalogue_code = fields.String(validate=validate.Length(min=1, max=40))


class VisitVersionSchema(Schema):
    version = fields.Integer(metadata={"description": "the visit's version (or If-Match)"})


class VisitCancelSchema(VisitVersionSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RepairLogBodySchema(Schema):
    arrived_at = fields.AwareDateTime(required=True)
    minutes = fields.Integer(required=True, metadata={"description": "time on site, 1 to 1440"})
    parts = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                        validate=validate.Length(max=50))
    result = fields.String(required=True, validate=validate.OneOf(visits.RESULTS))
    notes = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class RepairLogSchema(Schema):
    id = fields.Integer()
    arrived_at = fields.DateTime()
    minutes = fields.Integer()
    parts = fields.List(fields.String())
    result = fields.String()
    notes = fields.String()
    recorded_by = username_of("recorded_by")
    recorded_at = fields.DateTime()


class VisitSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    kind = fields.String()
    window_start = fields.DateTime()
    window_end = fields.DateTime()
    status = fields.String(metadata={"description": "proposed, counter_proposed, confirmed, done, cancelled"})
    proposed_by = fields.String(metadata={"description": "staff | customer: whose window it is"})
    purpose = fields.String()
    customer_note = fields.String(allow_none=True)
    technician = username_of("technician")
    in_warranty = fields.Boolean()
    contract = fields.Function(lambda v: v.contract.number if v.contract else None)
    catalogue_code = fields.Function(lambda v: v.catalogue_item.code if v.catalogue_item else None)
    charge = fields.Function(lambda v: v.charge_cents / 100, metadata={"description": "CNY; 0 in warranty"})
    reminder_sent_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    logs = fields.List(fields.Nested(RepairLogSchema))
    version = fields.Integer()


class RemoteSessionBodySchema(Schema):
    started_at = fields.AwareDateTime(required=True)
    ended_at = fields.AwareDateTime(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class RemoteSessionSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    staff = username_of("staff")
    started_at = fields.DateTime()
    ended_at = fields.DateTime()
    minutes = fields.Integer()
    summary = fields.String()


class ServiceReportLineSchema(Schema):
    at = fields.DateTime()
    kind = fields.String()
    what = fields.String()
    minutes = fields.Integer()
    who = fields.String(allow_none=True)
    parts = fields.List(fields.String())
    result = fields.String(allow_none=True)


class ServiceChargeSchema(Schema):
    what = fields.String()
    in_warranty = fields.Boolean()
    amount = fields.Float()


class ServiceReportSchema(Schema):
    case_number = fields.Function(lambda r: r.case.number)
    title = fields.Function(lambda r: r.case.title)
    reported = fields.Function(lambda r: r.case.description)
    reported_at = fields.Function(lambda r: r.case.created_at.isoformat())
    lines = fields.List(fields.Nested(ServiceReportLineSchema))
    minutes = fields.Function(lambda r: {"on_site": r.minutes[report.ON_SITE], "remote": r.minutes[report.REMOTE],
                                         "other": r.minutes[report.OTHER], "total": r.total_minutes})
    charges = fields.List(fields.Nested(ServiceChargeSchema))
    total_charge = fields.Float()
    solution = fields.Function(lambda r: r.case.solution)


class ServiceReportCsvArgs(Schema):
    lang = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")))


def _seen(body: dict[str, Any]) -> int | None:
    return body.get("version") if body.get("version") is not None else if_match_version("visit")


@blp.route("/cases/<int(max=2147483647):case_id>/visits")
class CaseVisits(MethodView):
    @blp.response(200, VisitSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, case_id: int) -> Any:
        """The case's visits (customers: their organisation's cases)."""
        return visits.visits_of(current_user(), case_id)

    @blp.arguments(VisitBookSchema)  # type: ignore[untyped-decorator]
    @blp.response(201, VisitSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], case_id: int) -> Any:
        """Book a repair or visit in a window the customer is asked to confirm; the warranty is checked
        on its day (in warranty: no charge; out: the catalogue price of ``catalogue_code``)."""
        return visits.book(current_user(), case_id, body)


@blp.route("/visits/<int(max=2147483647):visit_id>")
class VisitItem(MethodView):
    @blp.response(200, VisitSchema)  # type: ignore[untyped-decorator]
    def get(self, visit_id: int) -> Any:
        """A visit with its repair log."""
        return visits.get(current_user(), visit_id)


@blp.route("/visits/<int(max=2147483647):visit_id>/confirm")
class VisitConfirm(MethodView):
    @blp.arguments(VisitVersionSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, VisitSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], visit_id: int) -> Any:
        """Accept the window the other side proposed (staff may confirm for the customer)."""
        return visits.confirm(current_user(), visit_id, _seen(body))


@blp.route("/visits/<int(max=2147483647):visit_id>/propose")
class VisitPropose(MethodView):
    @blp.arguments(VisitProposeSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, VisitSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], visit_id: int) -> Any:
        """Answer with another window (the customer's counter-proposal, or staff's new proposal)."""
        return visits.propose(current_user(), visit_id, body, _seen(body))


@blp.route("/visits/<int(max=2147483647):visit_id>/cancel")
class VisitCancel(MethodView):
    @blp.arguments(VisitCancelSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, VisitSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], visit_id: int) -> Any:
        """Cancel a visit not yet done, with the reason."""
        return visits.cancel(current_user(), visit_id, body["reason"], _seen(body))


@blp.route("/visits/<int(max=2147483647):visit_id>/log")
class VisitLog(MethodView):
    @blp.arguments(RepairLogBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, RepairLogSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], visit_id: int) -> Any:
        """Record the repair log of a confirmed visit (arrival, time on site, parts, result): it is done."""
        return visits.record_log(current_user(), visit_id, body)


@blp.route("/cases/<int(max=2147483647):case_id>/remote-sessions")
class RemoteSessions(MethodView):
    @blp.response(200, RemoteSessionSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, case_id: int) -> Any:
        """The remote-assistance sessions on the case."""
        return remote.sessions_of(current_user(), case_id)

    @blp.arguments(RemoteSessionBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, RemoteSessionSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], case_id: int) -> Any:
        """Record a remote-assistance session that has ended: start, end, what was done."""
        return remote.record(current_user(), case_id, body)


@blp.route("/cases/<int(max=2147483647):case_id>/service-report")
class ServiceReport(MethodView):
    @blp.response(200, ServiceReportSchema)  # type: ignore[untyped-decorator]
    def get(self, case_id: int) -> Any:
        """The case's service report: reported, done, time spent, charges, the solution (customers:
        without internal tasks, whose time is summed as other work)."""
        return report.build(current_user(), case_id)


@blp.route("/cases/<int(max=2147483647):case_id>/service-report.csv")
class ServiceReportCsv(MethodView):
    @blp.arguments(ServiceReportCsvArgs, location="query", unknown=RAISE)  # type: ignore[untyped-decorator]
    @blp.doc(responses={"200": {"description": "the report's rows (UTF-8 with a byte order mark)",  # type: ignore[untyped-decorator]
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args: dict[str, Any], case_id: int) -> Any:
        """The service report as CSV, in Chinese (lang=zh) or English (lang=en)."""
        built = report.build(current_user(), case_id)
        with force_locale(args["lang"]):
            text = report.as_csv(built, gettext)
        return Response(text.encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{report.filename(built)}"'})
