"""Training (cases/service/training.py): sessions planned with their invitations, enrolment (also from
a case), attendance with assessment scores, moving one who missed to a later session, and the KPIs."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.parsing import Blueprint
from api.responses import dumped, if_match_version
from api.schemas import username_of
from cases.kpis.figures import Period, period_problems
from cases.service import training
from gateway.auth import current_user
from gateway.inputs import id_field

blp = Blueprint("training", __name__, url_prefix="/api/v1/training",
                description="Training: customer user training, new-staff induction, staff technical training")

ID = "int(max=2147483647)"


class TrainingPersonSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))


class TrainingSessionBodySchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(training.KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    topic = fields.String(validate=validate.Length(max=5000), load_default=None)
    customer_id = id_field(load_default=None, allow_none=True,
                           metadata={"description": "customer user training: whose users"})
    trainer = fields.String(validate=validate.Length(min=1, max=80), load_default=None,
                            metadata={"description": "the trainer's user name"})
    mode = fields.String(validate=validate.OneOf(training.MODES), load_default="on_site")
    location = fields.String(validate=validate.Length(max=300), load_default=None)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "in the future"})
    ends_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "default: a week after the start for an induction, two hours for the others"})
    reminder_hours = fields.Integer(load_default=training.DEFAULT_REMINDER_HOURS,
                                    validate=validate.Range(0, training.MAX_REMINDER_HOURS),
                                    metadata={"description": "the reminder goes this many hours before the start"})
    invitees = fields.List(fields.String(validate=validate.Length(min=1, max=80)), load_default=list,
                           validate=validate.Length(max=500), metadata={"description": "user names to invite"})
    people = fields.List(fields.Nested(TrainingPersonSchema), load_default=list, validate=validate.Length(max=500),
                         metadata={"description": "a customer's persons without a user (customer user training)"})


class TrainingParticipantSchema(Schema):
    id = fields.Integer()
    user = username_of("user")
    name = fields.String()
    email = fields.String()
    case_id = id_field(allow_none=True)
    case_number = fields.String(attribute="case.number", allow_none=True)
    invited_at = fields.DateTime()
    attendance = fields.String(allow_none=True, metadata={"description": "attended | missed | null (not yet recorded)"})
    score = fields.Integer(allow_none=True)
    followed_up_at = fields.DateTime(allow_none=True)
    moved_to_id = id_field(allow_none=True)
    excused_at = fields.DateTime(allow_none=True, metadata={"description": "the follow-up excused them"})
    follow_up_note = fields.String(allow_none=True, metadata={"description": "why (the follow-up decision)"})


class TrainingSessionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    topic = fields.String(allow_none=True)
    customer_id = id_field(allow_none=True)
    trainer = username_of("trainer")
    mode = fields.String()
    location = fields.String(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    reminder_hours = fields.Integer()
    reminder_due_at = fields.DateTime()
    reminded_at = fields.DateTime(allow_none=True)
    status = fields.String()
    held_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    participants = fields.List(fields.Nested(TrainingParticipantSchema))
    process_case_id = id_field(allow_none=True, metadata={
        "description": "the internal case (kind training) running the session (processes/training_session.bpmn)"})
    process_case_number = fields.String(attribute="process_case.number", allow_none=True)
    task_id = fields.Method("_task", allow_none=True, metadata={
        "type": "string", "description": "the open task 'Record attendance' or 'Follow up on absentees', if any"})
    task_element = fields.Method("_task_element", allow_none=True, metadata={
        "type": "string", "description": "record_attendance | follow_up_absentees | null"})

    def _task(self, row: Any) -> str | None:
        task = training.open_task(row)
        return task.id if task is not None else None

    def _task_element(self, row: Any) -> str | None:
        task = training.open_task(row)
        return task.element_id if task is not None else None


class TrainingReschedulePatchSchema(Schema):
    starts_at = fields.AwareDateTime(load_default=None, metadata={"description": "the new start, in the future"})
    ends_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "the new end (default: the start moved keeps the session's length)"})
    reminder_hours = fields.Integer(load_default=None, validate=validate.Range(0, training.MAX_REMINDER_HOURS))

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not any(data.get(k) is not None for k in ("starts_at", "ends_at", "reminder_hours")):
            raise ValidationError("a new start, end or reminder lead", "starts_at")


class TrainingCancelSchema(Schema):
    version = fields.Integer(required=True, metadata={"description": "the session's version you saw"})
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class TrainingDecisionSchema(Schema):
    participant_id = id_field(required=True)
    decision = fields.String(required=True, validate=validate.OneOf((training.MOVE, training.EXCUSE)))
    to_session_id = id_field(metadata={"description": "move: the later planned session"})
    reason = fields.String(validate=validate.Length(max=2000), metadata={"description": "excuse: required"})


class TrainingFollowUpSchema(Schema):
    decisions = fields.List(fields.Nested(TrainingDecisionSchema), required=True,
                            validate=validate.Length(max=500))


class TrainingSessionListArgs(Schema):
    kind = fields.String(validate=validate.OneOf(training.KINDS))
    status = fields.String(validate=validate.OneOf(training.STATUSES))


class TrainingEnrolSchema(Schema):
    user = fields.String(validate=validate.Length(min=1, max=80), metadata={"description": "a user name"})
    name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email(validate=validate.Length(max=254))
    case_id = id_field(metadata={"description": "the case whose re-training found the need; alone, "
                                                      "its reporter (or contact) is enrolled"})

    @validates_schema
    def _someone(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not (data.get("user") or data.get("email") or data.get("case_id")):
            raise ValidationError("a user name, a name and an e-mail address, or a case", "user")


class TrainingAttendanceEntrySchema(Schema):
    participant_id = id_field(required=True)
    attended = fields.Boolean(required=True)
    score = fields.Integer(load_default=None, validate=validate.Range(0, 100),
                           metadata={"description": "the assessment score, 0-100 (only who attended)"})


class TrainingAttendanceSchema(Schema):
    version = fields.Integer(required=True, metadata={"description": "the session's version you saw"})
    attendance = fields.List(fields.Nested(TrainingAttendanceEntrySchema), required=True,
                             validate=validate.Length(min=1, max=500))


class TrainingMoveSchema(Schema):
    to_session_id = id_field(required=True, metadata={"description": "a later planned session"})


class TrainingPeriodArgs(Schema):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    customer_id = id_field(strict=False, load_default=None)

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for problem in period_problems(data.get("from_", date.min), data.get("to", date.min)):
            raise ValidationError(problem["message"], problem["field"])


class TrainingKpisSchema(Schema):
    sessions_held = fields.Integer()
    attended = fields.Integer()
    missed = fields.Integer()
    participation = fields.Float(allow_none=True, metadata={"description": "attended / (attended + missed)"})
    participation_target = fields.Float()
    support_staff = fields.Integer()
    staff_covered = fields.Integer()
    coverage = fields.Float(allow_none=True, metadata={"description": "support staff who passed / all"})
    coverage_target = fields.Float()
    assessments = fields.Integer()
    average_score = fields.Float(allow_none=True)


def _session(row: Any) -> Response:
    return dumped(TrainingSessionSchema(), row, headers={"ETag": f'"{row.version}"'})


@blp.route("/sessions")
class SessionCollection(MethodView):
    @blp.arguments(TrainingSessionListArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, TrainingSessionSchema(many=True))  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """Training sessions, the latest start first (staff)."""
        return training.sessions(current_user(), args.get("kind"), args.get("status"))

    @blp.arguments(TrainingSessionBodySchema)  # type: ignore[untyped-decorator]
    @blp.response(201, TrainingSessionSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any]) -> Any:
        """Plan a session and invite its participants by mail (supervisors, managers, technical leads)."""
        row = training.plan(current_user(), body)
        response = _session(row)
        response.status_code = 201
        return response


@blp.route(f"/sessions/<{ID}:session_id>")
class SessionItem(MethodView):
    @blp.response(200, TrainingSessionSchema)  # type: ignore[untyped-decorator]
    def get(self, session_id: int) -> Any:
        """A session with its participants, attendance and scores; ETag: its version."""
        return _session(training.session(current_user(), session_id))

    @blp.arguments(TrainingReschedulePatchSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, TrainingSessionSchema)  # type: ignore[untyped-decorator]
    def patch(self, body: dict[str, Any], session_id: int) -> Any:
        """Reschedule a planned session that has not started (its process's waiting timer moves; the
        participants are mailed the new time); If-Match: "<version>"."""
        fields_ = {k: v for k, v in body.items() if v is not None}
        return _session(training.reschedule(current_user(), session_id, fields_, if_match_version("training session")))


@blp.route(f"/sessions/<{ID}:session_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(TrainingCancelSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, TrainingSessionSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], session_id: int) -> Any:
        """Cancel a planned session that has not started: the participants are mailed, its process ends."""
        return _session(training.cancel(current_user(), session_id, body["version"], body["reason"]))


@blp.route(f"/sessions/<{ID}:session_id>/follow-up")
class FollowUp(MethodView):
    @blp.arguments(TrainingFollowUpSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, TrainingSessionSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], session_id: int) -> Any:
        """Follow up on those who missed the session: per absentee, move to a later session or excuse
        (with a reason); completes the session's task "Follow up on absentees"."""
        return _session(training.follow_up(current_user(), session_id, body["decisions"]))


