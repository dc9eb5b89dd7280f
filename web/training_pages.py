"""Training (cases/service/training.py; the API: /api/v1/training): the sessions with the form to plan
one, a session's page (participants, enrol someone, record attendance and scores, move one who missed
to a later session, move or cancel the session before it starts), and enrolling a case's user from the case page."""
from __future__ import annotations

from typing import Any

from flask import Flask, flash, request
from flask_babel import gettext as _

from cases.casework import queries
from cases.core.errors import Conflict, PreconditionRequired, ValidationFailed
from cases.core.models import utcnow
from cases.service import training
from web.pages import back_to, current_user, page_blueprint, render
from web.service_forms import local_input, local_moment, refusals, required, whole, zone

blp = page_blueprint("training_pages", url_prefix="/service/training")

TEXTS = {"title": 200, "topic": 5000, "location": 300}


def _index(status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, Any] | None = None) -> Any:
    user = current_user()
    kind = request.args.get("kind") if request.args.get("kind") in training.KINDS else None
    return render("training/index.html", status, sessions=training.sessions(user, kind), kind=kind,
                  kinds=training.KINDS, modes=training.MODES, customers=queries.list_customers(user),
                  values=values or {"kind": training.STAFF_TECHNICAL, "mode": "on_site",
                                    "reminder_hours": str(training.DEFAULT_REMINDER_HOURS)},
                  errors=errors or {}, zone=zone().key)


@blp.get("")
def index() -> Any:
    return _index()


