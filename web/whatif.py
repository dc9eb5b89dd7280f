"""What if (cases/whatif, docs/what-if.md): replay a period under a proposed SLA policy, calendar or
classification table and
read it beside what happened — the control, the figures by group, charts, the changed cases each with
its explanation, the saved replays, two of them compared, CSV. The page a draft is edited on links
here with ``?calendar=<name>`` (or ``?policy=<version>``) to prefill the proposal."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, redirect, request, url_for
from flask_babel import gettext as _

from cases.core.errors import ValidationFailed
from cases.core.models import STAFF_ROLES
from cases.process.taskrules import STRATEGIES
from cases.sla import calendars
from cases.whatif import routing, runs
from cases.whatif.results import COLUMNS, GROUPINGS
from engine.isolation.sandbox import default_sandbox
from web.i18n import is_chinese
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("whatif_page", url_prefix="/whatif")

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PROPOSAL_CHARS = 200_000


def _today() -> date:
    return datetime.now(ZoneInfo(calendars.DEFAULT_TIMEZONE)).date()


def _form_defaults() -> dict[str, Any]:
    today = _today()
    calendar = request.args.get("calendar", "")
    policy = request.args.get("policy", "")
    proposal: dict[str, Any] = {}
    if policy.isdigit():
        proposal["policy"] = {"version": int(policy)}
    return {"from": (today - timedelta(days=90)).isoformat(), "to": today.isoformat(), "name": "",
            "calendar": calendar if calendars.exists(calendar) else "", "holidays": "",
            "proposal": json.dumps(proposal, ensure_ascii=False, indent=1) if proposal else "", "classification": "",
            "lane": "", "strategy": "", "assignment": ""}


def _index(form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    user = current_user()
    return render("whatif/index.html", status, form=form, errors=errors, saved=runs.list_runs(user),
                  calendar_names=[c.name for c in calendars.list_calendars(user)], lanes=sorted(STAFF_ROLES),
                  strategies=STRATEGIES)


@blp.get("")
def index() -> Any:
    return _index(_form_defaults(), {})


def _proposal(form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The proposal from the form: the JSON text, plus holidays added to one calendar."""
    proposal: dict[str, Any] = {}
    text = form["proposal"].strip()
    if text:
        parsed: Any = None
        try:
            parsed = json.loads(text) if len(text) <= MAX_PROPOSAL_CHARS else None
        except ValueError:
            pass
        if not isinstance(parsed, dict):
            errors["proposal"] = _("A JSON object, e.g. {\"policy\": {\"version\": 2}}.")
            return {}
        proposal = parsed
    dates = [d for d in re.split(r"[\s,，]+", form["holidays"]) if d]
    if dates:
        if not form["calendar"]:
            errors["calendar"] = _("Choose the calendar the holidays are added to.")
        elif bad := [d for d in dates if not DATE.match(d)]:
            errors["holidays"] = _("Dates as YYYY-MM-DD: %(bad)s", bad=", ".join(bad[:5]))
        else:
            drafts = proposal.setdefault("calendars", {}) if isinstance(proposal.get("calendars", {}), dict) else {}
            view = calendars.read(current_user(), form["calendar"])
            base = drafts.get(form["calendar"]) or {
                "timezone": view.timezone, "hours": view.hours, "holiday_country": view.holiday_country,
                "extra_holidays": view.extra_holidays, "removed_holidays": view.removed_holidays,
                "extra_workdays": view.extra_workdays, "makeup_hours": view.makeup_hours}
            base["extra_holidays"] = sorted(set(base.get("extra_holidays") or []) | set(dates))
            drafts[form["calendar"]] = base
    if form["classification"]:
        proposal["classification"] = {"dmn": form["classification"]}
    _assignment(form, errors, proposal)
    return proposal


def _assignment(form: dict[str, Any], errors: dict[str, str], proposal: dict[str, Any]) -> None:
    """The assignment proposal from the form: its JSON field, plus a strategy chosen for one lane."""
    assignment: Any = None
    text = form["assignment"]
    if text:
        try:
            assignment = json.loads(text) if len(text) <= MAX_PROPOSAL_CHARS else None
        except ValueError:
            pass
        if not isinstance(assignment, dict):
            errors["assignment"] = _("A JSON object, e.g. {\"strategies\": {\"agent\": \"least_loaded\"}}.")
            return
    if form["lane"] or form["strategy"]:
        if not (form["lane"] and form["strategy"]):
            errors["assignment"] = _("Choose both a lane and a strategy.")
            return
        assignment = assignment or {}
        strategies = assignment.setdefault("strategies", {})
        if isinstance(strategies, dict):
            strategies[form["lane"]] = form["strategy"]
    if assignment is not None:
        proposal["assignment"] = assignment


