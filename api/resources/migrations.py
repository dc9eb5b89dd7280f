"""Moving running cases between deployed versions (process owners, admins)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask.views import MethodView
from flask_babel import get_locale
from marshmallow import Schema, fields, validate

from api.parsing import Blueprint
from cases.process import moves
from engine.migration import Reason
from gateway.auth import current_user
from gateway.inputs import id_field

blp = Blueprint("migrations", __name__, url_prefix="/api/v1/migrations",
                description="Move running cases to another process version")


class MoveSchema(Schema):
    from_version = id_field(required=True)
    to_version = id_field(required=True)
    case_ids = fields.List(id_field(), load_default=None, metadata={
        "description": "only these cases (e.g. one); omitted: every running case of from_version"})
    mapping = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=255)),
                          values=fields.String(validate=validate.Length(min=1, max=255)),
                          load_default=None, validate=validate.Length(max=500), metadata={
        "description": "renamed steps {old element id: new element id}: a case waiting at the old id (a user "
                       "task the target no longer has) lands at the new one (a user task of the target, same "
                       "process, each the target of one old id); refused with 422 naming mapping.<old id>. "
                       "Kept with the batch"})


class MigrateSchema(MoveSchema):
    expected_moves = fields.Integer(load_default=None, metadata={
        "description": "the number of running cases the owner confirmed would move (the pages always send "
                       "it); another number now: 409 and nothing moves"})


class RevertSchema(Schema):
    case_ids = fields.List(id_field(), load_default=None, metadata={
        "description": "only these cases of the batch (e.g. one); omitted: every case of the batch"})


def _lang() -> str:
    """The language of the reasons: the request's Accept-Language (zh-CN or en)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


class ReasonSchema(Schema):
    code = fields.String(metadata={"description": "the reason's wording class, e.g. move_step_removed"})
    params = fields.Dict(metadata={"description": "the facts it names (element, name, process…)"})
    message = fields.String(metadata={"description": "the sentence, in the request's language"})


def _texts(reasons: Iterable[Reason]) -> list[str]:
    return [r.text(_lang()) for r in reasons]


def _details(reasons: Iterable[Reason]) -> list[dict[str, Any]]:
    return [r.as_dict(_lang()) for r in reasons]


class VerdictSchema(Schema):
    instance_id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    migratable = fields.Boolean()
    reasons = fields.Function(lambda v: _texts(v.reasons), metadata={
        "description": "why not, in the request's language (Accept-Language zh-CN or en)"})
    details = fields.Function(lambda v: _details(v.reasons), metadata={
        "description": "the same reasons as [{code, params, message}]"})


class SkippedSchema(Schema):
    instance_id = fields.Integer()
    reasons = fields.Function(lambda s: _texts(s["reasons"]), metadata={
        "description": "why it stayed, in the request's language"})
    details = fields.Function(lambda s: _details(s["reasons"]), metadata={
        "description": "the same reasons as [{code, params, message}]"})


class OutcomeSchema(Schema):
    batch = fields.String(metadata={"description": "revert with POST /api/v1/migrations/{batch}/revert"})
    moved = fields.List(fields.Integer(), metadata={"description": "instance ids"})
    skipped = fields.List(fields.Nested(SkippedSchema))
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True, metadata={
        "description": "the renamed steps the batch moved with"})


@blp.route("/dry-run")
class DryRun(MethodView):
    @blp.arguments(MoveSchema)
    @blp.response(200, VerdictSchema(many=True))
    def post(self, body):
        """Per running case of from_version: could it move to to_version, and if not, why."""
        return moves.dry_run(current_user(), body["from_version"], body["to_version"], body["case_ids"],
                             body["mapping"])


@blp.route("")
class Migrations(MethodView):
    @blp.arguments(MigrateSchema)
    @blp.response(201, OutcomeSchema)
    def post(self, body):
        """Move every movable running case (each in its own transaction); the rest is listed."""
        return moves.migrate_all(current_user(), body["from_version"], body["to_version"], body["case_ids"],
                                 body["expected_moves"], body["mapping"])


class BatchSchema(Schema):
    batch = fields.String(attribute="id")
    status = fields.String(metadata={"description": "running | done"})
    from_version = fields.Integer(attribute="from_version_id")
    to_version = fields.Integer(attribute="to_version_id")
    total = fields.Integer()
    moved = fields.Integer()
    skipped = fields.Integer()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True, metadata={
        "description": "the renamed steps {old id: new id} the batch moved with"})


@blp.route("/<string:batch>")
class Batch(MethodView):
    @blp.response(200, BatchSchema)
    def get(self, batch):
        """A migration's progress: poll it while the POST that started it runs."""
        return moves.progress(current_user(), batch)


@blp.route("/<string:batch>/revert")
class Revert(MethodView):
    @blp.arguments(RevertSchema, location="json", required=False)
    @blp.response(200, OutcomeSchema)
    def post(self, body, batch):
        """Move a batch's cases back where no step was completed since (a refused step is not one)."""
        return moves.revert(current_user(), batch, (body or {}).get("case_ids"))
