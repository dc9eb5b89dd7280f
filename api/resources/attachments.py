"""Attachments: upload to a case (or one of its tasks), list a case's, download one.

A download is served with the type sniffed at upload, ``X-Content-Type-Options: nosniff``, a
sandboxing Content-Security-Policy, and as an attachment (images and PDF inline): nothing a
customer uploads can run in a browser as caseflow's page.
"""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

from api.parsing import Blueprint, MultipartParser
from api.schemas import username_of
from cases.casework import attachments
from gateway.auth import current_user
from gateway.downloads import download_response
from gateway.problems import problem


class _AttachmentBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


blp = _AttachmentBlueprint("attachments", __name__, url_prefix="/api/v1",
                           description="Files on cases and tasks: screenshots, logs, documents")

#: what a multipart body may carry besides the file itself (boundaries, headers, form fields)
MULTIPART_OVERHEAD = 64 * 1024


class AttachmentSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    task_id = fields.String(allow_none=True)
    filename = fields.String()
    content_type = fields.String(metadata={"description": "sniffed from the content at upload"})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    public = fields.Boolean(metadata={"description": "shown to the customer's users"})
    uploaded_by = username_of("uploaded_by")
    created_at = fields.DateTime()
    url = fields.Function(lambda a: f"/api/v1/attachments/{a.id}", metadata={"description": "download"})


ATTACHMENT = AttachmentSchema()


class AttachmentUploadSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "PNG, JPEG, GIF, WebP, PDF, ZIP (docx, xlsx) or text (UTF-8 or GB18030); "
                       "at most ATTACHMENT_MAX_BYTES (10 MiB by default)"})
    task_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36), metadata={
        "description": "attach to this task of the case"})
    public = fields.Boolean(load_default=None, metadata={
        "description": "staff: show it to the customer (default false); customers' uploads are always public"})


def _too_large():
    limit = attachments.max_bytes()
    return problem(413, "too_large", f"an attachment may have at most {limit} bytes", max_bytes=limit)


@blp.before_request
def _allow_attachment_bodies():
    if request.endpoint == "attachments.CaseAttachments" and request.method == "POST":
        request.max_content_length = attachments.max_bytes() + MULTIPART_OVERHEAD


@blp.errorhandler(RequestEntityTooLarge)
def _body_too_large(_error):
    return _too_large()


@blp.route("/cases/<int(max=2147483647):case_id>/attachments")
class CaseAttachments(MethodView):
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, case_id):
        """The case's attachments (customers: the public ones), oldest first."""
        return attachments.list_for_case(current_user(), case_id)

    @blp.arguments(AttachmentUploadSchema, location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, form, case_id):
        """Upload a file (multipart/form-data, field 'file'). 413 over the size limit; 422 on 'file' for a
        type that is not allowed (decided from the content: HTML, SVG, XML and scripts never are)."""
        upload = form["file"]
        data = upload.read(attachments.max_bytes() + 1)
        attachments.check_size(len(data))
        return attachments.add(current_user(), case_id, upload.filename, data, form["task_id"], form["public"])


@blp.route("/attachments/<int(max=2147483647):attachment_id>")
class AttachmentItem(MethodView):
    @blp.response(200, content_type="application/octet-stream",
                  description="the file, served with the type sniffed at upload")
    def get(self, attachment_id):
        """Download an attachment: images and PDF inline, everything else as a download."""
        return download_response(attachments.open_download(current_user(), attachment_id))


