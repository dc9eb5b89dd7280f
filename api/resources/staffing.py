"""What assignment strategies read: staff skills, duty rosters, a customer's dedicated consultant
(supervisors, managers and admins read; managers and admins set; audited)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.parsing import Blueprint
from cases.core.models import CATEGORIES
from cases.process import staffing
from gateway.auth import current_user

blp = Blueprint("staffing", __name__, url_prefix="/api/v1",
                description="Assignment: skills, duty rosters and dedicated consultants")


class SkillsSchema(Schema):
    username = fields.String(dump_only=True)
    categories = fields.List(fields.Raw(), required=True, metadata={
        "description": f"case categories the user handles: {', '.join(CATEGORIES)}"})
    products = fields.List(fields.Raw(), required=True, metadata={
        "description": "product names the user handles (matched against the customer's installed products)"})


class ShiftSchema(Schema):
    weekday = fields.Integer(metadata={"description": "0 Monday .. 6 Sunday"})
    start = fields.String(metadata={"description": "HH:MM local time"})
    end = fields.String(metadata={"description": "HH:MM, or 24:00; an overnight shift is two shifts"})


class RosterSchema(Schema):
    username = fields.String(dump_only=True)
    timezone = fields.String(required=True, allow_none=True, metadata={"description": "IANA zone of the shifts"})
    shifts = fields.List(fields.Raw(), required=True, metadata={
        "description": 'the weekly shifts, e.g. [{"weekday": 0, "start": "08:00", "end": "20:00"}]; [] removes '
                       "the roster"})


class RosterViewSchema(RosterSchema):
    shifts = fields.List(fields.Nested(ShiftSchema))


class DedicatedSchema(Schema):
    customer_id = fields.Integer(dump_only=True)
    username = fields.String(required=True, allow_none=True, metadata={
        "description": "an active service consultant; null removes the dedicated consultant"})


@blp.route("/users/<string:username>/skills")
class UserSkills(MethodView):
    @blp.response(200, SkillsSchema)
    def get(self, username):
        """The categories and products the user handles (the skills strategy)."""
        return staffing.read_skills(current_user(), username)

    @blp.arguments(SkillsSchema)
    @blp.response(200, SkillsSchema)
    def put(self, body, username):
        """Set the user's skills (managers, admins; audited as skills_set)."""
        return staffing.set_skills(current_user(), username, body["categories"], body["products"])


@blp.route("/users/<string:username>/roster")
class UserRoster(MethodView):
    @blp.response(200, RosterViewSchema)
    def get(self, username):
        """The user's weekly duty roster (the on_duty strategy)."""
        return staffing.read_roster(current_user(), username)

    @blp.arguments(RosterSchema)
    @blp.response(200, RosterViewSchema)
    def put(self, body, username):
        """Replace the user's roster (managers, admins; audited as roster_set)."""
        return staffing.set_roster(current_user(), username, body["timezone"], body["shifts"])


@blp.route("/customers/<int(max=2147483647):customer_id>/dedicated-consultant")
class DedicatedConsultant(MethodView):
    @blp.response(200, DedicatedSchema)
    def get(self, customer_id):
        """The customer's dedicated consultant (null: none)."""
        return staffing.read_dedicated(current_user(), customer_id)

    @blp.arguments(DedicatedSchema)
    @blp.response(200, DedicatedSchema)
    def put(self, body, customer_id):
        """Name the customer's dedicated consultant, or remove them with null (managers, admins; audited as
        dedicated_consultant_set). A VIP customer's cases go to them whatever the category, when on duty."""
        return staffing.set_dedicated(current_user(), customer_id, body["username"])
