"""The supervisors' board: breached and at-risk cases (the queue behind /api/v1/escalations)
with the escalation actions as forms: reassign, take over, extend a target, change the priority,
acknowledge."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import escalations
from cases.core import accounts
from cases.core.errors import ValidationFailed
from cases.core.models import PRIORITIES, TIERS, Case
from cases.sla.policies import KINDS
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("board")

MAX_TEXT = 2000
MAX_MINUTES = 525600  # a year, as the API allows
#: targets per page (a case with several breached or at-risk targets is one row)
PER_PAGE = 100


@blp.get("/board")
def board():
    user = current_user()
    filters = {k: request.args[k] for k in ("status", "priority", "tier", "kind") if request.args.get(k)}
    allowed = {"status": escalations.STATUSES, "priority": PRIORITIES, "tier": TIERS, "kind": KINDS}
    filters = {k: v for k, v in filters.items() if v in allowed[k]}
    raw = request.args.get("page", "1")
    number = max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1
    page = escalations.queue(user, filters, number, PER_PAGE)
    return render("board.html", rows=_by_case(page.items), page=page, filters=filters, statuses=escalations.STATUSES,
                  priorities=PRIORITIES, tiers=TIERS, kinds=KINDS, staff=accounts.staff_with_role(user))


@dataclass
class Row:
    """One case on the board with its breached and at-risk targets (most urgent first)."""

    case: Case
    targets: list[dict] = field(default_factory=list)
    #: (the target's kind, the escalation): a badge says which target went up the ladder
    escalations: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "breached" if any(t["status"] == "breached" for t in self.targets) else "at_risk"


def _by_case(entries: list[escalations.QueueEntry]) -> list[Row]:
    rows: dict[int, Row] = {}
    for entry in entries:  # the queue's order: the most urgent target first
        row = rows.setdefault(entry.case.id, Row(entry.case))
        row.targets.append(entry.target)
        row.escalations.extend((entry.target["kind"], x) for x in entry.escalations)
    return list(rows.values())


class Refused(Exception):
    """A board form the page refuses before calling the use case (nothing was changed)."""


def _text(name: str, required: bool) -> str | None:
    value = request.form.get(name, "").strip()
    if required and not value:
        raise Refused(_("Give a reason."))
    if len(value) > MAX_TEXT:
        raise Refused(_("At most %(n)d characters.", n=MAX_TEXT))
    return value or None


def _minutes() -> int:
    try:
        minutes = int(request.form.get("minutes", ""))
    except ValueError:
        raise Refused(_("Enter the minutes as a whole number.")) from None
    if not 1 <= minutes <= MAX_MINUTES:
        raise Refused(_("Between 1 and %(n)d minutes.", n=MAX_MINUTES))
    return minutes


def _act(case_id: int, action: str):
    user = current_user()
    form = request.form
    try:
        if action == "reassign":
            case = escalations.reassign(user, case_id, form.get("username", ""), _text("reason", False))
            done = _("%(case)s now belongs to %(user)s.", case=case.number, user=case.owner.display_name)
        elif action == "take-over":
            case = escalations.take_over(user, case_id, _text("reason", False))
            done = _("You took over %(case)s.", case=case.number)
        elif action == "extend":
            if form.get("kind") not in KINDS:
                raise Refused(_("Choose the target to extend."))
            minutes = _minutes()
            case = escalations.extend(user, case_id, form["kind"], minutes, _text("reason", True))
            done = _("The target of %(case)s is extended by %(m)d minutes.", case=case.number, m=minutes)
        elif action == "priority":
            if form.get("priority") not in PRIORITIES:
                raise Refused(_("Choose a priority."))
            case = escalations.change_priority(user, case_id, form["priority"], _text("reason", True))
            done = _("%(case)s has a new priority; its targets are recomputed.", case=case.number)
        else:  # acknowledge
            case = escalations.acknowledge(user, case_id, _text("note", False))
            done = _("The escalation of %(case)s is acknowledged.", case=case.number)
    except Refused as refused:
        flash(_("Nothing was changed: %(reason)s", reason=str(refused)), "error")
    except ValidationFailed as exc:
        flash(_("Nothing was changed: %(reason)s", reason=exc.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for("board.board", **request.args), 303)


CASE = "/board/<int(max=2147483647):case_id>"


@blp.post(f"{CASE}/reassign")
def reassign(case_id: int):
    return _act(case_id, "reassign")


@blp.post(f"{CASE}/take-over")
def take_over(case_id: int):
    return _act(case_id, "take-over")


@blp.post(f"{CASE}/extend")
def extend(case_id: int):
    return _act(case_id, "extend")


@blp.post(f"{CASE}/priority")
def priority(case_id: int):
    return _act(case_id, "priority")


@blp.post(f"{CASE}/acknowledge")
def acknowledge(case_id: int):
    return _act(case_id, "acknowledge")
