"""The KPI dashboard: the service KPIs of a period (cases/kpis/report.py, docs/kpis.md) with the targets,
their trend week by week (or month by month) as charts, the backlog by age, a breakdown by group,
filters, and the same figures as CSV (cases/kpis/csv_export.py, as GET /api/v1/kpis.csv)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, request
from flask_babel import gettext as _

from cases.core.errors import ValidationFailed
from cases.core.models import CATEGORIES, CHANNELS, PRIORITIES, TIERS
from cases.kpis import csv_export as kpi_csv
from cases.kpis import figures as kpi_figures
from cases.kpis import report as kpis
from cases.sla import calendars
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("kpi", url_prefix="/kpis")

STEPS = ("week", "month")
MAX_STEPS = 60
DEFAULT_WEEKS = 12
CHOICES = {"category": CATEGORIES, "channel": CHANNELS, "priority": PRIORITIES, "tier": TIERS}
#: what the trend charts show (cases.kpis figures, in ``totals``)
TREND = ("cases", "first_response_average_seconds", "first_response_p90_seconds", "first_response_within_sla",
         "resolution_within_sla", "csat", "satisfaction_average", "backlog")


def _today() -> date:
    return datetime.now(ZoneInfo(kpis.TIMEZONE)).date()


def _date(name: str, default: date, errors: dict) -> date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("A date as YYYY-MM-DD.")
        return default


def _arguments() -> tuple[dict, dict]:
    """The dashboard's query, and {field: message} of what is wrong with it."""
    errors: dict[str, str] = {}
    today = _today()
    default_first = today - timedelta(days=today.weekday()) - timedelta(weeks=DEFAULT_WEEKS - 1)
    args = {"first": _date("from", default_first, errors), "last": _date("to", today, errors),
            "step": request.args.get("step", "week"), "group_by": request.args.get("group_by", "none")}
    if args["step"] not in STEPS:
        errors["step"] = _("Week or month.")
    if args["group_by"] not in kpis.GROUPINGS:
        errors["group_by"] = _("Not a grouping.")
    filters = {}
    for name in kpis.FILTERS:
        value = request.args.get(name, "").strip()
        if not value:
            continue
        if name in CHOICES and value not in CHOICES[name]:
            errors[name] = _("Not one of the choices.")
        if name == "customer_id":
            if not value.isdigit() or len(value) > 9:
                errors[name] = _("Not one of the choices.")
                continue
            value = int(value)
        filters[name] = value
    args["filters"] = filters
    if not errors:
        for problem in kpis.period_problems(args["first"], args["last"]):
            errors[problem["field"]] = _problem_text(problem)
    if not errors and len(_steps(args["first"], args["last"], args["step"])) > MAX_STEPS:
        errors["step"] = _("More than %(n)d periods: choose months, or a shorter period.", n=MAX_STEPS)
    return args, errors


def _steps(first: date, last: date, step: str) -> list[tuple[date, date]]:
    """The period cut into calendar weeks (Monday to Sunday) or months, the ends clipped to it."""
    steps, start = [], first
    while start <= last:
        if step == "week":
            end = start + timedelta(days=6 - start.weekday())
        else:
            following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            end = following - timedelta(days=1)
        steps.append((start, min(end, last)))
        start = min(end, last) + timedelta(days=1)
    return steps


def _figure(kpi) -> dict:
    return {"value": kpi.value, "target": kpi.target, "met": kpi.met}


def _trend_point(report: kpis.Report) -> dict:
    """A report in the shape of GET /api/v1/kpis, with the figures the charts draw."""
    totals = {name: _figure(getattr(report.totals, name)) for name in TREND}
    totals["backlog"]["buckets"] = report.totals.backlog.buckets
    return {"from": report.first.isoformat(), "to": report.last.isoformat(), "totals": totals}


def _problem_text(problem: dict[str, str]) -> str:
    """A problem of the report's query in the page's language (the domain says them in English for the API)."""
    message, field = problem.get("message", ""), problem.get("field", "").removeprefix("query.")
    if message.startswith("a date from"):
        return str(_("A date from %(first)d to %(last)d.", first=calendars.FIRST_YEAR, last=calendars.LAST_YEAR))
    if message.startswith("before"):
        return str(_("The end of the period is before its start."))
    if message.startswith("at most"):
        return str(_("At most %(n)d years after the start.", n=kpi_figures.MAX_YEARS))
    if field == "agent":
        return str(_("No such user."))
    if field == "group_by":
        return str(_("Not a grouping."))
    return str(_("Not one of the choices."))


@blp.get("")
def dashboard():
    args, errors = _arguments()
    context = {"args": args, "errors": errors, "choices": CHOICES, "groupings": kpis.GROUPINGS,
               "buckets": [name for name, _days in kpis.BUCKETS]}
    if errors:
        return render("kpi/dashboard.html", 422, **context)
    user = current_user()
    try:
        report = kpis.report(user, args["first"], args["last"], args["group_by"], args["filters"])
    except ValidationFailed as exc:
        context["errors"] = {e["field"].removeprefix("query."): _problem_text(e) for e in exc.errors}
        return render("kpi/dashboard.html", 422, **context)
    trend = [_trend_point(kpis.report(user, first, last, "none", args["filters"]))
             for first, last in _steps(args["first"], args["last"], args["step"])]
    return render("kpi/dashboard.html", report=report, trend=trend, **context)


@blp.get("/export.csv")
def export():
    """The dashboard's period, grouping and filters as CSV (the API's columns)."""
    args, errors = _arguments()
    if errors:
        raise ValidationFailed("the request is not valid", [{"field": k, "message": v} for k, v in errors.items()])
    report = kpis.report(current_user(), args["first"], args["last"], args["group_by"], args["filters"])
    return Response(kpi_csv.as_csv(report).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{kpi_csv.filename(report)}"'})
