"""The task page: the task's form, rendered from the JSON schema the API validates against."""
from __future__ import annotations

from cases import queries

from .pages import current_user, page_blueprint, render

blp = page_blueprint("task_pages")


@blp.get("/tasks/<string:task_id>")
def task(task_id: str):
    view = queries.task_view(current_user(), task_id)
    return render("task.html", view=view, task=view.task, case=view.case)
