"""The case list and the case page: fields, timeline, attachments, SLA clock, the diagram; the
customer's answer to a request for information."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import attachments, bulk, conversation, queries
from cases.casework import tasks as work
from cases.core import accounts
from cases.core.access import FRONT_LINE_ROLES
from cases.core.errors import TooLarge, ValidationFailed
from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES, CaseKind, CaseStatus
from cases.process import diagrams, names
from gateway.downloads import download_response
from web import intake_form, list_views, timeline
from web.display import clock, word
from web.i18n import html_lang, is_chinese
from web.inbox import bulk_reason
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("case_pages")

STATUSES = tuple(s.value for s in CaseStatus)
KINDS = tuple(k.value for k in CaseKind)
#: the messages a customer answers on the case page, by the stage that waits for them
CUSTOMER_ANSWERS = {"waiting:customer_reply": "customer_reply", "waiting:customer_data": "customer_data"}


#: the case list's filters with a fixed set of values (the others: q and product are text, owner a user
#: name, customer_id a customer's id, stage one of the stages cases are in)
CASE_CHOICES = {"status": STATUSES, "priority": PRIORITIES, "kind": KINDS, "category": CATEGORIES,
                "channel": CHANNELS}
CASE_FILTERS = ("q", "status", "stage", "priority", "category", "owner", "customer_id", "channel", "kind", "product")
PER_PAGE = 50


def case_filters(args: Any, user: Any) -> dict[str, Any]:
    """The case list's filters from a query string: unknown values are dropped, never an error."""
    filters: dict[str, Any] = {}
    for key in CASE_FILTERS:
        value = (args.get(key) or "").strip()
        if not value or len(value) > 200:
            continue
        if key in CASE_CHOICES and value not in CASE_CHOICES[key]:
            continue
        if key == "customer_id":
            if not value.isdigit() or len(value) > 9:
                continue
            filters[key] = int(value)
        elif key == "owner" and value not in {u.username for u in _staff(user)}:
            continue
        else:
            filters[key] = value
    return filters


def _staff(user: Any) -> list[Any]:
    return accounts.staff_with_role(user) if user.is_staff else []


def page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), 100000)) if raw.isdigit() and len(raw) < 7 else 1


@blp.get("/cases")
def cases() -> Any:
    return _cases()


def _case_rows() -> list[bulk.CaseRow]:
    """The selected rows: ``row`` values "<case id>:<priority>:<owner>" as the page showed them."""
    rows = []
    for raw in request.form.getlist("row")[: bulk.MAX_ROWS + 1]:
        case_id, _sep, rest = raw.partition(":")
        priority, _sep, owner = rest.partition(":")
        if case_id.isdigit() and len(case_id) < 10:
            rows.append(bulk.CaseRow(int(case_id), priority[:20], owner[:100]))
    return rows


@blp.post("/cases/bulk")
def bulk_action() -> Any:
    """Supervisors: take over, reassign or change the priority of the selected cases, each on its own;
    every row's result is reported (a case changed since the page showed it is left as it is)."""
    form = request.form
    try:
        results = bulk.run_cases(current_user(), form.get("action", ""), _case_rows(),
                                 username=form.get("username") or None, priority=form.get("priority") or None,
                                 reason=(form.get("reason") or "").strip()[:2000])
    except ValidationFailed as exc:
        field = str(exc.errors[0].get("field") or "") if exc.errors else ""
        flash({"rows": _("Choose at least one row (at most %(n)d).", n=bulk.MAX_ROWS),
               "username": _("Choose the colleague to give the cases to."),
               "priority": _("Choose a priority."), "reason": _("Give a reason for the new priority."),
               "action": _("Choose what to do with the rows.")}.get(field, exc.message), "error")
        query = request.query_string.decode("utf-8", "replace")
        return redirect(url_for("case_pages.cases") + (f"?{query}" if query else ""), 303)
    return _cases([(r, bulk_reason(r)) for r in results])


