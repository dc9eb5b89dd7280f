"""Log in, log out, the language switch and the start page."""
from __future__ import annotations

from flask import redirect, request, session, url_for
from flask_babel import gettext as _

from cases.casework import queries
from cases.core.errors import TooManyAttempts, Unauthenticated
from cases.core.models import Role, User
from gateway.session import log_in, log_out
from web.i18n import LANGUAGES
from web.pages import back_to, current_user, local_path, page_blueprint, render

blp = page_blueprint("web_auth")

def home_endpoint(user) -> str:
    """Where a user starts: customers in the portal, supervisors and customer service managers on
    the escalation board, process owners on their processes, other staff in the inbox."""
    if user.is_customer:
        return "portal.home"
    if user.has_role(Role.SUPERVISOR.value, Role.MANAGER.value):
        return "board.board"
    if user.has_role(Role.PROCESS_OWNER.value) and not user.has_role(*TASK_ROLES):
        return "owner.processes"
    return "inbox.inbox"


#: the roles that work tasks in the inbox (a process owner who also has one starts there)
TASK_ROLES = tuple(r.value for r in Role if r not in (Role.CUSTOMER, Role.PROCESS_OWNER, Role.ADMIN, Role.MANAGER))


def home_url(user: User) -> str:
    """The start page's address: the inbox opens on the user's own tasks, or on the tasks their roles
    may claim when they have none of their own (never on an empty "My tasks" when work waits)."""
    endpoint = home_endpoint(user)
    if endpoint == "inbox.inbox" and queries.list_tasks(user, "mine", {}, 1, 1).total == 0 \
            and queries.list_tasks(user, "claimable", {}, 1, 1).total > 0:
        return url_for(endpoint, scope="claimable")
    return url_for(endpoint)


@blp.get("/")
def index():
    return redirect(home_url(current_user()))


@blp.route("/login", methods=["GET", "POST"])
def login():
    next_url = local_path(request.values.get("next"))
    if request.method == "GET":
        return render("login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()
    try:
        user = log_in(username, request.form.get("password", ""))
    except TooManyAttempts as exc:
        return render("login.html", 429, next_url=next_url, username=username,
                      error=_("Too many failed log-ins. Try again in %(minutes)d minutes.",
                              minutes=max(1, exc.retry_after // 60)))
    except Unauthenticated:
        return render("login.html", 401, next_url=next_url, username=username,
                      error=_("Unknown user name or wrong password."))
    return redirect(next_url or home_url(user), 303)


@blp.post("/logout")
def logout():
    log_out()
    return redirect(url_for("web_auth.login"), 303)


@blp.post("/language")
def language():
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return back_to("web_auth.login")
