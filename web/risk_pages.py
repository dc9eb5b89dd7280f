"""The risk register (cases/service/risks.py; the API: /api/v1/risks): the register with the reviews
due and the form to raise a risk; a risk's page (evidence, reviews, the review form, link a case);
raising a risk from the case page."""
from __future__ import annotations

from typing import Any

from flask import Flask, flash, request
from flask_babel import gettext as _

from cases.casework import queries
from cases.core.errors import Conflict, PreconditionRequired, ValidationFailed
from cases.service import risks
from web.pages import back_to, current_user, page_blueprint, render
from web.service_forms import day, refusals, required, whole

blp = page_blueprint("risk_pages", url_prefix="/service/risks")

LIMITS = {"title": 200, "description": 10000, "contingency_plan": 10000, "owner": 80, "note": 500}


def _index(status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None) -> Any:
    user = current_user()
    shown = request.args.get("status") if request.args.get("status") in (risks.OPEN, risks.CLOSED) else risks.OPEN
    return render("risks/index.html", status, risks=risks.register(user, {"status": shown}), shown=shown,
                  due=risks.register(user, {"review_due": True}), kinds=risks.KINDS, levels=risks.LEVELS,
                  customers=queries.list_customers(user),
                  values=values or {"kind": "technical", "level": "medium"}, errors=errors or {})


@blp.get("")
def index() -> Any:
    return _index()


def _read(form: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    values = {name: form.get(name, "").strip() for name in (*LIMITS, "kind", "level", "review_on", "customer_id",
                                                          "case_id")}
    errors: dict[str, str] = {}
    required(values, ("title", "kind", "level", "contingency_plan", "review_on"), errors)
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
    fields: dict[str, Any] = {name: values[name] or None for name in ("title", "description", "kind", "level",
                                                                      "contingency_plan", "owner", "note")}
    if values["review_on"]:
        fields["review_on"] = day(values["review_on"])
        if fields["review_on"] is None:
            errors["review_on"] = _("A date.")
    for name in ("customer_id", "case_id"):
        if values[name]:
            fields[name] = whole(values[name], 1, 2**31 - 1)
    return values, fields, errors


@blp.post("")
def raise_risk() -> Any:
    values, fields, errors = _read(request.form)
    if errors:
        return _index(422, values, errors)
    try:
        row = risks.raise_risk(current_user(), fields)
    except ValidationFailed as exc:
        return _index(422, values, refusals(exc))
    flash(_("The risk is in the register."), "success")
    return back_to("risk_pages.risk", risk_id=row.id)


@blp.post("/from-case/<int(max=2147483647):case_id>")
def from_case(case_id: int) -> Any:
    """The case page's "raise a risk": the case is its first evidence."""
    values, fields, errors = _read(request.form)
    fields["case_id"] = case_id
    if not errors:
        try:
            row = risks.raise_risk(current_user(), fields)
        except ValidationFailed as exc:
            errors = refusals(exc)
        else:
            flash(_("The risk is in the register, with this case as evidence."), "success")
            return back_to("risk_pages.risk", risk_id=row.id)
    flash(_("The risk was not raised: %(why)s", why="; ".join(f"{k}: {v}" for k, v in errors.items())), "error")
    return back_to("case_pages.case", case_id=case_id)


def _risk(risk_id: int, status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None) -> Any:
    row = risks.risk(current_user(), risk_id)
    may_review = current_user().has_role(*risks.MANAGERS) or current_user().id == row.owner_id
    return render("risks/risk.html", status, r=row, kinds=risks.KINDS, levels=risks.LEVELS, may_review=may_review,
                  review_task=risks.review_task(row), values=values or {"level": row.level}, errors=errors or {})


@blp.get("/<int(max=2147483647):risk_id>")
def risk(risk_id: int) -> Any:
    return _risk(risk_id)


@blp.post("/<int(max=2147483647):risk_id>/reviews")
def review(risk_id: int) -> Any:
    values = {name: request.form.get(name, "").strip() for name in ("level", "notes", "next_review_on", "version")}
    values["close"] = "on" if request.form.get("close") == "on" else ""
    errors: dict[str, str] = {}
    required(values, ("notes",), errors)
    fields: dict[str, Any] = {"level": values["level"] or None, "notes": values["notes"], "close": bool(values["close"]),
                              "next_review_on": None}
    if values["next_review_on"]:
        fields["next_review_on"] = day(values["next_review_on"])
        if fields["next_review_on"] is None:
            errors["next_review_on"] = _("A date.")
    if errors:
        return _risk(risk_id, 422, values, errors)
    try:
        risks.review_risk(current_user(), risk_id, fields, whole(values["version"], 1, 2**31 - 1))
    except ValidationFailed as exc:
        return _risk(risk_id, 422, values, refusals(exc))
    except (Conflict, PreconditionRequired):
        return _risk(risk_id, 409, values, {"notes": _("Someone changed the risk meanwhile: reload and review again.")})
    flash(_("The review is recorded."), "success")
    return back_to("risk_pages.risk", risk_id=risk_id)


@blp.post("/<int(max=2147483647):risk_id>/links")
def link(risk_id: int) -> Any:
    number = request.form.get("case", "").strip()
    case = risks.case_numbered(current_user(), number) if number else None
    try:
        if case is None:
            raise ValidationFailed("no case", [{"field": "case_id", "message": _("No case with that number.")}])
        risks.link_case(current_user(), risk_id, {"case_id": case.id, "note": request.form.get("note") or None})
    except ValidationFailed as exc:
        return _risk(risk_id, 422, {"case": number}, {"case": refusals(exc).get("case_id")})
    flash(_("The case is linked as evidence."), "success")
    return back_to("risk_pages.risk", risk_id=risk_id)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(case_risks=risks.of_case, risk_kinds=risks.KINDS, risk_levels=risks.LEVELS)
