"""Deployed process versions: list, upload a new version, validate files without deploying."""
from __future__ import annotations

from pathlib import Path

from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from api.parsing import Blueprint, MultipartParser
from api.responses import dumped
from cases.process import deploy as deploying
from gateway.auth import current_user
from gateway.inputs import MAX_ID


class _UploadBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()  # the change note travels beside the files


blp = _UploadBlueprint("versions", __name__, url_prefix="/api/v1/process-versions",
                description="Deployed process versions")

class ProcessVersionSchema(Schema):
    id = fields.Integer()
    content_hash = fields.String()
    process_ids = fields.List(fields.String())
    forms = fields.Function(lambda v: sorted(v.forms))
    serializer_version = fields.String()
    created_at = fields.DateTime()
    activated_at = fields.DateTime()
    change_note = fields.String(allow_none=True, metadata={"description": "what changed and why, given at deploy"})


VERSION = ProcessVersionSchema()


class UploadSchema(Schema):
    files = fields.List(Upload(), required=True, metadata={
        "description": "the .bpmn, .dmn and form .json files"})
    change_note = fields.String(load_default=None, metadata={
        "description": "deploy: required, what changed and why (kept with the version, shown in the list "
                       "and the audit); ignored when validating or comparing"})


class UploadArgs(Schema):
    merge = fields.Boolean(load_default=False, metadata={
        "description": "true: the files replace same-named files of the active version; "
                       "false: they are the complete set"})


class ChangeSchema(Schema):
    file = fields.String()
    element = fields.String()
    kind = fields.String(metadata={"description": "the element's BPMN/DMN tag (userTask, sequenceFlow, rule…) or form"})
    name = fields.String(allow_none=True)


class DiffSchema(Schema):
    against = fields.Integer(allow_none=True, metadata={"description": "the version compared with (the active one)"})
    added = fields.List(fields.Nested(ChangeSchema))
    removed = fields.List(fields.Nested(ChangeSchema))
    changed = fields.List(fields.Nested(ChangeSchema))


class DiffArgs(Schema):
    against = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                             metadata={"description": "default: the active version"})


class ValidationSchema(Schema):
    valid = fields.Boolean()
    errors = fields.List(fields.Dict(), metadata={
        "description": "[{file, element, line, message, code}]: every problem at once; message in the "
                       "request's language (Accept-Language zh-CN or en), code its wording class"})


def _lang() -> str:
    """The language of the problems' sentences: the request's Accept-Language (zh-CN or en)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def _read(body: dict) -> dict[str, bytes]:
    return {Path(f.filename or "").name: f.read() for f in body["files"]}


@blp.route("")
class VersionCollection(MethodView):
    @blp.response(200, ProcessVersionSchema(many=True))
    def get(self):
        """Every deployed version, the active one first."""
        return deploying.list_versions(current_user())

    @blp.arguments(UploadArgs, location="query")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, ProcessVersionSchema)
    @blp.alt_response(200, schema=ProcessVersionSchema, description="identical files: re-activated")
    def post(self, args, body):
        """Deploy (process owner, admin): validated first, every problem at once (422); a change note
        is required (422 naming change_note)."""
        version, created = deploying.deploy_upload(current_user(), _read(body), args["merge"], _lang(),
                                                   body["change_note"])
        return dumped(VERSION, version, 201 if created else 200)


@blp.route("/validate")
class VersionValidation(MethodView):
    @blp.arguments(UploadArgs, location="query")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, ValidationSchema)
    def post(self, args, body):
        """Check files as a deploy would, without deploying them."""
        errors = deploying.check_upload(current_user(), _read(body), args["merge"], _lang())
        return {"valid": not errors, "errors": errors}


@blp.route("/diff")
class UploadDiff(MethodView):
    @blp.arguments(UploadArgs, location="query")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, DiffSchema)
    def post(self, args, body):
        """What deploying these files would add, remove and change, against the active version."""
        active = deploying.active_version()
        return {"against": active.id if active else None,
                **deploying.diff_upload(current_user(), _read(body), args["merge"]).as_dict()}


@blp.route("/<int(max=2147483647):version_id>/diff")
class VersionDiff(MethodView):
    @blp.arguments(DiffArgs, location="query")
    @blp.response(200, DiffSchema)
    def get(self, args, version_id):
        """What a version adds, removes and changes against another (default: the active one)."""
        diff, against = deploying.diff_versions(current_user(), version_id, args["against"])
        return {"against": against.id if against else None, **diff.as_dict()}
