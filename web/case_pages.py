"""The case list and the case page."""
from __future__ import annotations

from flask import request

from cases import queries

from .pages import current_user, page_blueprint, render

blp = page_blueprint("case_pages")


@blp.get("/cases")
def cases():
    filters = {k: request.args[k] for k in ("status", "priority", "category", "q") if request.args.get(k)}
    page = queries.list_cases(current_user(), filters, 1, 50)
    return render("cases.html", page=page, filters=filters)


@blp.get("/cases/<int(max=2147483647):case_id>")
def case(case_id: int):
    view = queries.case_view(current_user(), case_id)
    return render("case.html", view=view, case=view.case)