@blp.route(f"/sessions/<{ID}:session_id>/participants")
class Participants(MethodView):
    @blp.arguments(TrainingEnrolSchema)  # type: ignore[untyped-decorator]
    @blp.response(201, TrainingParticipantSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], session_id: int) -> Any:
        """Enrol someone in a planned session (mailed an invitation); with a case, the case's timeline says so."""
        return training.enrol(current_user(), session_id, body)


@blp.route(f"/sessions/<{ID}:session_id>/attendance")
class Attendance(MethodView):
    @blp.arguments(TrainingAttendanceSchema)  # type: ignore[untyped-decorator]
    @blp.response(200, TrainingSessionSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], session_id: int) -> Any:
        """Record who attended and their assessment scores; those who missed are mailed a follow-up.
        Completes the session's task "Record attendance" (the planners, or the session's trainer)."""
        return _session(training.record_attendance(current_user(), session_id, body["version"], body["attendance"]))


@blp.route(f"/sessions/<{ID}:session_id>/participants/<{ID}:participant_id>/move")
class Move(MethodView):
    @blp.arguments(TrainingMoveSchema)  # type: ignore[untyped-decorator]
    @blp.response(201, TrainingParticipantSchema)  # type: ignore[untyped-decorator]
    def post(self, body: dict[str, Any], session_id: int, participant_id: int) -> Any:
        """Follow-up: invite one who missed the session to a later planned one."""
        return training.move(current_user(), session_id, participant_id, body["to_session_id"])


@blp.route("/kpis")
class Kpis(MethodView):
    @blp.arguments(TrainingPeriodArgs, location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, TrainingKpisSchema)  # type: ignore[untyped-decorator]
    def get(self, args: dict[str, Any]) -> Any:
        """Participation (target 80 %), staff knowledge coverage (target 90 %) and assessments of the
        sessions held in the period (from/to, dates included)."""
        training.session_reader(current_user())
        k = training.kpis(Period(args["from_"], args["to"]), args["customer_id"])
        return {**k.__dict__, "participation_target": training.PARTICIPATION_TARGET,
                "coverage_target": training.COVERAGE_TARGET}
