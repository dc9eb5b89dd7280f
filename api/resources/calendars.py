"""Business calendars: list, read, create or replace, delete (admins); preview and arithmetic (staff)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validates_schema

from api.parsing import Blueprint
from api.responses import Overlay, dumped, if_match_version
from cases.process import calendar_edits
from cases.sla import calendars, policies
from gateway.auth import current_user

blp = Blueprint("calendars", __name__, url_prefix="/api/v1/calendars",
                description="Business calendars: working hours, holidays, make-up working days")

_INTERVAL = fields.List(fields.String(), metadata={
    "description": 'a working interval ["HH:MM", "HH:MM"] in local time; "24:00" ends at midnight'})
_DATES = {"description": "dates YYYY-MM-DD"}


class CalendarBodySchema(Schema):
    """What an administrator sends. PUT: the whole calendar (every field but description); PATCH:
    the fields to change, the others stay as they are."""

    description = fields.String(allow_none=True, metadata={"description": "at most 500 characters"})
    timezone = fields.String(metadata={"description": "IANA time zone such as Asia/Shanghai (host-dependent names "
                                                  "such as localtime or Factory are refused)"})
    hours = fields.List(fields.List(_INTERVAL), metadata={
        "description": "seven lists of intervals, Monday to Sunday; "
                       'a lunch break: [["09:00", "12:00"], ["13:00", "17:00"]]; all day: [["00:00", "24:00"]]'})
    holiday_country = fields.String(allow_none=True, metadata={
        "description": "public holidays and make-up working days from the holidays package (e.g. CN); "
                       "null: none"})
    extra_holidays = fields.List(fields.String(), metadata=_DATES)
    removed_holidays = fields.List(fields.String(), metadata={"description": "official holidays worked here"})
    extra_workdays = fields.List(fields.String(), metadata={"description": "make-up working days of your own"})
    makeup_hours = fields.List(_INTERVAL, allow_none=True, metadata={
        "description": "working hours on make-up working days (null: Monday's)"})


class CalendarSchema(CalendarBodySchema):
    name = fields.String()
    builtin = fields.Boolean(metadata={"description": "one of the built-in calendars (default, 24x7)"})
    overridden = fields.Boolean(metadata={"description": "a built-in calendar replaced by a stored one"})
    version = fields.Integer(metadata={"description": "send it as If-Match to replace; 0: not stored"})
    created_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


CALENDAR = CalendarSchema()


class MovedSchema(Schema):
    cases = fields.Integer(metadata={"description": "open cases whose SLA instants moved"})
    targets = fields.Integer(metadata={"description": "running targets whose instants moved"})


class EditedCalendarSchema(CalendarSchema):
    moved = fields.Nested(MovedSchema, metadata={
        "description": "what the edit did to the running SLA clocks on the calendar (docs/sla.md)"})


EDITED = EditedCalendarSchema()


class DaysArgs(Schema):
    first = fields.Date(required=True, data_key="from")
    last = fields.Date(required=True, data_key="to", metadata={
        "description": f"included; at most {calendars.MAX_PREVIEW_DAYS} days"})

    @validates_schema
    def _range(self, data, **kwargs):
        _raise(calendars.day_range_problems(data["first"], data["last"]))


class IntervalSchema(Schema):
    start = fields.DateTime(metadata={"description": "local time"})
    end = fields.DateTime(metadata={"description": "local time"})
    start_utc = fields.DateTime()
    end_utc = fields.DateTime()


class DaySchema(Schema):
    date = fields.Date()
    weekday = fields.String()
    kind = fields.String(metadata={"description": "workday, weekend, holiday, makeup_workday"})
    holiday_name = fields.String(allow_none=True)
    working_minutes = fields.Integer()
    intervals = fields.List(fields.Nested(IntervalSchema))


class PreviewSchema(Schema):
    calendar = fields.String()
    timezone = fields.String()
    days = fields.List(fields.Nested(DaySchema))


_INSTANT = {"description": "ISO 8601 with an offset, e.g. 2026-10-08T16:30:00+08:00 (encode '+' as %2B)"}


class AddArgs(Schema):
    start = fields.AwareDateTime(required=True, metadata=_INSTANT)
    minutes = fields.Integer(required=True, metadata={"description": f"0 to {calendars.MAX_MINUTES}"})

    @validates_schema
    def _check(self, data, **kwargs):
        _raise(calendars.add_problems(data["start"], data["minutes"]))


class BetweenArgs(Schema):
    start = fields.AwareDateTime(required=True, metadata=_INSTANT)
    end = fields.AwareDateTime(required=True, metadata=_INSTANT)

    @validates_schema
    def _check(self, data, **kwargs):
        _raise(calendars.between_problems(data["start"], data["end"]))


class SumSchema(Schema):
    calendar = fields.String()
    timezone = fields.String()
    start = fields.DateTime(metadata={"description": "UTC"})
    minutes = fields.Integer()
    due = fields.DateTime(metadata={"description": "UTC"})
    due_local = fields.DateTime(metadata={"description": "in the calendar's time zone"})


class SpanSchema(Schema):
    calendar = fields.String()
    timezone = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()
    seconds = fields.Float(metadata={"description": "business time in seconds"})
    minutes = fields.Float()


def _raise(problems: list[dict]) -> None:
    if problems:
        raise ValidationError({p["field"]: [p["message"]] for p in problems})


def _seen_version() -> int | None:
    """The calendar version the client saw, from If-Match."""
    return if_match_version("calendar")


def _response(view: calendars.CalendarView, status: int = 200):
    return dumped(CALENDAR, view, status, headers={"ETag": f'"{view.version}"'})


def _edited(edit: calendar_edits.Edit):
    body = Overlay(edit.view, moved=edit.moved)
    return dumped(EDITED, body, 201 if edit.created else 200, headers={"ETag": f'"{edit.view.version}"'})


@blp.route("")
class CalendarCollection(MethodView):
    @blp.response(200, CalendarSchema(many=True))
    def get(self):
        """The built-in calendars and the stored ones, by name."""
        return calendars.list_calendars(current_user())


@blp.route("/<string:name>")
class CalendarItem(MethodView):
    @blp.response(200, CalendarSchema)
    def get(self, name):
        """One calendar; ETag: its version."""
        return _response(calendars.read(current_user(), name))

    @blp.arguments(CalendarBodySchema)
    @blp.response(200, EditedCalendarSchema)
    @blp.alt_response(201, schema=EditedCalendarSchema, description="created")
    def put(self, body, name):
        """Create the calendar, or replace it with If-Match: "<version>" (428 without, 409 stale_version
        when it changed). The body is the whole calendar: a field left out is a 422 naming it (PATCH changes
        parts); a body that is not JSON is a 415. Storing a built-in calendar's name overrides the built-in
        one. Every running SLA clock on the calendar follows the new calendar from now (docs/sla.md); 422
        when the calendar cannot give the active policy's targets on it within 366 days."""
        return _edited(calendar_edits.put(current_user(), name, body, _seen_version()))

    @blp.arguments(CalendarBodySchema)
    @blp.response(200, EditedCalendarSchema)
    @blp.alt_response(201, schema=EditedCalendarSchema, description="a built-in calendar stored with the change")
    def patch(self, body, name):
        """Change the fields sent, keeping the others as the calendar has them (a built-in calendar not
        stored yet: its built-in values); If-Match: "<version>" as for PUT. Running SLA clocks follow."""
        return _edited(calendar_edits.patch(current_user(), name, body, _seen_version()))

    @blp.response(204)
    def delete(self, name):
        """Delete a stored calendar (If-Match optional). 409 builtin_calendar for a built-in one that is not
        overridden; 409 calendar_in_use while the active SLA policy or a running SLA clock uses it. Deleting an
        override brings the built-in calendar back."""
        policies.delete_calendar(current_user(), name, _seen_version())


@blp.route("/<string:name>/days")
class CalendarDays(MethodView):
    @blp.arguments(DaysArgs, location="query")
    @blp.response(200, PreviewSchema)
    def get(self, args, name):
        """Each date from 'from' to 'to': workday, weekend, holiday or makeup_workday, and its working
        intervals in local time and UTC."""
        return calendars.preview(current_user(), name, args["first"], args["last"])


@blp.route("/<string:name>/add")
class CalendarAdd(MethodView):
    @blp.arguments(AddArgs, location="query")
    @blp.response(200, SumSchema)
    def get(self, args, name):
        """When 'minutes' of business time have passed after 'start'."""
        return calendars.compute_add(current_user(), name, args["start"], args["minutes"])


@blp.route("/<string:name>/between")
class CalendarBetween(MethodView):
    @blp.arguments(BetweenArgs, location="query")
    @blp.response(200, SpanSchema)
    def get(self, args, name):
        """Business time from 'start' to 'end' (zero when 'end' is not after 'start')."""
        return calendars.compute_between(current_user(), name, args["start"], args["end"])
