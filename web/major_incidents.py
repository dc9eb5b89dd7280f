"""Major incidents (cases/service/major_incidents.py, as /api/v1/major-incidents): the list, the
declaration from a case page, and the incident's page — its linked cases and what the resolution did
to each, its team, its updates, its SLA — with the forms to link cases, name the team, post an update
and resolve. Customers see the incidents affecting their cases: their cases and the public updates."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cases.core.access import visible_case
from cases.core.errors import Conflict, ValidationFailed
from cases.core.models import PRIORITIES, Case, utcnow
from cases.service import major_incidents
from cases.service.models import MajorIncident
from web import taskforms
from web.display import word
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("major_incident_pages", url_prefix="/major-incidents")

ITEM = "/<int(max=2147483647):incident_id>"
LIMITS = {"title": 200, "description": 10000, "text": 5000, "cause": 10000, "solution": 10000}
#: the resolve form's fields the page draws itself; any other field of the process's form
#: (forms/resolve_major_incident.schema.json, as a process owner changed it) is drawn from the schema
OWN_FIELDS = ("solution", "cause")


def _extra_fields(schema: dict[str, Any] | None, values: dict[str, Any],
                  errors: dict[str, str]) -> list[taskforms.Field]:
    if schema is None:
        return []
    extra = [f for f in taskforms.fields(schema, values) if f.name not in OWN_FIELDS]
    for item in extra:
        item.error = errors.get(item.name)
    return extra


def _number(raw: str) -> int:
    try:
        return max(1, int(raw))
    except ValueError:
        return 1


@blp.get("")
def index() -> Any:
    user = current_user()
    wanted = request.args.get("status")
    wanted = wanted if wanted in ("open", major_incidents.RESOLVED) else None
    page = major_incidents.list_incidents(user, wanted, _number(request.args.get("page", "1")), 50)
    return render("major_incidents/index.html", page=page, chosen=wanted)


# -- declaring from a case ----------------------------------------------------------------------

def _declare_form(case: Case, status: int = 200, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None) -> Any:
    return render("major_incidents/declare.html", status, case=case, priorities=PRIORITIES,
                  staff=major_incidents.staff_users(),
                  values=values or {"priority": case.priority or "urgent", "team": []}, errors=errors or {})


def _visible_case(raw: str | None) -> Case:
    return visible_case(current_user(), _number(raw or "0"))


@blp.get("/new")
def new() -> Any:
    return _declare_form(_visible_case(request.args.get("case")))


def _required(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    errors = {}
    for name in names:
        if not values.get(name):
            errors[name] = _("This field is required.")
        elif len(values[name]) > LIMITS[name]:
            errors[name] = _("At most %(n)d characters.", n=LIMITS[name])
    return errors


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    """The use case's problems by the form's field (``team.1`` is the team's field)."""
    return {e["field"].split(".")[0]: e["message"] for e in exc.errors}


@blp.post("/new")
def declare() -> Any:
    case = _visible_case(request.form.get("case_id"))
    values: dict[str, Any] = {name: request.form.get(name, "").strip() for name in ("title", "description", "priority")}
    values["team"] = request.form.getlist("team")
    errors = _required(values, ("title", "description"))
    if values["priority"] not in PRIORITIES:
        errors["priority"] = _("Choose a priority.")
    if errors:
        return _declare_form(case, 422, values, errors)
    try:
        incident = major_incidents.declare(current_user(), case.id, values)
    except ValidationFailed as exc:
        return _declare_form(case, 422, values, _field_errors(exc))
    flash(_("Major incident %(number)s is declared; its team works the linked cases.", number=incident.number),
          "success")
    return back_to("major_incident_pages.incident", incident_id=incident.id)


# -- the incident's page -------------------------------------------------------------------------

def _page(incident_id: int, status: int = 200, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None) -> Any:
    user = current_user()
    view = major_incidents.view(user, incident_id)
    now = utcnow()
    sla = [{**t, "status": major_incidents.sla_status(t, now), "due_at": _instant(t["due_at"]),
            "met_at": _instant(t["met_at"])} for t in view.incident.sla or []]
    escalations = [{**e, "at": _instant(e["at"])} for e in view.incident.escalations or []]
    values = values or {"public": True}
    extra = _extra_fields(major_incidents.resolve_form(view.incident) if view.may_work else None, values,
                          errors or {})
    return render("major_incidents/incident.html", status, view=view, incident=view.incident, sla=sla,
                  escalations=escalations, extra_fields=extra,
                  staff=major_incidents.staff_users() if view.may_lead else [],
                  values=values, errors=errors or {})


@blp.get(ITEM)
def incident(incident_id: int) -> Any:
    return _page(incident_id)


def _version(incident_id: int) -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _refused(incident_id: int, values: dict[str, Any], exc: Conflict | ValidationFailed) -> Any:
    if isinstance(exc, ValidationFailed):
        return _page(incident_id, 422, values, _field_errors(exc))
    if exc.code == "stale_version":
        flash(_("Someone changed the incident meanwhile: look again and repeat. Nothing was saved."), "error")
    else:
        flash(_("The incident is resolved: nothing more can change. Nothing was saved."), "error")
    return _page(incident_id, 409, values)


@blp.post(f"{ITEM}/cases")
def link(incident_id: int) -> Any:
    raw = request.form.get("case_numbers", "").strip()
    values = {"case_numbers": raw}
    numbers = [n for n in raw.replace(",", " ").split() if n]
    if not numbers:
        return _page(incident_id, 422, values, {"case_numbers": _("Name at least one case number.")})
    ids, unknown = major_incidents.case_ids_by_number(numbers)
    if unknown:
        return _page(incident_id, 422, values, {"case_numbers": _("No such case: %(numbers)s",
                                                                  numbers=", ".join(unknown))})
    try:
        major_incidents.link(current_user(), incident_id, ids, _version(incident_id))
    except (Conflict, ValidationFailed) as exc:
        if isinstance(exc, ValidationFailed):
            return _page(incident_id, 422, values, {"case_numbers": "; ".join(e["message"] for e in exc.errors)})
        return _refused(incident_id, values, exc)
    flash(_("The cases are linked; the team works them now."), "success")
    return back_to("major_incident_pages.incident", incident_id=incident_id)


@blp.post(f"{ITEM}/team")
def set_team(incident_id: int) -> Any:
    values = {"team": request.form.getlist("team")}
    if not values["team"]:
        return _page(incident_id, 422, values, {"team": _("Choose at least one member.")})
    try:
        major_incidents.set_team(current_user(), incident_id, values["team"], _version(incident_id))
    except (Conflict, ValidationFailed) as exc:
        return _refused(incident_id, values, exc)
    flash(_("The team is saved."), "success")
    return back_to("major_incident_pages.incident", incident_id=incident_id)


@blp.post(f"{ITEM}/updates")
def post_update(incident_id: int) -> Any:
    values = {"text": request.form.get("text", "").strip(), "public": request.form.get("public") == "on"}
    errors = _required(values, ("text",))
    if errors:
        return _page(incident_id, 422, values, errors)
    try:
        update = major_incidents.post_update(current_user(), incident_id, values["text"], values["public"])
    except (Conflict, ValidationFailed) as exc:
        return _refused(incident_id, values, exc)
    if update.public:
        flash(_("The update went to %(n)d customers, once each.", n=len(update.reached)), "success")
    else:
        flash(_("The internal update is noted on the linked cases."), "success")
    return back_to("major_incident_pages.incident", incident_id=incident_id)


@blp.post(f"{ITEM}/resolve")
def resolve(incident_id: int) -> Any:
    values = {"cause": request.form.get("cause", "").strip(), "solution": request.form.get("solution", "").strip()}
    incident: MajorIncident = major_incidents.get(incident_id)
    errors = _required(values, ("solution",)) if incident.is_open else {}
    if values["cause"] and len(values["cause"]) > LIMITS["cause"]:
        errors["cause"] = _("At most %(n)d characters.", n=LIMITS["cause"])
    if errors:
        return _page(incident_id, 422, values, errors)
    fields = {k: v for k, v in values.items() if v}
    schema = major_incidents.resolve_form(incident) if incident.is_open else None
    if schema is not None:  # the fields a process owner added to the form, typed as it says
        extra = {k: v for k, v in taskforms.data_from(schema, request.form).items() if k not in OWN_FIELDS}
        fields.update(extra)
        values.update({k: request.form.get(k, "") for k in schema.get("properties", {}) if k not in OWN_FIELDS})
        problems = major_incidents.resolve_problems(incident, fields)
        if problems:  # beside each field, in the page's language
            errors = {}
            for problem in problems:
                errors.setdefault(problem["field"].removeprefix("data.").split(".")[0], taskforms.error_text(problem))
            return _page(incident_id, 422, values, errors)
    try:
        done = major_incidents.resolve(current_user(), incident_id, fields, _version(incident_id))
    except (Conflict, ValidationFailed) as exc:
        return _refused(incident_id, values, exc)
    resolved = sum(1 for r in done.results if r.outcome == "resolved")
    flash(_("%(done)d of %(n)d linked cases were resolved with the solution; see each case's result below.",
            done=resolved, n=len(done.results)), "success")
    return back_to("major_incident_pages.incident", incident_id=incident_id)


def _of_case(case: Case) -> list[MajorIncident]:
    return major_incidents.of_case(current_user(), case.id)


#: an incident's status and what its resolution did to each linked case, in the page's language
WORDS = {"open": _l("open"), "resolved": _l("resolved"), "already_resolved": _l("already closed"),
         "not_resolvable": _l("not at a resolve step: not forced"), "failed": _l("failed")}


def incident_word(code: str | None) -> str:
    return str(WORDS[code]) if code in WORDS else word(code)


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def register(app: Flask) -> None:
    """The case page's panel reads the incidents of its case (``major_incidents/_case_panel.html``)."""
    app.jinja_env.globals.update(major_incidents_of=_of_case, incident_word=incident_word)
