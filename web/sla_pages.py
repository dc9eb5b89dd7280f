"""The SLA pages (docs/sla.md): the business calendars — hours, holidays, a month of days — with the
administrators' holiday editor (running SLA clocks follow the change, cases/process/calendar_edits.py),
and the SLA policy's versions with their rules. Each links to What if, to replay a period under the
draft or the version before publishing it (docs/what-if.md)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import Role
from cases.process import calendar_edits
from cases.sla import calendars, policies
from cases.sla.policy_input import KINDS
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("sla_pages", url_prefix="/sla")

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: the date lists an administrator edits on the page (the API changes every field)
DATE_FIELDS = ("extra_holidays", "removed_holidays", "extra_workdays")
MAX_DATES = 400


def _month(raw: str, zone: str) -> date:
    match = MONTH.match(raw or "")
    if match and calendars.FIRST_YEAR <= int(match.group(1)) <= calendars.LAST_YEAR and 1 <= int(match.group(2)) <= 12:
        return date(int(match.group(1)), int(match.group(2)), 1)
    return datetime.now(ZoneInfo(zone)).date().replace(day=1)


def _month_days(name: str, first: date) -> list[Any]:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return calendars.preview(current_user(), name, first, following - timedelta(days=1)).days


def _dates(text: str) -> tuple[list[str], list[str]]:
    """The dates typed (one per line, or separated by commas or spaces) and those that are not dates."""
    items = [d for d in re.split(r"[\s,，]+", text or "") if d]
    bad = [d for d in items if not DATE.match(d)]
    if not bad:
        for d in items:
            try:
                date.fromisoformat(d)
            except ValueError:
                bad.append(d)
    return sorted(set(items) - set(bad)), bad


def _calendar_page(name: str, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                   status: int = 200) -> Any:
    view = calendars.read(current_user(), name)
    first = _month(request.args.get("month", ""), view.timezone)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    if form is None:
        form = {name_: "\n".join(getattr(view, name_)) for name_ in DATE_FIELDS}
        form["version"] = str(view.version)
    today = datetime.now(ZoneInfo(calendars.DEFAULT_TIMEZONE)).date()
    return render("sla/calendar.html", status, calendar=view, days=_month_days(name, first), month=first,
                  whatif_from=(today - timedelta(days=90)).isoformat(), whatif_to=today.isoformat(),
                  previous=previous.strftime("%Y-%m"), following=following.strftime("%Y-%m"), form=form,
                  errors=errors or {}, may_edit=current_user().has_role(Role.ADMIN.value),
                  used_by=policies.calendar_users(name))


@blp.get("/calendars")
def calendar_list() -> Any:
    return render("sla/calendars.html", calendars=calendars.list_calendars(current_user()))


@blp.get("/calendars/<string:name>")
def calendar(name: str) -> Any:
    try:
        return _calendar_page(name)
    except NotFound:
        return render("error.html", 404, title=_("Not found"), message=_("There is no calendar of that name."))


@blp.post("/calendars/<string:name>")
def edit_calendar(name: str) -> Any:
    """An administrator's change of the calendar's holidays and working days (PATCH semantics): the
    version seen must still be the calendar's; running SLA clocks on it follow from now."""
    form = {field: request.form.get(field, "") for field in (*DATE_FIELDS, "version")}
    errors: dict[str, str] = {}
    fields: dict[str, list[str]] = {}
    for field in DATE_FIELDS:
        dates, bad = _dates(form[field])
        if bad:
            errors[field] = _("Dates as YYYY-MM-DD: %(bad)s", bad=", ".join(bad[:5]))
        elif len(dates) > MAX_DATES:
            errors[field] = _("At most %(n)d dates.", n=MAX_DATES)
        fields[field] = dates
    seen = int(form["version"]) if form["version"].isdigit() and len(form["version"]) < 10 else None
    if errors:
        return _calendar_page(name, form, errors, 422)
    try:
        edit = calendar_edits.patch(current_user(), name, fields, seen)
    except (Conflict, PreconditionRequired):
        return _calendar_page(name, form, {"version": _("Someone changed this calendar meanwhile. Nothing was "
                                                         "saved; your dates are below, the calendar as it is now "
                                                         "above.")}, 409)
    except ValidationFailed as exc:
        for problem in exc.errors:
            field = str(problem.get("field") or "").split(".")[0]
            errors[field if field in DATE_FIELDS else "version"] = _("Not a valid change: %(why)s",
                                                                   why=problem.get("message", ""))
        return _calendar_page(name, form, errors, 422)
    flash(_("Saved as version %(v)d. Running SLA clocks on it follow from now: %(n)d case(s) moved.",
            v=edit.view.version, n=edit.moved.cases), "success")
    return redirect(url_for("sla_pages.calendar", name=name), 303)


@blp.get("/policy")
def policy() -> Any:
    user = current_user()
    return render("sla/policy.html", versions=policies.list_versions(user), active=policies.read_active(user),
                  kinds=KINDS)