def _cases(results: list[tuple[bulk.Result, str]] | None = None) -> Any:
    user = current_user()
    filters = case_filters(request.args, user)
    page = queries.list_cases(user, dict(filters), page_number(), PER_PAGE)
    return render("cases.html", page=page, filters=filters, statuses=STATUSES, priorities=PRIORITIES, kinds=KINDS,
                  categories=CATEGORIES, channels=CHANNELS, stages=queries.case_stages(user), owners=_staff(user),
                  customers=queries.list_customers(user) if user.is_staff else [],
                  may_bulk=user.has_role(*bulk.BULK_ROLES), bulk_results=results,
                  **list_views.views_context("cases"))


#: how a customer reached the front line (web: the portal's own)
STAFF_CHANNELS = ("phone", "email", "chat", "im", "vip", "web")


def _new_case_form(status: int = 200, values: dict | None = None, errors: dict | None = None):
    user = current_user()
    return render("new_case.html", status, values=values or {"channel": "phone"}, errors=errors or {},
                  labels=intake_form.labels(), fields=intake_form.FIELDS, action=url_for("case_pages.new_case"),
                  heading=_("Open a case for a customer"),
                  customers=[(c.id, f"{c.name} ({c.code})") for c in queries.list_customers(user)],
                  channels=[(c, word(c)) for c in STAFF_CHANNELS], form_token=intake_form.form_token(),
                  **intake_form.limits())


@blp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    """Front-line staff open a case for a customer (a call, a mail), with files."""
    if request.method == "GET":
        return _new_case_form()
    values = intake_form.submitted(("customer_id", "channel"))
    fields: dict = {k: v for k, v in values.items() if v}
    if "customer_id" not in fields:
        return _new_case_form(422, values, {"customer_id": _("This field is required.")})
    fields["customer_id"] = int(fields["customer_id"]) if fields["customer_id"].isdigit() else -1
    case, errors, repeated = intake_form.open_case(current_user(), fields)
    if errors or case is None:
        return _new_case_form(422, values, errors)
    if repeated:
        flash(_("This form was sent already: here is the case %(number)s it opened. Nothing new was opened.",
                number=case.number), "info")
    else:
        flash(_("Case %(number)s is open.", number=case.number), "success")
    return redirect(url_for("case_pages.case", case_id=case.id), 303)


@blp.get("/cases/<int(max=2147483647):case_id>")
def case(case_id: int):
    return case_page(case_id)


def case_page(case_id: int, status: int = 200, write_text: str | None = None,
              typed: dict[str, str] | None = None, typed_errors: dict[str, str] | None = None, **reply: Any) -> Any:
    """The case page; after a refused form, with the text typed into it (``typed`` by form: answer,
    reply, complaint) and the reason beside the field (``typed_errors``); ``reply``: the reply form's
    state when shown again (``reply_text``, and the knowledge-base search ``kb_q`` with its ``kb_hits``:
    web/knowledge_pages.py)."""
    typed = dict(typed or {})
    if reply.get("reply_text") is not None:
        typed.setdefault("reply", reply.pop("reply_text"))
    user = current_user()
    view = queries.case_view(user, case_id)
    answer = CUSTOMER_ANSWERS.get(view.case.stage)
    may_write = user.is_customer or user.has_role(*FRONT_LINE_ROLES)
    may_answer = answer is not None and may_write
    return render("case.html", status, case=view.case, tasks=view.tasks, entries=timeline.entries(view.history, user),
                  # staff read the whole history (the customer's view holds the public part only)
                  conversation=conversation.thread(user, case_id, view.history if view.internal else None),
                  may_write=may_write, write_text=write_text,
                  max_text=conversation.MAX_TEXT, typed=typed, typed_errors=typed_errors or {},
                  files=attachments.list_for_case(user, case_id), clock=clock(view.case),
                  diagrams=diagrams.case_diagrams(user, case_id) if user.is_staff else [],
                  answer=answer if may_answer else None,
                  question=queries.open_question(user, case_id) if answer else None, **reply)


