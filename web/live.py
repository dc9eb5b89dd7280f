"""Live notices without reloading: every page of a member of staff carries ``data-live-url`` and
the bundled script (web/assets/src/live.js) polls this small JSON endpoint: the tasks that arrived,
what customers wrote, the targets that came at risk since the last poll (cases/casework/notices.py).
The count goes into the tab title and the notices into a live region; without JavaScript nothing
changes (the inbox and the case pages say the same on reload)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import current_app, g, jsonify, request, url_for
from flask_babel import gettext as _

from cases.casework import notices
from cases.core.models import utcnow
from web.display import case_title, word
from web.pages import current_user, page_blueprint

blp = page_blueprint("live")

#: how often a page asks (seconds; tests set LIVE_POLL_SECONDS lower)
DEFAULT_POLL_SECONDS = 30


def _moment(raw: str | None, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(raw or "")
    except ValueError:
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return min(moment, now)


@blp.get("/live/notices")
def live_notices() -> Any:
    """``?since=<ISO time the last answer gave>`` → ``{now, count, items: [{kind, label, case, title,
    text, url}]}``; the next poll sends ``now`` back as ``since``."""
    now = utcnow()
    found = notices.since(current_user(), _moment(request.args.get("since"), now), now)
    items = []
    for n in found:
        url = url_for("task_pages.task", task_id=n.task_id) if n.task_id else \
            url_for("case_pages.case", case_id=n.case.id)
        text = word(n.text) if n.kind == notices.AT_RISK and n.text else n.text
        items.append({"kind": n.kind, "label": _(notices.LABELS[n.kind]), "case": n.case.number,
                      "title": case_title(n.case), "text": text, "url": url})
    response = jsonify({"now": now.isoformat(), "count": len(items), "items": items})
    response.headers["Cache-Control"] = "no-store"
    return response


def live_attributes() -> dict[str, Any]:
    """The body's data- attributes that start the polling (staff only)."""
    user = g.get("user")
    if user is None or not user.is_staff:
        return {}
    return {"url": url_for("live.live_notices"), "since": utcnow().isoformat(),
            "interval": int(current_app.config.get("LIVE_POLL_SECONDS", DEFAULT_POLL_SECONDS)),
            "dismiss": _("Seen"), "heading": _("New since you opened this page")}


def register_globals(app: Any) -> None:
    app.jinja_env.globals.update(live_attributes=live_attributes)
