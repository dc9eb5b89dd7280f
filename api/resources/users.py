"""Users and their roles (admins)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.resources.me import UserSchema
from cases.core import accounts
from cases.core.models import Role
from gateway.auth import current_user

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and roles (admins)")

ROLE_NAMES = [r.value for r in Role]


class AdminUserSchema(UserSchema):
    active = fields.Boolean()
    created_at = fields.DateTime()


class NewUserSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.@-]{1,80}$"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLE_NAMES)), required=True,
                        validate=validate.Length(min=1))
    display_name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=254))
    customer = fields.String(validate=validate.Length(max=40), metadata={
        "description": "customer code, required for the customer role"})


class UserChangesSchema(Schema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLE_NAMES)), validate=validate.Length(min=1))
    active = fields.Boolean()
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=200))


class UserListArgs(PageArgs):
    role = fields.String(validate=validate.OneOf(ROLE_NAMES))


@blp.route("")
class UserCollection(MethodView):
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, page_schema(AdminUserSchema, "UserPage"))
    def get(self, args):
        """Every user, by user name."""
        return accounts.list_users(current_user(), args.get("role"), args["page"], args["per_page"])

    @blp.arguments(NewUserSchema)
    @blp.response(201, AdminUserSchema)
    def post(self, body):
        """Create a user with roles (customer users: with their customer's code)."""
        return accounts.add_user(current_user(), body, current_app.config["PASSWORD_HASH_METHOD"])


@blp.route("/<int(max=2147483647):user_id>")
class UserItem(MethodView):
    @blp.arguments(UserChangesSchema)
    @blp.response(200, AdminUserSchema)
    def patch(self, body, user_id):
        """Change roles, activity (inactive users cannot log in; their tokens stop working), name,
        e-mail or password."""
        return accounts.update_user(current_user(), user_id, body, current_app.config["PASSWORD_HASH_METHOD"])
