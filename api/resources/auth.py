"""Tokens: log in with a user name and password, log out."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.parsing import Blueprint
from api.resources.me import UserSchema
from cases.core import accounts
from gateway.auth import bearer_token

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)


@blp.route("/token")
class TokenResource(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    @blp.doc(security=[])
    def post(self, body):
        """Get a bearer token (public)."""
        lifetime = timedelta(hours=current_app.config["TOKEN_LIFETIME_HOURS"])
        token, row = accounts.issue_token(body["username"], body["password"], lifetime,
                                          current_app.config["PASSWORD_HASH_METHOD"], request.remote_addr)
        return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at, "user": row.user}

    @blp.response(204)
    def delete(self):
        """Revoke the token this request carries."""
        token = bearer_token()
        if token:
            accounts.revoke_token(token)
