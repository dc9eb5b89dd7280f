"""The service catalogue (paid special services with prices), internal tasks on cases and the
maintenance schedules that open them (cases/service/catalogue.py, internal_tasks.py, maintenance.py)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.responses import if_match_version
from api.schemas import username_of
from cases.service import catalogue, internal_tasks, maintenance
from gateway.auth import current_user

blp = Blueprint("service_work", __name__, url_prefix="/api/v1",
                description="The catalogue of paid special services, internal tasks, maintenance schedules")


def _seen(body: dict[str, Any], what: str) -> int | None:
    return body.get("version") if body.get("version") is not None else if_match_version(what)


class CatalogueBodySchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,40}$", error=(
        "1 to 40 letters, digits, '_', '.' or '-'")))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000), allow_none=True)
    price = fields.Float(required=True, allow_nan=False,
                           validate=validate.Range(min=0, max=100_000_000), metadata={"description": "CNY"})
    unit = fields.String(load_default="each", validate=validate.OneOf(catalogue.UNITS))
    active = fields.Boolean(load_default=True)


class CataloguePatchSchema(Schema):
    version = fields.Integer(metadata={"description": "the entry's version (or If-Match)"})
    name_zh = fields.String(validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000), allow_none=True)
    price = fields.Float(allow_nan=False, validate=validate.Range(min=0, max=100_000_000))
    unit = fields.String(validate=validate.OneOf(catalogue.UNITS))
    active = fields.Boolean()


class CatalogueSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    description = fields.String(allow_none=True)
    price = fields.Function(lambda i: i.price_cents / 100, metadata={"description": "CNY"})
    unit = fields.String()
    active = fields.Boolean()
    version = fields.Integer()


class CatalogueListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "staff: also retired entries"})


@blp.route("/service-catalogue")
class CatalogueCollection(MethodView):
    @blp.arguments(CatalogueListArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, CatalogueSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """The paid special services with their prices (active ones; staff may ask for all)."""
        return catalogue.entries(current_user(), args["include_inactive"])

    @blp.arguments(CatalogueBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, CatalogueSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Add a special service to the catalogue (business managers)."""
        return catalogue.create(current_user(), body)


@blp.route("/service-catalogue/<int(max=2147483647):item_id>")
class CatalogueItem(MethodView):
    @blp.arguments(CataloguePatchSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, CatalogueSchema)  # type: ignore[untyped-decorator]
    def patch(self, body: dict[str, Any], item_id: int) -> Any:
        """Change an entry's names, price, unit or whether it is offered ("version" or If-Match)."""
        seen = _seen(body, "catalogue entry")
        body.pop("version", None)
        return catalogue.update(current_user(), item_id, body, seen)


class InternalTaskBodySchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=10000), allow_none=True)
    assignee = fields.String(validate=validate.Length(min=1, max=80), metadata={"description": "a staff user name"})
    due_on = fields.Date(allow_none=True)


class InternalTaskPatchSchema(Schema):
    version = fields.Integer(metadata={"description": "the task's version (or If-Match)"})
    assignee = fields.String(validate=validate.Length(max=80), allow_none=True)
    state = fields.String(validate=validate.OneOf(internal_tasks.STATES))
    minutes_spent = fields.Integer(allow_none=True, metadata={"description": "required to mark it done"})
    outcome = fields.String(validate=validate.Length(max=10000), allow_none=True)


class InternalTaskSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    case_number = fields.Function(lambda t: t.case.number if t.case else None)
    schedule_id = fields.Integer(allow_none=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    assignee = username_of("assignee")
    state = fields.String()
    due_on = fields.Date(allow_none=True)
    minutes_spent = fields.Integer(allow_none=True)
    outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()
    done_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class InternalTaskArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(internal_tasks.STATES))
    assignee = fields.String(validate=validate.Length(min=1, max=80), metadata={"description": "a user name, or me"})
    maintenance = fields.Boolean(load_default=False, metadata={"description": "only those maintenance schedules opened"})