@blp.get("/cases/<int(max=2147483647):case_id>/diagram.bpmn")
def diagram(case_id: int):
    """The BPMN XML of the file that defines ``?process=`` (default: the case's top process) in
    the case's process version: what the diagram viewer on the case page loads."""
    filename, xml = diagrams.diagram_xml(current_user(), case_id, request.args.get("process"))
    xml = names.localized_bpmn(xml, is_chinese())
    return Response(xml, mimetype="application/xml",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Vary": "Cookie, Accept-Language",
                             "Content-Language": html_lang(),
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


@blp.post("/cases/<int(max=2147483647):case_id>/messages")
def write(case_id: int) -> Any:
    """The customer writes to support at any time (front-line staff for them): the answer when the case
    waits for one (it wakes the waiting step), else a message to the case's owner."""
    text = request.form.get("text", "")
    try:
        _case, answered = conversation.write_to_support(current_user(), case_id, text)
    except ValidationFailed as exc:
        field = exc.errors[0] if exc.errors else {}
        if field.get("rule") == "maxLength":
            flash(_("The message is too long (at most %(n)d characters). Nothing was sent.", n=conversation.MAX_TEXT),
                  "error")
        elif text.strip():
            flash(_("The case is closed: open a new case to write to us. Nothing was sent."), "error")
        else:
            flash(_("Write your message first. Nothing was sent."), "error")
        return case_page(case_id, 422, text)
    flash(_("Your answer was sent.") if answered else _("Your message was sent to support."), "success")
    return redirect(url_for("case_pages.case", case_id=case_id) + "#conversation", 303)


@blp.post("/cases/<int(max=2147483647):case_id>/answer")
def answer(case_id: int):
    """The customer's (or an agent's on their behalf) answer to the case's request for information."""
    user = current_user()
    view = queries.case_view(user, case_id)
    message = CUSTOMER_ANSWERS.get(view.case.stage)
    text = request.form.get("text", "").strip()
    if message is None:
        if not text:
            flash(_("The case is not waiting for an answer any more. Nothing was sent."), "error")
            return redirect(url_for("case_pages.case", case_id=case_id), 303)
        flash(_("The case is not waiting for an answer any more. Nothing was sent."), "error")
        return case_page(case_id, 409, text)  # what was typed goes to the "write to us" box
    if not text:
        return case_page(case_id, 422, typed={"answer": text},
                         typed_errors={"answer": _("Write your answer first. Nothing was sent.")})
    if len(text) > conversation.MAX_TEXT:
        return case_page(case_id, 422, typed={"answer": text}, typed_errors={"answer": _(
            "This is too long: at most %(n)d characters (now %(len)d). Nothing was sent.",
            n=conversation.MAX_TEXT, len=len(text))})
    work.send_message(user, case_id, message, {"text": text})
    flash(_("Your answer was sent."), "success")
    return redirect(url_for("case_pages.case", case_id=case_id), 303)


@blp.before_request
def _allow_attachment_bodies():
    if request.endpoint == "case_pages.upload":  # a too large file: the page says so (no 413)
        intake_form.allow_large_bodies()
    elif request.endpoint == "case_pages.new_case" and request.method == "POST":
        intake_form.allow_large_bodies()


@blp.post("/cases/<int(max=2147483647):case_id>/attachments")
def upload(case_id: int):
    user = current_user()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to attach."), "error")
        return redirect(url_for("case_pages.case", case_id=case_id), 303)
    data = upload.read(attachments.max_bytes() + 1)
    try:
        attachments.check_size(len(data))
        item = attachments.add(user, case_id, upload.filename, data,
                               public=user.is_customer or request.form.get("public") == "on")
    except TooLarge:
        flash(_("The file is too large (at most %(mb)d MB).", mb=attachments.max_bytes() // (1024 * 1024)), "error")
    except ValidationFailed as exc:
        flash(_("The file was not attached: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("“%(name)s” is attached.", name=item.filename), "success")
    return redirect(url_for("case_pages.case", case_id=case_id) + "#attachments", 303)


@blp.get("/attachments/<int(max=2147483647):attachment_id>")
def download(attachment_id: int):
    return download_response(attachments.open_download(current_user(), attachment_id))
