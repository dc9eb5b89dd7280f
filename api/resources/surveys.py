"""Satisfaction surveys: the customer's users answer through the API; anyone holding a survey link
answers through the public page ``/survey/<token>`` (zh-CN and English) or its JSON twin
``/api/v1/surveys/by-token/<token>`` — no log-in: the unguessable, single-use, expiring token is
the credential (cases/casework/surveys.py)."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.parsing import Blueprint
from cases.casework import surveys
from gateway.auth import current_user

blp = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys",
                description="Satisfaction surveys: callbacks, complaints, follow-ups")


class SurveySchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.Function(lambda s: s.case.number)
    kind = fields.String(metadata={"description": "callback, complaint or follow_up"})
    milestone = fields.Integer(allow_none=True, metadata={"description": "a follow-up's month: 1, 3, 6 or 12"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    answered_via = fields.String(allow_none=True, metadata={"description": "link or api"})
    score = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    complaint_case_id = fields.Integer(allow_none=True, metadata={
        "description": "the complaint a low score (2 or less) opened"})


class PublicSurveySchema(Schema):
    """What a link holder sees: no more than the mail said."""

    case_number = fields.Function(lambda s: s.case.number)
    title = fields.Function(lambda s: s.case.title)
    kind = fields.String()
    milestone = fields.Integer(allow_none=True)
    expires_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    score = fields.Integer(allow_none=True)


class AnswerSchema(Schema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5),
                           metadata={"description": "1 = very unhappy … 5 = very happy"})
    comment = fields.String(load_default=None, validate=validate.Length(max=surveys.MAX_COMMENT))


class SurveyListArgs(Schema):
    case_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2147483647))
    open = fields.Boolean(load_default=False, metadata={"description": "only those that can still be answered"})


TOKEN = "<string(minlength=1,maxlength=200):token>"


@blp.route("")
class SurveyCollection(MethodView):
    @blp.arguments(SurveyListArgs, location="query")
    @blp.response(200, SurveySchema(many=True))
    def get(self, args):
        """Surveys of the cases I may see (customers: their organisation's), newest first (at most 200)."""
        return surveys.list_surveys(current_user(), args["case_id"], args["open"])


@blp.route("/<int(max=2147483647):survey_id>/answer")
class SurveyAnswer(MethodView):
    @blp.arguments(AnswerSchema)
    @blp.response(200, SurveySchema)
    def post(self, body, survey_id):
        """Answer a survey as the customer (once; before it expires). A score of 2 or less opens a
        complaint linked to the case."""
        return surveys.answer_as_customer(current_user(), survey_id, body["score"], body["comment"])


@blp.route(f"/by-token/{TOKEN}")
class SurveyByToken(MethodView):
    @blp.response(200, PublicSurveySchema)
    def get(self, token):
        """The survey a link stands for (public: the token is the credential). 404 unknown, 409 answered,
        410 expired, 429 after too many unknown links from one address."""
        return surveys.read_by_token(token, remote_addr=request.remote_addr)

    @blp.arguments(AnswerSchema)
    @blp.response(200, PublicSurveySchema)
    def post(self, body, token):
        """Answer through the link, once, before it expires (public)."""
        return surveys.answer_by_token(token, body["score"], body["comment"], remote_addr=request.remote_addr)