@blp.route("/cases/<int(max=2147483647):case_id>/internal-tasks")
class CaseInternalTasks(MethodView):
    @blp.response(200, InternalTaskSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, case_id: int) -> Any:
        """The case's internal tasks (staff only: never shown to customers)."""
        return internal_tasks.of_case(current_user(), case_id)

    @blp.arguments(InternalTaskBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, InternalTaskSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], case_id: int) -> Any:
        """Record an internal task on the case (e.g. reproduce it in a test environment), optionally assigned."""
        return internal_tasks.create(current_user(), case_id, body)


@blp.route("/internal-tasks")
class InternalTaskCollection(MethodView):
    @blp.arguments(InternalTaskArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, page_schema(InternalTaskSchema, "InternalTaskPage"))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """Internal tasks, the earliest due first (state, assignee, maintenance filters)."""
        filters = {k: args.get(k) for k in ("state", "assignee", "maintenance")}
        return internal_tasks.listing(current_user(), filters, args["page"], args["per_page"])


@blp.route("/internal-tasks/<int(max=2147483647):task_id>")
class InternalTaskItem(MethodView):
    @blp.response(200, InternalTaskSchema)  # type: ignore[untyped-decorator]
    def get(self, task_id: int) -> Any:
        """An internal task."""
        return internal_tasks.get(current_user(), task_id)

    @blp.arguments(InternalTaskPatchSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, InternalTaskSchema)  # type: ignore[untyped-decorator]
    def patch(self, body: dict[str, Any], task_id: int) -> Any:
        """Reassign it, or mark it done with the minutes spent and the outcome ("version" or If-Match)."""
        seen = _seen(body, "internal task")
        body.pop("version", None)
        return internal_tasks.update(current_user(), task_id, body, seen)


class ScheduleBodySchema(Schema):
    installed_product_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2147483647))
    kind = fields.String(required=True, validate=validate.OneOf(maintenance.KINDS))
    interval_days = fields.Integer(required=True, metadata={"description": "1 to 732"})
    next_due = fields.Date(required=True, metadata={"description": "the first date (local) its task opens"})
    assignee = fields.String(validate=validate.Length(min=1, max=80))
    notes = fields.String(validate=validate.Length(max=5000), allow_none=True)


class SchedulePatchSchema(Schema):
    version = fields.Integer()
    kind = fields.String(validate=validate.OneOf(maintenance.KINDS))
    interval_days = fields.Integer()
    next_due = fields.Date()
    assignee = fields.String(validate=validate.Length(max=80), allow_none=True)
    notes = fields.String(validate=validate.Length(max=5000), allow_none=True)
    active = fields.Boolean()


class ScheduleSchema(Schema):
    id = fields.Integer()
    installed_product_id = fields.Integer()
    customer_id = fields.Function(lambda s: s.installation.customer_id)
    product = fields.Function(lambda s: f"{s.installation.product} {s.installation.product_version}")
    kind = fields.String()
    interval_days = fields.Integer()
    next_due = fields.Date()
    assignee = username_of("assignee")
    notes = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer()


class ScheduleListArgs(Schema):
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2147483647))


@blp.route("/maintenance-schedules")
class ScheduleCollection(MethodView):
    @blp.arguments(ScheduleListArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, ScheduleSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """Maintenance and backup-check schedules, the next due first."""
        return maintenance.schedules(current_user(), args.get("customer_id"))

    @blp.arguments(ScheduleBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, ScheduleSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Plan maintenance or a backup check of an installed product every interval_days from next_due."""
        return maintenance.create(current_user(), body)


@blp.route("/maintenance-schedules/<int(max=2147483647):schedule_id>")
class ScheduleItem(MethodView):
    @blp.arguments(SchedulePatchSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, ScheduleSchema)  # type: ignore[untyped-decorator]
    def patch(self, body: dict[str, Any], schedule_id: int) -> Any:
        """Change a schedule (its next date, interval, assignee) or stop it ("version" or If-Match)."""
        seen = _seen(body, "schedule")
        body.pop("version", None)
        return maintenance.update(current_user(), schedule_id, body, seen)
