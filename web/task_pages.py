"""The task page: the task's form, rendered from the JSON schema the API validates against,
completed by a plain POST (no JavaScript needed); claim and release."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from cases.casework import attachments, queries
from cases.casework import tasks as work
from cases.core import accounts
from cases.core.errors import Conflict, PreconditionRequired, ValidationFailed
from cases.process import forms
from cases.process.taskrules import can_work_on
from web import taskforms, timeline
from web.display import clock, may_claim, task_title
from web.pages import current_user, page_blueprint, render

blp = page_blueprint("task_pages")


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


def _page(view, values: dict, problems: list[dict] | None = None, status: int = 200, notice: str | None = None):
    user = current_user()
    task = view.task
    users = {role: accounts.staff_with_role(user, role) for role in taskforms.user_roles(view.form)} \
        if user.is_staff else {}
    items = taskforms.fields(view.form, values, users)
    loose = taskforms.attach_errors(items, problems or [])
    may_work = task.is_open and can_work_on(user, task)
    history = queries.case_view(user, view.case.id).history if user.is_staff else []
    return render("task.html", status, task=task, case=view.case, form_schema=view.form, fields=items,
                  files=attachments.list_for_case(user, view.case.id), entries=timeline.entries(history, user),
                  loose_errors=loose, has_errors=bool(problems), notice=notice, clock=clock(view.case),
                  may_complete=may_work and task.assignee_id in (None, user.id),
                  may_claim=may_claim(task),
                  may_release=task.is_open and task.assignee_id is not None and (
                      task.assignee_id == user.id or (user.is_staff and user.has_role("supervisor"))))


@blp.get("/tasks/<string:task_id>")
def task(task_id: str):
    view = queries.task_view(current_user(), task_id)
    return _page(view, view.values)


@blp.post("/tasks/<string:task_id>")
def complete(task_id: str):
    """Complete the task with the submitted form: checked against the schema first (messages
    beside the fields, nothing saved), then completed in one transaction with the version seen."""
    user = current_user()
    view = queries.task_view(user, task_id)
    data = taskforms.data_from(view.form, request.form)
    submitted = {**data, **{k: v for k, v in request.form.items() if k in view.form.get("properties", {})}}
    problems = forms.problems(view.version_id, view.task.form, data, case_id=view.case.id)
    if problems:
        return _page(view, submitted, problems, 422)
    try:
        done = work.complete(user, task_id, _version(), data)
    except ValidationFailed as exc:
        return _page(view, submitted, exc.errors, 422)
    except (Conflict, PreconditionRequired) as exc:
        fresh = queries.task_view(user, task_id)
        if isinstance(exc, PreconditionRequired) or exc.code == "stale_version":
            notice = _("This task changed since you opened it (someone else worked on it). Nothing was saved: "
                       "check the task as it is now and send the form again.")
        elif exc.code == "task_not_open":
            notice = _("This task is no longer open. Nothing was saved.")
        else:
            notice = _("This task cannot be completed as it is now. Nothing was saved.")
        return _page(fresh, submitted, None, 409, notice)
    flash(_("“%(name)s” is done.", name=task_title(done.task)), "success")
    mine = [t for t in done.next_tasks if t.assignee_id == user.id]
    if mine:
        return redirect(url_for("task_pages.task", task_id=mine[0].id), 303)
    if user.is_customer:
        return redirect(url_for("case_pages.case", case_id=done.task.case_id), 303)
    return redirect(url_for("inbox.inbox"), 303)


@blp.post("/tasks/<string:task_id>/release")
def release(task_id: str):
    try:
        task = work.release(current_user(), task_id, _version())
    except Conflict:
        flash(_("This task changed since you opened it. Nothing was changed."), "error")
        return redirect(url_for("task_pages.task", task_id=task_id), 303)
    flash(_("You gave “%(name)s” back to its lane.", name=task_title(task)), "success")
    return redirect(url_for("inbox.inbox"), 303)
