"""The assignment page: each staff member's skills and duty roster, and each customer's dedicated
consultant — what the assignment strategies read (cases/process/strategies.py). Supervisors, managers and
admins read it; managers and admins change it (as the /api/v1 staffing calls, audited)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import queries
from cases.core.db import db
from cases.core.errors import ValidationFailed
from cases.core.models import CATEGORIES, Role, User, UserRole
from cases.process import assignment, staffing
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("staffing_pages", url_prefix="/staffing")
LANES = (Role.AGENT.value, Role.SERVICE_CONSULTANT.value, Role.BUSINESS_MANAGER.value, Role.TECHNICAL_LEAD.value,
         Role.COMPLAINT_OFFICER.value, Role.SUPERVISOR.value)
DEFAULT_ZONE = "Asia/Shanghai"


def _staff() -> list[User]:
    return list(db.session.scalars(db.select(User).join(UserRole).where(UserRole.role.in_(LANES), User.active.is_(True))
                                   .distinct().order_by(User.username)))


@blp.get("")
def index():
    user = current_user()
    people = [(u, staffing.read_skills(user, u.username), staffing.read_roster(user, u.username)) for u in _staff()]
    consultants = [u for u in _staff() if u.has_role(Role.SERVICE_CONSULTANT.value)]
    customers = [(c, assignment.dedicated_consultant(c.id)) for c in queries.list_customers(user)]
    return render("staffing.html", people=people, consultants=consultants, customers=customers,
                  categories=CATEGORIES, default_zone=DEFAULT_ZONE)


def _done(action, message: str):
    try:
        action()
    except ValidationFailed as exc:
        details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
        flash(_("Nothing was changed: %(reason)s", reason=details), "error")
    else:
        flash(message, "success")
    return redirect(url_for("staffing_pages.index"), 303)


@blp.post("/users/<string:username>/skills")
def set_skills(username: str):
    products = [p.strip() for p in request.form.get("products", "").split(",") if p.strip()]
    return _done(lambda: staffing.set_skills(current_user(), username, request.form.getlist("categories"), products),
                 _("The skills of %(user)s are saved.", user=username))


def parse_shifts(text: str) -> list:
    """One shift a line: "<weekday 0-6> HH:MM-HH:MM" (0 is Monday); a line that does not parse is
    passed on as it is, so the use case names it."""
    shifts = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        day, _sep, span = line.partition(" ")
        start, _dash, end = span.strip().partition("-")
        shifts.append({"weekday": int(day) if day.isdigit() else day, "start": start.strip(), "end": end.strip()})
    return shifts


@blp.post("/users/<string:username>/roster")
def set_roster(username: str):
    zone = request.form.get("timezone", "").strip() or DEFAULT_ZONE
    shifts = parse_shifts(request.form.get("shifts", ""))
    return _done(lambda: staffing.set_roster(current_user(), username, zone, shifts),
                 _("The roster of %(user)s is saved.", user=username))


@blp.post("/customers/<int(max=2147483647):customer_id>/dedicated")
def set_dedicated(customer_id: int):
    username = request.form.get("username", "").strip() or None
    return _done(lambda: staffing.set_dedicated(current_user(), customer_id, username),
                 _("The dedicated consultant is saved."))
