"""Moving running cases between deployed versions (process owners, admins)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from api.parsing import Blueprint
from cases.process import moves
from gateway.auth import current_user
from gateway.inputs import id_field

blp = Blueprint("migrations", __name__, url_prefix="/api/v1/migrations",
                description="Move running cases to another process version")


class MoveSchema(Schema):
    from_version = id_field(required=True)
    to_version = id_field(required=True)
    case_ids = fields.List(id_field(), load_default=None, metadata={
        "description": "only these cases (e.g. one); omitted: every running case of from_version"})


class MigrateSchema(MoveSchema):
    expected_moves = fields.Integer(load_default=None, metadata={
        "description": "the number of running cases the owner confirmed would move (the pages always send "
                       "it); another number now: 409 and nothing moves"})


class RevertSchema(Schema):
    case_ids = fields.List(id_field(), load_default=None, metadata={
        "description": "only these cases of the batch (e.g. one); omitted: every case of the batch"})


class VerdictSchema(Schema):
    instance_id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    migratable = fields.Boolean()
    reasons = fields.List(fields.String())


class SkippedSchema(Schema):
    instance_id = fields.Integer()
    reasons = fields.List(fields.String())


class OutcomeSchema(Schema):
    batch = fields.String(metadata={"description": "revert with POST /api/v1/migrations/{batch}/revert"})
    moved = fields.List(fields.Integer(), metadata={"description": "instance ids"})
    skipped = fields.List(fields.Nested(SkippedSchema))


@blp.route("/dry-run")
class DryRun(MethodView):
    @blp.arguments(MoveSchema)
    @blp.response(200, VerdictSchema(many=True))
    def post(self, body):
        """Per running case of from_version: could it move to to_version, and if not, why."""
        return moves.dry_run(current_user(), body["from_version"], body["to_version"], body["case_ids"])


@blp.route("")
class Migrations(MethodView):
    @blp.arguments(MigrateSchema)
    @blp.response(201, OutcomeSchema)
    def post(self, body):
        """Move every movable running case (each in its own transaction); the rest is listed."""
        return moves.migrate_all(current_user(), body["from_version"], body["to_version"], body["case_ids"],
                                 body["expected_moves"])


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
