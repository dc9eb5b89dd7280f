"""Log in, log out, the language switch and the start page."""
from __future__ import annotations

from flask import redirect, request, session, url_for
from flask_babel import gettext as _

from cases.core.errors import TooManyAttempts, Unauthenticated
from cases.core.models import Role
from gateway.session import log_in, log_out
from web.i18n import LANGUAGES
from web.pages import back_to, current_user, local_path, page_blueprint, render

blp = page_blueprint("web_auth")

def home_endpoint(user) -> str:
    """Where a user starts: customers in the portal, supervisors on the board, staff in the inbox."""
    if user.is_customer:
        return "portal.home"
    if user.has_role(Role.SUPERVISOR.value):
        return "board.board"
    return "inbox.inbox"


@blp.get("/")
def index():
    return redirect(url_for(home_endpoint(current_user())))


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
    return redirect(next_url or url_for(home_endpoint(user)), 303)


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
