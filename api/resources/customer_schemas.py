"""Schemas of the customers blueprint: the customer record, its contacts, installed base and contracts."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from cases.core.models import TIERS
from cases.customers.records import today

_TEXT = {"allow_none": True}


class CustomerPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    tier = fields.String(validate=validate.OneOf(TIERS), metadata={
        "description": "only for a customer without contracts; otherwise the active contract decides it"})
    address = fields.String(validate=validate.Length(max=500), **_TEXT)
    notes = fields.String(validate=validate.Length(max=10000), **_TEXT, metadata={
        "description": "internal notes: staff only, never shown to the customer's users"})


class CustomerBodySchema(CustomerPatchSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "capital letters, digits, '_' or '-'; fixed once created"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ContactPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.Length(max=100), **_TEXT, metadata={
        "description": "e.g. IT administrator, finance manager"})
    phone = fields.String(validate=validate.Length(max=50), **_TEXT)
    email = fields.Email(validate=validate.Length(max=254), **_TEXT)
    is_primary = fields.Boolean(metadata={
        "description": "the primary contact (one per customer; the first contact is it until another is)"})


class ContactBodySchema(ContactPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ProductPatchSchema(Schema):
    product = fields.String(validate=validate.Length(min=1, max=100))
    product_version = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "the installed version, e.g. 5.2.1"})
    environment = fields.String(validate=validate.Length(max=10000), **_TEXT, metadata={
        "description": "servers, operating system, database, configuration notes"})
    installed_on = fields.Date(**_TEXT)


class ProductBodySchema(ProductPatchSchema):
    product = fields.String(required=True, validate=validate.Length(min=1, max=100))
    product_version = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ContractPatchSchema(Schema):
    number = fields.String(validate=validate.Length(min=1, max=60), metadata={"description": "unique"})
    tier = fields.String(validate=validate.OneOf(TIERS), metadata={"description": "the service tier it grants"})
    start = fields.Date(metadata={"description": "first day in force (China Standard Time)"})
    end = fields.Date(metadata={"description": "last day in force; not before start"})
    warranty_until = fields.Date(allow_none=True, metadata={
        "description": "last day of the warranty; default one year from the start; not before start"})
    calendar = fields.String(validate=validate.Length(min=1, max=60), allow_none=True, metadata={
        "description": "the business calendar of the support hours it promises (a calendar's name; "
                       "informational: the SLA policy's rules decide the clocks)"})


class ContractBodySchema(ContractPatchSchema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class ContactSchema(ContactBodySchema):
    id = fields.Integer()
    version = fields.Integer(metadata={"description": "send it as If-Match to change or remove the contact"})


class ProductSchema(ProductBodySchema):
    id = fields.Integer()
    version = fields.Integer(metadata={"description": "the row's version (If-Match), not the product's"})


class ContractSchema(ContractBodySchema):
    id = fields.Integer()
    status = fields.Function(lambda c: c.status_on(today()), metadata={
        "description": "upcoming, active or expired, from the dates (today in China Standard Time)"})
    in_warranty = fields.Function(lambda c: c.in_warranty_on(today()))
    version = fields.Integer()


class CaseContractSchema(Schema):
    """The customer's contract in force, as shown with a case (staff)."""

    number = fields.String()
    tier = fields.String()
    end = fields.Date()
    warranty_until = fields.Date(allow_none=True)
    in_warranty = fields.Function(lambda c: c.in_warranty_on(today()))


class CustomerListArgs(PageArgs):
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "part of the name or code"})
    tier = fields.String(validate=validate.OneOf(TIERS))


class CustomerItemSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    tier = fields.String()
    address = fields.String(allow_none=True)
    deployed_on = fields.Date(allow_none=True)
    version = fields.Integer()


CustomerPageSchema = page_schema(CustomerItemSchema, "CustomerPage")


class CustomerRecordSchema(Schema):
    """The record as a customer's user sees their own organisation's."""

    id = fields.Integer(attribute="customer.id")
    code = fields.String(attribute="customer.code")
    name = fields.String(attribute="customer.name")
    tier = fields.String(attribute="customer.tier", metadata={
        "description": "the active contract's tier when the customer has contracts"})
    address = fields.String(attribute="customer.address", allow_none=True)
    deployed_on = fields.Date(attribute="customer.deployed_on", allow_none=True)
    version = fields.Integer(attribute="customer.version", metadata={"description": "If-Match to change it"})
    contacts = fields.List(fields.Nested(ContactSchema))
    installed_products = fields.List(fields.Nested(ProductSchema), attribute="products")
    contracts = fields.List(fields.Nested(ContractSchema), metadata={"description": "the newest first"})
    active_contract = fields.Nested(ContractSchema, allow_none=True)


class StaffCustomerRecordSchema(CustomerRecordSchema):
    notes = fields.String(attribute="customer.notes", allow_none=True)
    created_at = fields.DateTime(attribute="customer.created_at")