@blp.post("")
def replay() -> Any:
    """Replay the period under the proposal and keep it (the result page explains each case)."""
    form = {k: request.form.get(k, "").strip()
            for k in ("from", "to", "name", "calendar", "holidays", "proposal", "classification", "lane", "strategy",
                      "assignment")}
    errors: dict[str, str] = {}
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(form[name])
        except ValueError:
            errors[name] = _("A date as YYYY-MM-DD.")
    proposal = _proposal(form, errors)
    if errors:
        return _index(form, errors, 422)
    name = form["name"] or _("Replay of %(first)s to %(last)s", first=form["from"], last=form["to"])
    try:
        run = runs.save(current_user(), name, days["from"], days["to"], proposal)
    except ValidationFailed as exc:
        for e in exc.errors:
            field = (e.get("field") or "proposal")
            if field.startswith("proposal.classification"):  # said again in the page's language
                _draft, found = routing.read_draft(form["classification"], default_sandbox(), "zh" if is_chinese() else "en")
                errors["classification"] = " ".join(p["message"] for p in found) or e["message"]
                continue
            if field.startswith("proposal.assignment") and "assignment" not in proposal_fields_in_json(form):
                errors["assignment"] = (errors.get("assignment", "") + f" {field}: {e['message']}").strip()
                continue
            errors[field if field in ("from", "to", "name") else "proposal"] = \
                (errors.get("proposal", "") + f" {field}: {e['message']}").strip() \
                if field not in ("from", "to", "name") else e["message"]
        return _index(form, errors, 422)
    return redirect(url_for("whatif_page.run", run_id=run.id), 303)


def _charts(result: dict[str, Any]) -> dict[str, Any]:
    """Chart data for Caseflow.charts (web/assets/src/charts.js)."""
    labels = {"actual": _("what happened"), "control": _("control (no change)"), "proposal": _("the proposal")}
    shares = {"title": _("Share within the SLA (%%)"), "unit": "percent",
              "labels": [_("first response"), _("resolution")],
              "series": [{"label": labels[c], "values": [
                  None if result["totals"][c][f]["value"] is None else round(result["totals"][c][f]["value"] * 100, 1)
                  for f in ("first_response_within_sla", "resolution_within_sla")]} for c in COLUMNS]}
    by_priority = {"title": _("Breached targets by priority"), "unit": "count",
                   "labels": [g["key"] or _("not set") for g in result["groups"]["priority"]],
                   "series": [{"label": labels[c], "values": [g[c]["breaches"] for g in result["groups"]["priority"]]}
                              for c in ("actual", "proposal")]}
    hours = result["load"]["by_hour"]
    load = {"title": _("Tasks received per hour of the day, by role"), "unit": "count",
            "labels": [f"{h:02d}:00" for h in range(24)],
            "series": [{"label": role, "values": counts} for role, counts in hours.items()]}
    found = {"shares": shares, "breaches": by_priority, "load": load}
    assigned = result.get("assignment")
    if assigned:
        people = [p for p in assigned["people"] if p["key"] is not None]
        found["received"] = {"title": _("Tasks received per person"), "unit": "count",
                             "labels": [p["key"] for p in people],
                             "series": [{"label": labels[c], "values": [p[c] for p in people]} for c in COLUMNS]}
        found["open_hours"] = {"title": _("Open tasks held per hour of the day, under the proposal"), "unit": "count",
                               "labels": [f"{h:02d}:00" for h in range(24)],
                               "series": [{"label": name or _("the lane (nobody)"), "values": values}
                                          for name, values in assigned["open_by_hour"]["proposal"].items()]}
    return {**found,
            "texts": {"targetLabel": _("target"), "tableLabel": _("The figures")}}


def proposal_fields_in_json(form: dict[str, Any]) -> set[str]:
    """The proposal's top-level fields typed into the JSON field (their problems are said beside it)."""
    try:
        parsed = json.loads(form["proposal"]) if form["proposal"] else {}
    except ValueError:
        return set()
    return set(parsed) if isinstance(parsed, dict) else set()


@blp.get("/runs/<int(max=2147483647):run_id>")
def run(run_id: int) -> Any:
    found = runs.read_run(current_user(), run_id)
    result = found.result or {}
    charts = _charts(result)
    return render("whatif/run.html", run=found, result=result, groupings=GROUPINGS, columns=COLUMNS,
                  charts=charts, chart_ids=[c for c in ("shares", "breaches", "load", "received", "open_hours")
                                            if c in charts])


@blp.get("/runs/<int(max=2147483647):run_id>/cases/<number>")
def explain(run_id: int, number: str) -> Any:
    found = runs.read_run(current_user(), run_id)
    why = runs.explain(current_user(), number, found.proposal,
                       now=datetime.fromisoformat((found.result or {})["computed_at"]))
    return render("whatif/explain.html", run=found, why=why)


@blp.get("/runs/<int(max=2147483647):run_id>/export.csv")
def export(run_id: int) -> Any:
    found = runs.read_run(current_user(), run_id)
    name = runs.csv_filename(found.first.isoformat(), found.last.isoformat())
    return Response(runs.as_csv(found.result or {}).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.get("/compare")
def compare() -> Any:
    try:
        first, second = int(request.args.get("first", "")), int(request.args.get("second", ""))
    except ValueError:
        raise ValidationFailed(_("Choose two replays."),
                               [{"field": "first", "message": _("Choose two replays.")}]) from None
    return render("whatif/compare.html", comparison=runs.compare(current_user(), first, second))
