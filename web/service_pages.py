"""Running the service on the pages (cases/service): a case's service work — visits and repairs the
customer confirms or answers with another window, remote sessions, internal tasks (staff only) — its
service report (printable, CSV in either language), the catalogue of paid special services, and the
internal tasks with the maintenance schedules that open them. Date-times are typed as local times of
the service's zone (Asia/Shanghai)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Flask, Response, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from cases.core.access import visible_case
from cases.core.errors import ValidationFailed
from cases.core.models import User
from cases.service import catalogue, internal_tasks, maintenance, remote, report, visits
from cases.service.common import FIELD_STAFF, PLANNERS, zone
from cases.service.visit_models import InternalTask, Visit
from web.display import word
from web.i18n import is_chinese
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("service_pages")

#: the service's code words in the page's language
SERVICE_WORDS = {"repair": _l("repair"), "visit": _l("visit"), "maintenance": _l("maintenance"),
                 "backup_check": _l("backup check"), "each": _l("each"), "hour": _l("hour"), "day": _l("day")}


def service_word(code: str) -> str:
    found = SERVICE_WORDS.get(code)
    return str(found) if found is not None else word(code)


#: the use cases' rules, said in the page's language (else the use case's own words)
MESSAGES = {
    "window_start": lambda: _("The window must start in the future."),
    "window_end": lambda: _("The window must end after it starts, within 24 hours."),
    "catalogue_code": lambda: _("Out of warranty on that day: choose the special service the visit is charged as."),
    "minutes": lambda: _("From 1 to 1440 minutes."),
    "ended_at": lambda: _("The session must end after it starts, be over, and last at most %(n)d hours.",
                          n=remote.MAX_HOURS),
    "minutes_spent": lambda: _("Say how long the task took (minutes)."),
    "code": lambda: _("Another entry has this code, or it is not 1 to 40 letters, digits, '_', '.' or '-'."),
    "arrived_at": lambda: _("The arrival cannot be in the future."),
    "technician": lambda: _("Not an active front-line staff member's user name."),
    "assignee": lambda: _("Not an active staff member's user name."),
    "kind": lambda: _("Choose one of the kinds offered."),
    "result": lambda: _("Choose one of the results offered."),
    "unit": lambda: _("Choose one of the units offered."),
    "state": lambda: _("Choose one of the states offered."),
    "price": lambda: _("From 0 to 100,000,000."),
    "interval_days": lambda: _("From 1 to %(n)d days.", n=maintenance.MAX_INTERVAL),
    "installed_product_id": lambda: _("Choose one of this customer's installed products."),
}


def _message(error: dict[str, Any]) -> str:
    # every field a use case names has its sentence here; an unexpected one still reads in the page's language
    found = MESSAGES.get(error["field"])
    return str(found()) if found else _("This value is not accepted.")


def _local(raw: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone()) if moment.tzinfo is None else moment


def _read(form: MultiDict[str, str], spec: dict[str, str]) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """(values as typed, typed fields, {field: message}) for fields of ``spec`` name -> kind
    (text, text?, datetime, int, date?, money, lines; '?' optional; ``text<N``: at most N characters, as the
    API's schema allows)."""
    values = {name: form.get(name, "").strip() for name in spec}
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, kind in spec.items():
        raw, optional = values[name], kind.endswith("?")
        kind, _sep, limit = kind.rstrip("?").partition("<")
        if not raw:
            if not optional:
                errors[name] = _("This field is required.")
            continue
        if kind == "datetime":
            fields[name] = _local(raw)
            if fields[name] is None:
                errors[name] = _("A date and time.")
        elif kind in ("int", "money"):
            try:
                fields[name] = int(raw) if kind == "int" else float(raw)
            except ValueError:
                errors[name] = _("A number.")
        elif kind == "date":
            try:
                fields[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = _("A date.")
        elif kind == "lines":
            fields[name] = [line.strip()[:200] for line in raw.splitlines() if line.strip()][:50]
        elif limit and len(raw) > int(limit):
            errors[name] = _("At most %(n)d characters.", n=int(limit))
        else:
            fields[name] = raw
    return values, fields, errors


# -- a case's service work ---------------------------------------------------------------------------

def _result_options() -> list[tuple[str, str]]:
    return [(code, _(report.RESULT_LABELS[code])) for code in visits.RESULTS]


def _work(case_id: int, status: int = 200, form: str | None = None, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None) -> Any:
    user = current_user()
    case = visible_case(user, case_id)
    return render("service/case_work.html", status, case=case, visits=visits.visits_of(user, case_id),
                  sessions=remote.sessions_of(user, case_id),
                  tasks=internal_tasks.of_case(user, case_id) if user.is_staff else [],
                  kind_options=[(k, service_word(k)) for k in visits.KINDS], result_options=_result_options(),
                  labels_result=lambda code: report.RESULT_LABELS.get(code, code),
                  catalogue_options=[(e.code, f"{e.name_zh if is_chinese() else e.name_en} — ¥{e.price_cents / 100:,.2f}")
                                     for e in catalogue.entries(user)], is_chinese=is_chinese,
                  field_staff=user.has_role(*FIELD_STAFF), form=form, values=values or {}, errors=errors or {},
                  zone=zone().key)


@blp.get("/cases/<int(max=2147483647):case_id>/service")
def case_work(case_id: int) -> Any:
    return _work(case_id)


def _back(case_id: int, anchor: str) -> Any:
    return redirect(url_for("service_pages.case_work", case_id=case_id) + anchor, 303)


def _version(form: MultiDict[str, str]) -> int | None:
    raw = form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _case_form(case_id: int, form: str, spec: dict[str, str], act: Callable[[dict[str, Any]], object],
               done: Callable[[], str], anchor: str) -> Any:
    """A form of the case's service page: read ``spec`` from the request, ``act`` on the typed fields, then
    back to the page with ``done()`` — or the page again (422) with the typed input and each field's error."""
    values, fields, errors = _read(request.form, spec)
    if not errors:
        try:
            act(fields)
        except ValidationFailed as exc:
            errors = {e["field"]: _message(e) for e in exc.errors}
    if errors:
        return _work(case_id, 422, form, values, errors)
    flash(done(), "success")
    return _back(case_id, anchor)


BOOKING_SPEC = {"kind": "text<20", "purpose": "text<5000", "window_start": "datetime", "window_end": "datetime",
                "technician": "text<80?", "catalogue_code": "text<40?"}
WINDOW_SPEC = {"window_start": "datetime", "window_end": "datetime", "note": "text<2000?"}
CANCEL_SPEC = {"reason": "text<2000"}
LOG_SPEC = {"arrived_at": "datetime", "minutes": "int", "parts": "lines?", "result": "text<20", "notes": "text<10000"}
SESSION_SPEC = {"started_at": "datetime", "ended_at": "datetime", "summary": "text<10000"}
TASK_SPEC = {"title": "text<200", "description": "text<10000?", "assignee": "text<80?", "due_on": "date?"}


@blp.post("/cases/<int(max=2147483647):case_id>/service/visits")
def book_visit(case_id: int) -> Any:
    return _case_form(case_id, "book", BOOKING_SPEC, lambda fields: visits.book(current_user(), case_id, fields),
                      lambda: _("The visit is proposed: the customer is asked to confirm the window."), "#visits")


def _visit_case(visit_id: int) -> int:
    return visits.get(current_user(), visit_id).case_id


@blp.post("/visits/<int(max=2147483647):visit_id>/confirm")
def confirm_visit(visit_id: int) -> Any:
    case_id = _visit_case(visit_id)
    visits.confirm(current_user(), visit_id, _version(request.form))
    flash(_("The appointment is confirmed."), "success")
    return _back(case_id, "#visits")


def _proposal_sent() -> str:
    return str(_("Your proposal is sent.") if current_user().is_customer else _("The new window is proposed."))


@blp.post("/visits/<int(max=2147483647):visit_id>/propose")
def propose_visit(visit_id: int) -> Any:
    return _case_form(_visit_case(visit_id), f"propose-{visit_id}", WINDOW_SPEC,
                      lambda fields: visits.propose(current_user(), visit_id, fields, _version(request.form)),
                      _proposal_sent, "#visits")


@blp.post("/visits/<int(max=2147483647):visit_id>/cancel")
def cancel_visit(visit_id: int) -> Any:
    return _case_form(_visit_case(visit_id), f"cancel-{visit_id}", CANCEL_SPEC,
                      lambda fields: visits.cancel(current_user(), visit_id, fields["reason"], _version(request.form)),
                      lambda: _("The visit is cancelled; the customer sees why."), "#visits")


@blp.post("/visits/<int(max=2147483647):visit_id>/log")
def log_visit(visit_id: int) -> Any:
    return _case_form(_visit_case(visit_id), f"log-{visit_id}", LOG_SPEC,
                      lambda fields: visits.record_log(current_user(), visit_id, fields),
                      lambda: _("The repair log is recorded."), "#visits")


@blp.post("/cases/<int(max=2147483647):case_id>/service/sessions")
def record_session(case_id: int) -> Any:
    return _case_form(case_id, "session", SESSION_SPEC, lambda fields: remote.record(current_user(), case_id, fields),
                      lambda: _("The remote session is recorded."), "#sessions")


@blp.post("/cases/<int(max=2147483647):case_id>/service/tasks")
def add_task(case_id: int) -> Any:
    return _case_form(case_id, "task", TASK_SPEC,
                      lambda fields: internal_tasks.create(current_user(), case_id, fields),
                      lambda: _("The internal task is recorded."), "#internal-tasks")


@blp.post("/internal-tasks/<int(max=2147483647):task_id>/done")
def finish_task(task_id: int) -> Any:
    user = current_user()
    task = internal_tasks.get(user, task_id)
    values, fields, errors = _read(request.form, {"minutes_spent": "int", "outcome": "text<10000?"})
    if not errors:
        try:
            internal_tasks.update(user, task_id, {**fields, "state": "done"}, _version(request.form))
        except ValidationFailed as exc:
            errors = {e["field"]: _message(e) for e in exc.errors}
    if errors:
        if task.case_id is not None:
            return _work(task.case_id, 422, f"done-{task_id}", values, errors)
        return _tasks(422, f"done-{task_id}", values, errors)
    flash(_("The internal task is done."), "success")
    target = request.form.get("next", "")
    if task.case_id is not None and target != "tasks":
        return _back(task.case_id, "#internal-tasks")
    return redirect(url_for("service_pages.tasks"), 303)


# -- the service report ------------------------------------------------------------------------------

@blp.get("/cases/<int(max=2147483647):case_id>/report")
def case_report(case_id: int) -> Any:
    built = report.build(current_user(), case_id)
    return render("service/report.html", report=built, labels=report, zone=zone().key,
                  printing=request.args.get("print") == "1")


@blp.get("/cases/<int(max=2147483647):case_id>/report.csv")
def case_report_csv(case_id: int) -> Any:
    built = report.build(current_user(), case_id)
    lang = request.args.get("lang", "zh")
    with force_locale("zh_Hans_CN" if lang != "en" else "en"):
        text = report.as_csv(built, _)
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{report.filename(built)}"'})


# -- the catalogue -----------------------------------------------------------------------------------

CATALOGUE_SPEC = {"code": "text<40", "name_zh": "text<200", "name_en": "text<200", "price": "money",
                  "unit": "text<20", "description": "text<5000?"}


def _catalogue(status: int = 200, values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Any:
    user = current_user()
    return render("service/catalogue.html", status, entries=catalogue.entries(user, include_inactive=user.is_staff),
                  units_options=[(u, service_word(u)) for u in catalogue.UNITS], may_edit=user.has_role("business_manager", "manager", "admin"),
                  values=values or {"unit": "each"}, errors=errors or {})


@blp.get("/service/catalogue")
def catalogue_page() -> Any:
    return _catalogue()


@blp.post("/service/catalogue")
def add_entry() -> Any:
    values, fields, errors = _read(request.form, CATALOGUE_SPEC)
    if not errors:
        try:
            catalogue.create(current_user(), fields)
        except ValidationFailed as exc:
            errors = {e["field"]: _message(e) for e in exc.errors}
    if errors:
        return _catalogue(422, values, errors)
    flash(_("“%(name)s” is in the catalogue.", name=values["name_zh"]), "success")
    return redirect(url_for("service_pages.catalogue_page"), 303)


@blp.post("/service/catalogue/<int(max=2147483647):item_id>")
def change_entry(item_id: int) -> Any:
    _values, fields, errors = _read(request.form, {"price": "money"})
    if errors:
        flash(_("The price must be a number. Nothing was changed."), "error")
    else:
        fields["active"] = request.form.get("active") == "on"
        try:
            catalogue.update(current_user(), item_id, fields, _version(request.form))
        except ValidationFailed:
            flash(_("The price must be from 0 to 100000000. Nothing was changed."), "error")
        else:
            flash(_("The entry is changed."), "success")
    return redirect(url_for("service_pages.catalogue_page"), 303)


# -- internal tasks and maintenance -------------------------------------------------------------------

SCHEDULE_SPEC = {"installed_product_id": "int", "kind": "text<20", "interval_days": "int", "next_due": "date",
                 "assignee": "text<80?", "notes": "text<5000?"}


def _tasks(status: int = 200, form: str | None = None, values: dict[str, str] | None = None,
           errors: dict[str, str] | None = None) -> Any:
    user = current_user()
    mine = request.args.get("who") != "all"
    filters = {"state": "open", "assignee": "me" if mine else None}
    return render("service/tasks.html", status, tasks=internal_tasks.listing(user, filters, 1, 200).items,
                  schedules=maintenance.schedules(user), kind_options=[(k, service_word(k)) for k in maintenance.KINDS],
                  mine=mine,
                  may_plan=user.has_role(*PLANNERS), installations=_installations(user), form=form,
                  values=values or {}, errors=errors or {})


def _installations(user: User) -> list[tuple[int, str]]:
    return maintenance.installations(user)


@blp.get("/service/tasks")
def tasks() -> Any:
    return _tasks()


@blp.post("/service/maintenance")
def add_schedule() -> Any:
    values, fields, errors = _read(request.form, SCHEDULE_SPEC)
    if not errors:
        try:
            maintenance.create(current_user(), fields)
        except ValidationFailed as exc:
            errors = {e["field"]: _message(e) for e in exc.errors}
    if errors:
        return _tasks(422, "schedule", values, errors)
    flash(_("The schedule is saved: its task opens on its date."), "success")
    return redirect(url_for("service_pages.tasks"), 303)


def visit_status(visit: Visit, user: User) -> str:
    """The visit's state in the words of who reads it (a customer: their own words)."""
    if user.is_customer:
        return str({"proposed": _("We propose this time: does it suit you?"),
                "counter_proposed": _("You proposed this time: we will confirm it."),
                "confirmed": _("Confirmed"), "done": _("Done"), "cancelled": _("Cancelled")}[visit.status])
    return str({"proposed": _("Proposed, waiting for the customer"),
            "counter_proposed": _("The customer proposed another time"),
            "confirmed": _("Confirmed"), "done": _("Done"), "cancelled": _("Cancelled")}[visit.status])


def service_summary(case_id: int) -> dict[str, Any]:
    """What the case page shows of the service work: visits, and for staff the internal tasks."""
    user = current_user()
    return {"visits": visits.visits_of(user, case_id),
            "tasks": internal_tasks.of_case(user, case_id) if user.is_staff else []}


def open_task_count(tasks_: list[InternalTask]) -> int:
    return sum(1 for t in tasks_ if t.is_open)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(visit_status=visit_status, service_word=service_word, service_summary=service_summary,
                                 open_task_count=open_task_count)
