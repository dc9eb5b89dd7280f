"""The page a survey mail links to: no log-in, the link's unguessable, single-use, expiring token is
the credential (unknown tokens are rate-limited per address, cases/casework/surveys.py). Bilingual on
one page, since the person holding the link may not have chosen a language."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from cases.casework import surveys
from cases.core.errors import DomainError, TooManyAttempts, ValidationFailed
from web.pages import TEMPLATE_DIR

blp = Blueprint("survey_page", __name__, template_folder=str(TEMPLATE_DIR))
TOKEN = "<string(minlength=1,maxlength=200):token>"


def _page(template: str, status: int = 200, **values):
    return render_template(template, **values), status, {"Content-Type": "text/html; charset=utf-8",
                                                          "Cache-Control": "no-store",
                                                          "Referrer-Policy": "no-referrer"}


def _refused(error: DomainError):
    status = {"survey_answered": 409, "survey_expired": 410, "not_found": 404}.get(error.code, 400)
    headers = {}
    if isinstance(error, TooManyAttempts):
        status = 429
    page = _page("survey_link/survey_closed.html", status, code=error.code if status != 429 else "too_many")
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    return page[0], page[1], {**page[2], **headers}


@blp.route(f"/survey/{TOKEN}", methods=["GET", "POST"])
def survey_page(token: str):
    """The bilingual page a survey mail links to: a 1-5 score and a comment."""
    try:
        if request.method == "GET":
            survey = surveys.read_by_token(token, remote_addr=request.remote_addr)
            return _page("survey_link/survey.html", survey=survey)
        raw, comment = request.form.get("score", ""), request.form.get("comment") or None
        score = int(raw) if raw.isdigit() else None
        try:
            survey = surveys.answer_by_token(token, score, comment, remote_addr=request.remote_addr)
        except ValidationFailed as invalid:
            survey = surveys.read_by_token(token, remote_addr=request.remote_addr)
            return _page("survey_link/survey.html", 422, survey=survey, errors=invalid.errors,
                         comment=comment or "")
        return _page("survey_link/survey_thanks.html", survey=survey)
    except DomainError as error:
        return _refused(error)
