"""Customers: the record (address, contacts, installed products, contracts: cases/customers/records.py)
and the deployment date that starts a customer's follow-ups (cases/casework/follow_ups.py)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.parsing import Blueprint
from api.resources.customer_schemas import (
    ContactBodySchema,
    ContactPatchSchema,
    ContactSchema,
    ContractBodySchema,
    ContractPatchSchema,
    ContractSchema,
    CustomerBodySchema,
    CustomerListArgs,
    CustomerPageSchema,
    CustomerPatchSchema,
    CustomerRecordSchema,
    ProductBodySchema,
    ProductPatchSchema,
    ProductSchema,
    StaffCustomerRecordSchema,
)
from api.responses import dumped, if_match_version
from cases.casework import follow_ups
from cases.customers import records as customer_records
from gateway.auth import current_user

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers",
                description="Customers: the record (contacts, installed products, contracts), deployment "
                            "date and follow-ups")


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
    deployed_on = fields.Date(attribute="customer.deployed_on", allow_none=True,
                              metadata={"description": "null until an admin or manager sets it"})
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


STAFF_RECORD, CUSTOMER_RECORD = StaffCustomerRecordSchema(), CustomerRecordSchema()
ID = "int(max=2147483647)"


def _record(view: customer_records.CustomerView, status: int = 200):
    schema = STAFF_RECORD if view.internal else CUSTOMER_RECORD
    return dumped(schema, view, status, headers={"ETag": f'"{view.customer.version}"'})


@blp.route("")
class CustomerCollection(MethodView):
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, CustomerPageSchema)
    def get(self, args):
        """Customers by name (staff); q: part of the name or code; tier."""
        return customer_records.list_customers(current_user(), args.get("q"), args.get("tier"),
                                               args["page"], args["per_page"])

    @blp.arguments(CustomerBodySchema)
    @blp.response(201, StaffCustomerRecordSchema)
    def post(self, body):
        """Create a customer (admins, customer service managers)."""
        return _record(customer_records.create(current_user(), body), 201)


@blp.route(f"/<{ID}:customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, StaffCustomerRecordSchema)
    def get(self, customer_id):
        """The customer record: contacts, installed products, contracts and the active one; ETag: its version.
        A customer's user reads only their own organisation's, without the internal notes."""
        return _record(customer_records.read(current_user(), customer_id))

    @blp.arguments(CustomerPatchSchema)
    @blp.response(200, StaffCustomerRecordSchema)
    def patch(self, body, customer_id):
        """Change name, address, notes, or the tier of a customer without contracts; If-Match: "<version>"
        (428 without, 409 stale_version when it changed)."""
        return _record(customer_records.update(current_user(), customer_id, body, if_match_version("customer")))


def _item_routes(kind: str, path: str, body_schema, patch_schema, schema, what: str) -> None:
    """POST {path}; PATCH and DELETE {path}/<id>, each in one transaction."""

    class Collection(MethodView):
        @blp.arguments(body_schema)
        @blp.response(201, schema)
        def post(self, body, customer_id):
            return customer_records.add_item(current_user(), customer_id, kind, body)

    class Item(MethodView):
        @blp.arguments(patch_schema)
        @blp.response(200, schema)
        def patch(self, body, customer_id, item_id):
            return customer_records.update_item(current_user(), customer_id, kind, item_id, body,
                                                if_match_version(kind))

        @blp.response(204)
        def delete(self, customer_id, item_id):
            customer_records.remove_item(current_user(), customer_id, kind, item_id, if_match_version(kind))

    name = kind.capitalize() + "s"
    Collection.__name__, Item.__name__ = f"Customer{name}", f"Customer{name[:-1]}Item"
    Collection.post.__doc__ = f"Add {what} (admins, customer service managers)."
    Item.patch.__doc__ = f"Change {what}; If-Match: \"<version>\" (428 without, 409 stale_version)."
    Item.delete.__doc__ = f"Remove {what} (If-Match optional)."
    blp.route(f"/<{ID}:customer_id>/{path}")(Collection)
    blp.route(f"/<{ID}:customer_id>/{path}/<{ID}:item_id>")(Item)


_item_routes("contact", "contacts", ContactBodySchema, ContactPatchSchema, ContactSchema,
             "a contact (the primary one: is_primary)")
_item_routes("product", "installed-products", ProductBodySchema, ProductPatchSchema, ProductSchema,
             "an installed product (product, version, environment)")
_item_routes("contract", "contracts", ContractBodySchema, ContractPatchSchema, ContractSchema,
             "a contract; the customer's tier follows the active contract in the same transaction")
