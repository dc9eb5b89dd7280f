"""Software update notices: announce an update to customers ahead of its window (seed 004)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.pagination import PageArgs, page_schema
from api.parsing import Blueprint
from api.schemas import username_of
from cases.customers import announcements
from gateway.auth import current_user

blp = Blueprint("announcements", __name__, url_prefix="/api/v1/announcements",
                description="Software update notices to customers, sent before the update")


class InstalledBaseSchema(Schema):
    product = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "the installed product (default: the announced product); compared without case"})
    versions = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                           validate=validate.Length(max=200), metadata={"description": "installed versions to reach"})
    from_version = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "the lowest installed version to reach (included)"})
    below_version = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "installed versions below this one (excluded), e.g. the version announced"})


class AnnouncementBodySchema(Schema):
    product = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.String(required=True, validate=validate.Length(min=1, max=100))
    window_start = fields.AwareDateTime(required=True, metadata={"description": "must be in the future"})
    window_end = fields.AwareDateTime(required=True)
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(min=1, max=60), metadata={
        "description": "the zone the window is shown in to customers (IANA name)"})
    notes_zh = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    notes_en = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    customer_codes = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                                 validate=validate.Length(max=1000), load_default=list, metadata={
                                     "description": "the customers affected; or installed_base, or all_customers"})
    all_customers = fields.Boolean(load_default=False)
    installed_base = fields.Nested(InstalledBaseSchema, load_default=None, metadata={
        "description": "reach the customers whose record lists the product installed (any version, the "
                       "versions listed, or from_version to below_version)"})


class AnnouncementSchema(Schema):
    id = fields.Integer()
    product = fields.String()
    version = fields.String()
    window_start = fields.DateTime()
    window_end = fields.DateTime()
    notes_zh = fields.String()
    notes_en = fields.String()
    audience = fields.String(metadata={"description": "all | customers | product (the installed base)"})
    customer_codes = fields.List(fields.String(), metadata={"description": "the customers targeted (not for all)"})
    product_filter = fields.Dict(allow_none=True, metadata={
        "description": "audience product: {product, versions, from_version, below_version}"})
    reached = fields.Dict(metadata={"description": "customers (codes), mails and chat_posts queued, cases "
                                                   "(numbers) noted, unreachable customers (codes)"})
    created_by = username_of("created_by")
    created_at = fields.DateTime()


@blp.route("")
class AnnouncementCollection(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(AnnouncementSchema, "AnnouncementPage"))
    def get(self, args):
        """Update announcements, the newest first."""
        return announcements.announcements(current_user(), args["page"], args["per_page"])

    @blp.arguments(AnnouncementBodySchema)
    @blp.response(201, AnnouncementSchema)
    def post(self, body):
        """Announce an update: every affected customer hears of it now, by chat if that is how they
        talk to us, else by mail to their users; their cases waiting for a fixed version note it."""
        return announcements.announce(current_user(), body)
