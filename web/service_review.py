"""The quarterly service review page (cases/service/review.py, docs/service.md): a quarter, for one customer
or the whole service; every registered section with its figures against the plan's targets and its detail
tables; a print view to hand over or save as PDF from the browser, and the same figures as CSV."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cases.core.db import db
from cases.core.errors import ValidationFailed
from cases.core.models import Customer
from cases.kpis.figures import TIMEZONE
from cases.service import review
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("service_review_page", url_prefix="/service/review")

#: how many quarters back the choice offers
QUARTERS_OFFERED = 8
FIELD_TEXTS = {"quarter": _l("Choose one of the quarters."), "customer_id": _l("Not one of the choices.")}


def _quarters(today: date) -> list[str]:
    year, number, offered = today.year, (today.month - 1) // 3 + 1, []
    for _step in range(QUARTERS_OFFERED):
        offered.append(f"{year}-Q{number}")
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return offered


def _arguments() -> tuple[str, int | None, dict[str, str]]:
    errors: dict[str, str] = {}
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    quarter = request.args.get("quarter", "").strip() or review.quarter_of(today)
    raw = request.args.get("customer_id", "").strip()
    customer_id = None
    if raw:
        if raw.isdigit() and len(raw) <= 9:
            customer_id = int(raw)
        else:
            errors["customer_id"] = str(FIELD_TEXTS["customer_id"])
    return quarter, customer_id, errors


def _review() -> tuple[review.Review | None, dict[str, Any]]:
    quarter, customer_id, errors = _arguments()
    customers = db.session.scalars(select(Customer).where(Customer.internal.is_(False)).order_by(Customer.name)).all()
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    context = {"quarter": quarter, "customer_id": customer_id, "customers": customers, "errors": errors,
               "quarters": _quarters(today)}
    if errors:
        return None, context
    try:
        result = review.quarterly_review(current_user(), quarter, customer_id)
    except ValidationFailed as exc:
        context["errors"] = {e["field"]: str(FIELD_TEXTS.get(e["field"], FIELD_TEXTS["customer_id"]))
                             for e in exc.errors}
        return None, context
    return result, context


@blp.get("")
def index() -> Any:
    result, context = _review()
    if result is None:
        return render("service_review/index.html", 422, **context)
    return render("service_review/index.html", result=result, **context)


@blp.get("/print")
def printable() -> Any:
    """The review alone on the page, laid out for paper (the browser's print or save as PDF)."""
    result, context = _review()
    if result is None:
        return render("service_review/index.html", 422, **context)
    return render("service_review/print.html", result=result, **context)


@blp.get("/export.csv")
def export() -> Any:
    result, context = _review()
    if result is None:
        return render("service_review/index.html", 422, **context)
    return Response(review.as_csv(result, gettext).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{review.csv_filename(result)}"'})
