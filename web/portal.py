"""The customer portal: my organisation's cases and what waits for me; opening a case with
attachments (one transaction: the case and its files, or nothing)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases import attachments, intake, queries
from cases.db import unit_of_work
from cases.errors import TooLarge, ValidationFailed

from .pages import current_user, page_blueprint, render

blp = page_blueprint("portal", url_prefix="/portal")

#: the fields of the form, in order: (name, widget)
FIELDS = (("title", "text"), ("description", "textarea"), ("environment", "textarea"),
          ("steps_to_reproduce", "textarea"), ("contact_name", "text"), ("contact_phone", "tel"),
          ("contact_email", "email"))
MAX_FILES = 5


def labels() -> dict[str, str]:
    return {"title": _("Subject"), "description": _("What happened?"),
            "environment": _("Environment (version, operating system, database)"),
            "steps_to_reproduce": _("Steps to reproduce"), "contact_name": _("Contact person"),
            "contact_phone": _("Phone"), "contact_email": _("E-mail"), "files": _("Attachments")}


@blp.get("")
def home():
    user = current_user()
    cases = queries.list_cases(user, {}, 1, 100)
    waiting = queries.list_tasks(user, "all", {}, 1, 50).items
    return render("portal/home.html", page=cases, waiting=waiting)


def _problems(fields: dict) -> dict[str, str]:
    """The API's own check of a new case (api/resources/case_schemas.py), as messages per field."""
    from api.resources.case_schemas import CaseCreateSchema
    found = CaseCreateSchema().validate(fields)
    out = {}
    for name, messages in found.items():
        text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        if "required" in text.lower() or (name in ("title", "description") and not fields.get(name)):
            out[name] = _("This field is required.")
        elif "email" in text.lower():
            out[name] = _("Enter an e-mail address.")
        else:
            out[name] = _("This is too long.")
    return out


@blp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    if request.method == "GET":
        return render("portal/new_case.html", values={}, errors={}, labels=labels(), fields=FIELDS)
    user = current_user()
    values = {name: request.form.get(name, "").strip() for name, _widget in FIELDS}
    fields = {k: v for k, v in values.items() if v}
    fields["channel"] = "web"
    errors = _problems(fields)
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if len(uploads) > MAX_FILES:
        errors["files"] = _("At most %(n)d files.", n=MAX_FILES)
    if errors:
        return render("portal/new_case.html", 422, values=values, errors=errors, labels=labels(), fields=FIELDS)
    try:
        with unit_of_work():
            case = intake.open_case(user, fields)
            for upload in uploads:
                data = upload.read(attachments.max_bytes() + 1)
                attachments.check_size(len(data))
                attachments.add(user, case.id, upload.filename, data)
    except TooLarge:
        errors["files"] = _("A file is too large (at most %(mb)d MB). Nothing was sent.",
                            mb=attachments.max_bytes() // (1024 * 1024))
    except ValidationFailed as exc:
        errors["files"] = _("A file was refused: %(reason)s. Nothing was sent.", reason=exc.message)
    if errors:
        return render("portal/new_case.html", 422, values=values, errors=errors, labels=labels(), fields=FIELDS)
    flash(_("Your case %(number)s is open. We will answer soon.", number=case.number), "success")
    return redirect(url_for("case_pages.case", case_id=case.id), 303)


@blp.before_request
def _allow_attachment_bodies():
    if request.endpoint == "portal.new_case" and request.method == "POST":
        request.max_content_length = MAX_FILES * attachments.max_bytes() + 64 * 1024