def _read_plan(form: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    values = {name: form.get(name, "").strip() for name in (*TEXTS, "kind", "mode", "customer_id", "trainer",
                                                          "starts_at", "ends_at", "reminder_hours", "invitees")}
    errors: dict[str, str] = {}
    required(values, ("title", "kind", "starts_at"), errors)
    for name, limit in TEXTS.items():
        if len(values[name]) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
    fields: dict[str, Any] = {"kind": values["kind"], "title": values["title"], "topic": values["topic"] or None,
                              "location": values["location"] or None, "mode": values["mode"] or "on_site",
                              "trainer": values["trainer"] or None,
                              "invitees": [n for n in values["invitees"].replace(",", " ").split() if n]}
    for name in ("starts_at", "ends_at"):
        if values[name]:
            fields[name] = local_moment(values[name])
            if fields[name] is None:
                errors[name] = _("A date and time.")
    hours = whole(values["reminder_hours"] or str(training.DEFAULT_REMINDER_HOURS), 0, training.MAX_REMINDER_HOURS)
    if hours is None:
        errors["reminder_hours"] = _("A whole number from 0 to %(n)d.", n=training.MAX_REMINDER_HOURS)
    fields["reminder_hours"] = hours
    if values["customer_id"]:
        fields["customer_id"] = whole(values["customer_id"], 1, 2**31 - 1)
    return values, fields, errors


@blp.post("")
def plan() -> Any:
    values, fields, errors = _read_plan(request.form)
    if errors:
        return _index(422, values, errors)
    try:
        row = training.plan(current_user(), fields)
    except ValidationFailed as exc:
        return _index(422, values, refusals(exc))
    flash(_("The session is planned; %(n)d invitations are on their way.", n=len(row.participants)), "success")
    return back_to("training_pages.session", session_id=row.id)


def _session(session_id: int, status: int = 200, errors: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> Any:
    user = current_user()
    row = training.session(user, session_id)
    return render("training/session.html", status, s=row, may_run=training.may_run(user, row), later=training.later_sessions(row), kinds=training.KINDS,
                  errors=errors or {}, values=values or {}, now=utcnow(), task=training.open_task(row),
                  zone=zone().key, local_input=local_input)


@blp.get("/<int(max=2147483647):session_id>")
def session(session_id: int) -> Any:
    return _session(session_id)


@blp.post("/<int(max=2147483647):session_id>/participants")
def enrol(session_id: int) -> Any:
    values = {name: request.form.get(name, "").strip() for name in ("user", "name", "email")}
    if not (values["user"] or values["email"]):
        return _session(session_id, 422, {"user": _("A user name, or a name and an e-mail address.")}, values)
    try:
        training.enrol(current_user(), session_id, {k: v for k, v in values.items() if v})
    except ValidationFailed as exc:
        return _session(session_id, 422, refusals(exc), values)
    except Conflict:
        return _session(session_id, 409, {"user": _("The session no longer takes participants.")}, values)
    flash(_("Invited."), "success")
    return back_to("training_pages.session", session_id=session_id)


@blp.post("/<int(max=2147483647):session_id>/attendance")
def attendance(session_id: int) -> Any:
    row = training.session(current_user(), session_id)
    entries, errors, values = [], {}, {}
    for person in row.participants:
        attended = request.form.get(f"attended-{person.id}") == "on"
        raw = request.form.get(f"score-{person.id}", "").strip()
        values[f"score-{person.id}"] = raw
        score = whole(raw, 0, 100) if raw else None
        if raw and score is None:
            errors[f"score-{person.id}"] = _("A whole number from 0 to 100.")
        elif score is not None and not attended:
            errors[f"score-{person.id}"] = _("Only who attended is assessed.")
        entries.append({"participant_id": person.id, "attended": attended, "score": score})
    if errors:
        return _session(session_id, 422, errors, values)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        training.record_attendance(current_user(), session_id, version, entries)
    except ValidationFailed as exc:
        return _session(session_id, 422, refusals(exc), values)
    except Conflict:
        return _session(session_id, 409, {"attendance": _("Someone changed the session meanwhile: reload and "
                                                          "record again.")}, values)
    flash(_("Attendance recorded; those who missed it are followed up."), "success")
    return back_to("training_pages.session", session_id=session_id)


@blp.post("/<int(max=2147483647):session_id>/participants/<int(max=2147483647):participant_id>/move")
def move(session_id: int, participant_id: int) -> Any:
    target = whole(request.form.get("to_session_id", ""), 1, 2**31 - 1)
    try:
        if target is None:
            raise ValidationFailed("choose", [{"field": "to_session_id", "message": _("Choose a later session.")}])
        training.move(current_user(), session_id, participant_id, target)
    except ValidationFailed as exc:
        return _session(session_id, 422, {f"move-{participant_id}": refusals(exc).get("to_session_id")})
    flash(_("Invited to the later session."), "success")
    return back_to("training_pages.session", session_id=session_id)


@blp.post("/<int(max=2147483647):session_id>/participants/<int(max=2147483647):participant_id>/excuse")
def follow_up(session_id: int, participant_id: int) -> Any:
    """The follow-up's other decision: excuse one who missed the session, saying why."""
    reason = request.form.get("reason", "").strip()
    try:
        if not reason:
            raise ValidationFailed("why", [{"field": "reason", "message": _("Say why they are excused.")}])
        if len(reason) > 2000:
            raise ValidationFailed("long", [{"field": "reason", "message": _("At most %(n)d characters.", n=2000)}])
        training.follow_up(current_user(), session_id, [{"participant_id": participant_id, "decision": training.EXCUSE,
                                                         "reason": reason}])
    except ValidationFailed as exc:
        found = refusals(exc)
        message = found.get("reason") or next(iter(found.values()), None) or _("Not possible now.")
        return _session(session_id, 422, {f"excuse-{participant_id}": message},
                        {f"reason-{participant_id}": reason})
    flash(_("Excused."), "success")
    return back_to("training_pages.session", session_id=session_id)


def _version(form: Any) -> int | None:
    try:
        return int(form.get("version", ""))
    except ValueError:
        return None


@blp.post("/<int(max=2147483647):session_id>/reschedule")
def reschedule(session_id: int) -> Any:
    """Move a planned session before it starts (its process's timers move, the invited are told)."""
    values = {name: request.form.get(name, "").strip() for name in ("starts_at", "ends_at", "reminder_hours")}
    errors: dict[str, Any] = {}
    required(values, ("starts_at",), errors)
    fields: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        if values[name]:
            fields[name] = local_moment(values[name])
            if fields[name] is None:
                errors[name] = _("A date and time.")
    if values["reminder_hours"]:
        fields["reminder_hours"] = whole(values["reminder_hours"], 0, training.MAX_REMINDER_HOURS)
        if fields["reminder_hours"] is None:
            errors["reminder_hours"] = _("A whole number from 0 to %(n)d.", n=training.MAX_REMINDER_HOURS)
    if errors:
        return _session(session_id, 422, errors, values)
    try:
        training.reschedule(current_user(), session_id, fields, _version(request.form))
    except ValidationFailed as exc:
        return _session(session_id, 422, refusals(exc), values)
    except (Conflict, PreconditionRequired) as exc:
        return _session(session_id, 409, {"reschedule": _stale_or_closed(exc)}, values)
    flash(_("The session is moved; the invited are told the new time."), "success")
    return back_to("training_pages.session", session_id=session_id)


@blp.post("/<int(max=2147483647):session_id>/cancel")
def cancel(session_id: int) -> Any:
    """Cancel a planned session before it starts, saying why (everyone invited is told; its process ends)."""
    reason = request.form.get("reason", "").strip()
    values = {"cancel_reason": reason}
    if len(reason) > 2000:
        return _session(session_id, 422, {"cancel_reason": _("At most %(n)d characters.", n=2000)}, values)
    try:
        training.cancel(current_user(), session_id, _version(request.form), reason or None)
    except ValidationFailed as exc:
        return _session(session_id, 422, {"cancel_reason": next(iter(refusals(exc).values()), None)}, values)
    except (Conflict, PreconditionRequired) as exc:
        return _session(session_id, 409, {"reschedule": _stale_or_closed(exc)}, values)
    flash(_("The session is cancelled; everyone invited is told."), "success")
    return back_to("training_pages.session", session_id=session_id)


def _stale_or_closed(exc: Conflict | PreconditionRequired) -> str:
    if exc.code == "session_closed":
        return str(_("The session has started or is no longer planned: it cannot be moved or cancelled."))
    return str(_("Someone changed the session meanwhile: reload and try again."))


@blp.post("/from-case/<int(max=2147483647):case_id>")
def from_case(case_id: int) -> Any:
    """The case page's "enrol in a training": the case's user joins a planned customer user training."""
    target = whole(request.form.get("session_id", ""), 1, 2**31 - 1)
    try:
        if target is None:
            raise ValidationFailed("choose", [{"field": "session_id", "message": "choose a session"}])
        training.enrol(current_user(), target, {"case_id": case_id})
    except (ValidationFailed, Conflict) as exc:
        message = refusals(exc).get("case_id") if isinstance(exc, ValidationFailed) else exc.message
        flash(_("Not enrolled: %(why)s", why=message or _("choose a session")), "error")
    else:
        flash(_("Enrolled in the training; the customer is invited by mail."), "success")
    return back_to("case_pages.case", case_id=case_id)


def case_trainings(case: Any) -> list[Any]:
    """The planned customer user trainings a case's user may join (the case page's panel)."""
    return [s for s in training.sessions(current_user(), training.CUSTOMER_USER, training.PLANNED)
            if s.customer_id == case.customer_id]



def training_session_of(case: Any) -> Any:
    """The training session a case of kind ``training`` runs (the task page sends its tasks there)."""
    return training.session_of_case(case.id) if case.kind == "training" else None


def register(app: Flask) -> None:
    app.jinja_env.globals.update(case_trainings=case_trainings, training_session_of=training_session_of)
