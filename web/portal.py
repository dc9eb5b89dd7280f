"""The customer portal: my organisation's cases and what waits for me; opening a case with
attachments (one transaction: the case and its files, or nothing)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases import queries

from . import intake_form
from .pages import current_user, page_blueprint, render

blp = page_blueprint("portal", url_prefix="/portal")


@blp.get("")
def home():
    user = current_user()
    cases = queries.list_cases(user, {}, 1, 100)
    waiting = queries.list_tasks(user, "all", {}, 1, 50).items
    return render("portal/home.html", page=cases, waiting=waiting)


def _form(status: int = 200, values: dict | None = None, errors: dict | None = None):
    return render("new_case.html", status, values=values or {}, errors=errors or {}, labels=intake_form.labels(),
                  fields=intake_form.FIELDS, action=url_for("portal.new_case"), heading=_("Report a new problem"))


@blp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    if request.method == "GET":
        return _form()
    values = intake_form.submitted()
    case, errors = intake_form.open_case(current_user(), {**{k: v for k, v in values.items() if v}, "channel": "web"})
    if errors:
        return _form(422, values, errors)
    flash(_("Your case %(number)s is open. We will answer soon.", number=case.number), "success")
    return redirect(url_for("case_pages.case", case_id=case.id), 303)


@blp.before_request
def _allow_attachment_bodies():
    if request.endpoint == "portal.new_case" and request.method == "POST":
        request.max_content_length = intake_form.max_body()
