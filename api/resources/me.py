"""The authenticated user."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.parsing import Blueprint
from api.schemas import CustomerSchema
from gateway.auth import current_user

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The current user")


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    roles = fields.Function(lambda u: sorted(u.roles))
    customer = fields.Nested(CustomerSchema, allow_none=True)


@blp.route("")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """Who am I, with my roles."""
        return current_user()
