"""Software update announcements (cases/customers/announcements.py, as POST/GET /api/v1/announcements): the
list, newest first, and the form to announce an update to all customers or chosen ones. The window
is entered as local date-times in the time zone chosen on the form, which is also the zone the
customers are shown."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import flash, request
from flask_babel import gettext as _

from cases.casework import queries
from cases.core.errors import ValidationFailed
from cases.customers import announcements
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("announcement_pages", url_prefix="/announcements")

LIMITS = {"product": 100, "version": 100, "timezone": 60, "notes_zh": 5000, "notes_en": 5000}
#: the zones offered (any IANA name may be typed)
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "Europe/Berlin",
         "America/New_York", "UTC")
DEFAULT_ZONE = "Asia/Shanghai"


def _page(status: int = 200, values: dict | None = None, errors: dict | None = None):
    user = current_user()
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    return render("announcements.html", status, page=announcements.announcements(user, number, 20),
                  customers=queries.list_customers(user), zones=ZONES,
                  values=values or {"timezone": DEFAULT_ZONE, "audience": "all"}, errors=errors or {})


@blp.get("")
def index():
    return _page()


def _local(raw: str, zone: ZoneInfo | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None and zone is not None else moment


def _read(form) -> tuple[dict, dict, dict]:
    """(the values to show again, the use case's fields, {field: message})."""
    values = {name: form.get(name, "").strip() for name in (*LIMITS, "window_start", "window_end", "audience")}
    values["customer_codes"] = form.getlist("customer_codes")
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if not values[name]:
            errors[name] = _("This field is required.")
        elif len(values[name]) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
    try:
        zone = ZoneInfo(values["timezone"]) if "timezone" not in errors else None
    except (ZoneInfoNotFoundError, ValueError):
        zone, errors["timezone"] = None, _("Not a time zone (an IANA name such as Asia/Shanghai).")
    fields = {name: values[name] for name in LIMITS}
    for name in ("window_start", "window_end"):
        moment = _local(values[name], zone) if values[name] else None
        if not values[name]:
            errors[name] = _("This field is required.")
        elif moment is None:
            errors[name] = _("A date and time.")
        fields[name] = moment
    if values["audience"] == "customers":
        if not values["customer_codes"]:
            errors["customer_codes"] = _("Choose the customers, or announce to all.")
        fields["customer_codes"] = values["customer_codes"]
    elif values["audience"] == "all":
        fields["all_customers"] = True
    else:
        errors["audience"] = _("Choose who hears of it.")
    return values, fields, errors


#: the use case's rules, said in the page's language
MESSAGES = {"window_start": lambda: _("Customers are told before an update: the window must start in the future."),
            "window_end": lambda: _("The window must end after it starts."),
            "timezone": lambda: _("Not a time zone (an IANA name such as Asia/Shanghai)."),
            "customer_codes": lambda: _("Unknown customers were chosen.")}


@blp.post("")
def announce():
    values, fields, errors = _read(request.form)
    if errors:
        return _page(422, values, errors)
    try:
        row = announcements.announce(current_user(), fields)
    except ValidationFailed as exc:
        return _page(422, values, {e["field"]: MESSAGES[e["field"]]() if e["field"] in MESSAGES else e["message"]
                                   for e in exc.errors})
    reached = row.reached
    flash(_("%(product)s %(version)s is announced to %(n)d customers (%(mails)d mails, %(posts)d chat posts).",
            product=row.product, version=row.version, n=len(reached["customers"]), mails=reached["mails"],
            posts=reached["chat_posts"]), "success")
    return back_to("announcement_pages.index")
