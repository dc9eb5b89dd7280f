"""The customer portal: my organisation's cases, opening a case."""
from __future__ import annotations

from cases import queries

from .pages import current_user, page_blueprint, render

blp = page_blueprint("portal", url_prefix="/portal")


@blp.get("")
def home():
    page = queries.list_cases(current_user(), {}, 1, 50)
    return render("portal/home.html", page=page)


@blp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    return render("portal/new_case.html", values={}, errors={})
