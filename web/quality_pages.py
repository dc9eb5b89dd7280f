"""Quality audits (cases/service/quality.py; the API: /api/v1/quality): the audits with the form to draw
a period's sample, and a drawn case's audit against the checklist."""
from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import flash, request
from flask_babel import gettext as _

from cases.core.errors import Conflict, PreconditionRequired, ValidationFailed
from cases.core.models import utcnow
from cases.kpis.figures import Period
from cases.service import quality
from web.pages import back_to, current_user, page_blueprint, render
from web.service_forms import day, refusals

blp = page_blueprint("quality_pages", url_prefix="/service/quality")


def _last_quarter(today: date) -> tuple[date, date]:
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - relativedelta(months=3)
    return first, first + relativedelta(months=3) - relativedelta(days=1)


def _index(status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None) -> Any:
    first, last = _last_quarter(utcnow().date())
    return render("quality/index.html", status, audits=quality.audits(current_user()),
                  values=values or {"from": first.isoformat(), "to": last.isoformat(),
                                    "share": str(int(quality.default_share() * 100))},
                  errors=errors or {})


@blp.get("")
def index() -> Any:
    return _index()


@blp.post("/samples")
def draw() -> Any:
    values = {name: request.form.get(name, "").strip() for name in ("from", "to", "share")}
    errors: dict[str, str] = {}
    first, last = day(values["from"]), day(values["to"])
    for name, value in (("from", first), ("to", last)):
        if value is None:
            errors[name] = _("A date.")
    try:
        share = float(values["share"]) / 100 if values["share"] else None
    except ValueError:
        share = -1.0
    if share is not None and not 0 < share <= 1:
        errors["share"] = _("A percentage above 0 and at most 100.")
    if errors or first is None or last is None:
        return _index(422, values, errors)
    try:
        drawn = quality.draw(current_user(), Period(first, last), share)
    except ValidationFailed as exc:
        return _index(422, values, refusals(exc))
    flash(_("%(n)d cases drawn for audit.", n=len(drawn)), "success")
    return back_to("quality_pages.index")


def _audit(audit_id: int, status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None) -> Any:
    row = quality.get(current_user(), audit_id)
    checked = values if values is not None else (row.checklist or quality.suggested(row.case))
    return render("quality/audit.html", status, a=row, checklist=quality.CHECKLIST, checked=checked,
                  suggested=row.checklist is None, errors=errors or {})


@blp.get("/<int(max=2147483647):audit_id>")
def audit(audit_id: int) -> Any:
    return _audit(audit_id)


@blp.post("/<int(max=2147483647):audit_id>")
def record(audit_id: int) -> Any:
    checklist = {key: request.form.get(key) == "on" for key in quality.CHECKLIST}
    notes = request.form.get("notes", "").strip()
    if len(notes) > 10000:
        return _audit(audit_id, 422, checklist, {"notes": _("At most %(n)d characters.", n=10000)})
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        row = quality.record(current_user(), audit_id, version, checklist, notes or None)
    except ValidationFailed as exc:
        return _audit(audit_id, 422, checklist, refusals(exc))
    except (Conflict, PreconditionRequired):
        return _audit(audit_id, 409, checklist, {"notes": _("Someone changed the audit meanwhile: reload and "
                                                            "audit again.")})
    flash(_("Audit recorded: score %(score)d.", score=row.score or 0), "success")
    return back_to("quality_pages.index")
