"""What front-line staff and customers do from the case page beyond its own forms: file a
complaint about the case (cases/casework/complaints.py), and staff write to the customer on the case's
channel (cases/outbox/replies.py); the hotline call-backs still to make (cases/channels/inbound.py). Each POST
is one use case, one transaction, as the API's POST /cases/{id}/complaints and /replies."""
from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import complaints
from cases.channels import inbound as channels
from cases.core.db import db
from cases.core.errors import Conflict, ValidationFailed
from cases.core.models import Case
from cases.outbox import replies
from web import timeline
from web.case_pages import case_page
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("case_actions")

MAX_TEXT = 20000
CASE = "/cases/<int(max=2147483647):case_id>"


def _text() -> tuple[str, str | None]:
    """The form's ``text`` and why it cannot be sent (None when it can)."""
    text = request.form.get("text", "").strip()
    if not text:
        return text, _("Write the text first. Nothing was sent.")
    if len(text) > MAX_TEXT:
        return text, _("This is too long: at most %(n)d characters (now %(len)d). Nothing was sent.",
                       n=MAX_TEXT, len=len(text))
    return text, None


def _again(case_id: int, form: str, text: str, why: str, status: int = 422) -> Any:
    """The case page again with the text typed into ``form`` and the reason beside it."""
    return case_page(case_id, status, typed={form: text}, typed_errors={form: why})


def _back(case_id: int, anchor: str):
    return redirect(url_for("case_pages.case", case_id=case_id) + anchor, 303)


@blp.post(f"{CASE}/complaints")
def complain(case_id: int):
    """A customer (their organisation's case) or front-line staff file a complaint about the case."""
    text, why = _text()
    if why:
        return _again(case_id, "complaint", text, why)
    try:
        complaint = complaints.file_complaint(current_user(), case_id, text)
    except ValidationFailed as exc:
        return _again(case_id, "complaint", text, _("No complaint was filed: %(reason)s", reason=exc.message))
    flash(_("Complaint %(number)s is filed; a complaint officer takes it up.", number=complaint.number), "success")
    return _back(case_id, "#complaints")


#: what the page says after a reply, by how it went (cases/outbox/replies.py Route.via)
SENT_BY = {
    replies.MAIL: lambda to: _("The reply was sent by mail to %(to)s.", to=to),
    replies.CHAT: lambda to: _("The reply was posted to the chat conversation %(to)s.", to=to),
    replies.CALL: lambda to: _("The customer has no mail or chat on this case: a call-back note was left for the "
                               "service desk."),
}


@blp.post(f"{CASE}/replies")
def reply(case_id: int):
    """Front-line staff write to the customer; it goes out on the case's channel."""
    text, why = _text()
    if why:
        return _again(case_id, "reply", text, why)
    try:
        route = replies.staff_reply(current_user(), case_id, text)
    except Conflict:
        return _again(case_id, "reply", text, _("The case is closed. Nothing was sent."), 409)
    flash(SENT_BY[route.via](route.to), "success")
    return _back(case_id, "#reply")


@blp.get("/callbacks")
def callbacks():
    """Hotline customers to call back: replies on phone cases waiting for a call (oldest first)."""
    return render("callbacks.html", callbacks=channels.pending_callbacks(current_user()))


def linked(case: Case) -> dict:
    """For the case page: the case a complaint is about, and the complaints about this case."""
    parent = db.session.get(Case, case.parent_case_id) if case.parent_case_id else None
    return {"parent": parent, "complaints": complaints.linked_cases(case)}


def register(app: Flask) -> None:
    app.jinja_env.globals.update(linked_cases=linked, notice_text=timeline.notice_text,
                                 said_label=timeline.said_label, said_author=timeline.said_author)
