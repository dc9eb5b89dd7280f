"""Cases: open, list, read with tasks and history, send a message to a waiting case."""
from __future__ import annotations

import re

from flask.views import MethodView

from api.parsing import Blueprint
from api.resources.case_schemas import (
    CaseDetailSchema,
    CaseListArgs,
    CasePageSchema,
    ComplaintSchema,
    CustomerCaseDetailSchema,
    MessageSchema,
    ReplyRouteSchema,
    ReplySchema,
    SelfServiceSchema,
)
from api.responses import Overlay, dumped
from cases.casework import complaints, intake, queries, self_service
from cases.casework import tasks as work
from cases.core.errors import ValidationFailed
from cases.customers import records as customer_records
from cases.outbox import replies
from cases.sla import clock as sla
from gateway.auth import current_user
from gateway.inputs import CaseCreateSchema

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Support cases")

# Schema instances are stateless when dumping; building one per response costs a deep copy
# of every field.
STAFF_DETAIL, CUSTOMER_DETAIL = CaseDetailSchema(), CustomerCaseDetailSchema()
MESSAGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")


def _detail(case_id: int, status: int = 200, **extra):
    view = queries.case_view(current_user(), case_id)
    schema = STAFF_DETAIL if view.internal else CUSTOMER_DETAIL
    if view.internal:
        extra["contract"] = customer_records.active_contract(view.case.customer_id)
    return dumped(schema, Overlay(view.case, tasks=view.tasks, history=view.history,
                                  process_version=view.process_version, sla=sla.view(view.case),
                                  linked_cases=complaints.linked_cases(view.case), **extra),
                  status)


@blp.route("")
class CaseCollection(MethodView):
    @blp.arguments(CaseListArgs, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """List the cases I may see (customers: their organisation's), newest first."""
        page, per_page = args.pop("page"), args.pop("per_page")
        return queries.list_cases(current_user(), args, page, per_page)

    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseDetailSchema)
    def post(self, body):
        """Open a case; its process starts at once (intake, classification proposal). The answer
        suggests knowledge-base articles that may already answer it (see /self-service)."""
        case = intake.open_case(current_user(), body)
        return _detail(case.id, 201, suggested_articles=self_service.suggestions(case))


@blp.route("/<int(max=2147483647):case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseDetailSchema)
    def get(self, case_id):
        """A case with its open tasks and its history (customers see the public part)."""
        return _detail(case_id)


@blp.route("/<int(max=2147483647):case_id>/messages/<string:name>")
class CaseMessage(MethodView):
    @blp.arguments(MessageSchema)
    @blp.response(200, CaseDetailSchema)
    def post(self, body, case_id, name):
        """Deliver a message (e.g. customer_reply) to the case's waiting process."""
        if not MESSAGE_NAME.match(name):
            raise ValidationFailed("bad message name", [{"field": "name", "message": "not a message name"}])
        work.send_message(current_user(), case_id, name, body["payload"])
        return _detail(case_id)


@blp.route("/<int(max=2147483647):case_id>/complaints")
class CaseComplaints(MethodView):
    @blp.arguments(ComplaintSchema)
    @blp.response(201, CaseDetailSchema)
    def post(self, body, case_id):
        """File a complaint about a case (customers: their organisation's; front-line staff: any). It
        runs the complaint process as a case of its own, linked to this one; the answer is the complaint."""
        complaint = complaints.file_complaint(current_user(), case_id, body["description"])
        return _detail(complaint.id, 201)


@blp.route("/<int(max=2147483647):case_id>/self-service")
class SelfService(MethodView):
    @blp.arguments(SelfServiceSchema)
    @blp.response(200, CaseDetailSchema)
    def post(self, body, case_id):
        """The customer's question is answered by a published article: the case closes without
        agent work (only while it waits for its classification)."""
        self_service.answered_by_article(current_user(), case_id, body["article_id"])
        return _detail(case_id)


@blp.route("/<int(max=2147483647):case_id>/replies")
class CaseReplies(MethodView):
    @blp.arguments(ReplySchema)
    @blp.response(201, ReplyRouteSchema)
    def post(self, body, case_id):
        """Write to the customer: a public reply in the history, sent on the case's channel (mail
        in the customer's thread, a post to their chat conversation, or — for hotline cases — a
        note to call them back)."""
        return replies.staff_reply(current_user(), case_id, body["text"])
