"""The customer portal: my organisation's cases and what waits for me (tasks, satisfaction
surveys to answer); opening a case with attachments (one transaction: the case and its files, or
nothing); rating the service (cases/casework/surveys.py, as POST /api/v1/surveys/{id}/answer)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import conversation, queries, surveys
from cases.core.errors import Conflict, Gone, ValidationFailed
from cases.core.models import utcnow
from web import intake_form
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("portal", url_prefix="/portal")

SCORES = (1, 2, 3, 4, 5)
#: answered or expired surveys shown below the open ones
RECENT_SURVEYS = 10
PER_PAGE = 50


def _home(status: int = 200, survey_errors: dict | None = None, values: dict | None = None):
    user = current_user()
    raw = request.args.get("page", "1")
    q = request.args.get("q", "").strip()[:200]
    cases = queries.list_cases(user, {"q": q} if q else {}, max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1,
                               PER_PAGE)
    waiting = queries.list_tasks(user, "all", {}, 1, 50).items
    now = utcnow()
    all_surveys = surveys.list_surveys(user, None, open_only=False)
    open_surveys = [s for s in all_surveys if not s.is_answered and s.expires_at > now]
    done = [s for s in all_surveys if s not in open_surveys][:RECENT_SURVEYS]
    questions = [c for c in queries.list_cases(user, {"status": "open"}, 1, 200).items
                 if conversation.waiting_message(c) is not None]
    return render("portal/home.html", status, page=cases, waiting=waiting, open_surveys=open_surveys, questions=questions,
                  past_surveys=done, scores=SCORES, survey_errors=survey_errors or {}, values=values or {}, q=q)


@blp.get("")
def home():
    return _home()


def _survey_errors(exc: ValidationFailed) -> dict[str, str]:
    messages = {"score": _("Choose a score from 1 to 5."),
                "comment": _("At most %(n)d characters.", n=surveys.MAX_COMMENT)}
    return {e["field"]: messages.get(e["field"], e["message"]) for e in exc.errors}


@blp.post("/surveys/<int(max=2147483647):survey_id>")
def answer_survey(survey_id: int):
    """The customer rates the service (score 1-5 and a comment), once, while the survey is open."""
    raw_score, comment = request.form.get("score", ""), request.form.get("comment", "").strip()
    score = int(raw_score) if raw_score.isdigit() and len(raw_score) < 3 else raw_score or None
    try:
        survey = surveys.answer_as_customer(current_user(), survey_id, score, comment or None)
    except ValidationFailed as exc:
        return _home(422, {survey_id: _survey_errors(exc)}, {survey_id: {"score": raw_score, "comment": comment}})
    except Conflict:
        flash(_("This survey has been answered already. Thank you."), "info")
    except Gone:
        flash(_("This survey has expired; it can no longer be answered."), "error")
    else:
        flash(_("Thank you for your rating."), "success")
        if survey.complaint_case_id:
            flash(_("We are sorry. Your rating opened a complaint; a complaint officer will contact you."), "info")
    return redirect(url_for("portal.home") + "#surveys", 303)


def _form(status: int = 200, values: dict | None = None, errors: dict | None = None):
    return render("new_case.html", status, values=values or {}, errors=errors or {}, labels=intake_form.labels(),
                  fields=intake_form.FIELDS, action=url_for("portal.new_case"), heading=_("Report a new problem"),
                  form_token=intake_form.form_token(), **intake_form.limits())


@blp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    if request.method == "GET":
        return _form()
    values = intake_form.submitted()
    case, errors, repeated = intake_form.open_case(current_user(),
                                                   {**{k: v for k, v in values.items() if v}, "channel": "web"})
    if errors or case is None:
        return _form(422, values, errors)
    if repeated:
        flash(_("This form was sent already: here is the case %(number)s it opened. Nothing new was opened.",
                number=case.number), "info")
    else:
        flash(_("Your case %(number)s is open. We will answer soon.", number=case.number), "success")
    return redirect(url_for("case_pages.case", case_id=case.id), 303)


@blp.before_request
def _allow_attachment_bodies():
    if request.endpoint == "portal.new_case" and request.method == "POST":
        intake_form.allow_large_bodies()  # (already set by web._body_limits, before the CSRF check)
