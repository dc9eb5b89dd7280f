"""Customers: the deployment date that starts a customer's follow-ups (cases/follow_ups.py)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.auth import current_user
from api.parsing import Blueprint
from cases import follow_ups

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers",
                description="Customers: deployment date and follow-ups")


class DeploymentSchema(Schema):
    deployed_on = fields.Date(required=True, metadata={
        "description": "the day the software went live at the customer (follow-ups at 1, 3, 6 and 12 months)"})


class FollowUpSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    stage = fields.String()
    status = fields.String()


class DeploymentResultSchema(Schema):
    id = fields.Integer(attribute="customer.id")
    code = fields.String(attribute="customer.code")
    name = fields.String(attribute="customer.name")
    tier = fields.String(attribute="customer.tier")
    deployed_on = fields.Date(attribute="customer.deployed_on")
    follow_up_case = fields.Nested(FollowUpSchema, attribute="programme", allow_none=True, metadata={
        "description": "the follow-up programme (a case of kind follow_up); its timers are the milestones"})
    milestones = fields.Dict(keys=fields.String(), values=fields.DateTime(), metadata={
        "description": "months after the deployment -> when that follow-up is due"})


def _result(customer, programme) -> dict:
    dues = follow_ups.milestone_dues(customer.deployed_on) if customer.deployed_on else {}
    return {"customer": customer, "programme": programme,
            "milestones": {str(months): due for months, due in dues.items()}}


@blp.route("/<int(max=2147483647):customer_id>/deployment")
class Deployment(MethodView):
    @blp.response(200, DeploymentResultSchema)
    def get(self, customer_id):
        """The customer's deployment date, its running follow-up programme and the milestones (staff)."""
        return _result(*follow_ups.read_deployment(current_user(), customer_id))

    @blp.arguments(DeploymentSchema)
    @blp.response(200, DeploymentResultSchema)
    def put(self, body, customer_id):
        """Set the customer's deployment date (admins, managers): starts the follow-up programme, or
        moves its follow-ups not yet due when the date is corrected."""
        return _result(*follow_ups.set_deployment(current_user(), customer_id, body["deployed_on"]))
