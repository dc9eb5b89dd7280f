"""Tasks: inboxes, a task with its form, claim, release, complete."""
from __future__ import annotations

from flask.views import MethodView

from api.fastdump import compile_dump, json_response
from api.parsing import Blueprint
from api.resources.task_schemas import (
    CompletedSchema,
    CompleteSchema,
    TaskDetailSchema,
    TaskListArgs,
    TaskPageSchema,
    TaskSchema,
    VersionSchema,
)
from api.responses import Overlay, dumped, if_match_version
from cases.casework import queries
from cases.casework import tasks as work
from gateway.auth import current_user

# stateless when dumping: one instance each instead of a deep copy of the fields per response
TASK, TASK_DETAIL, COMPLETED = TaskSchema(), TaskDetailSchema(), CompletedSchema()
#: the inbox's page, dumped by the compiled schema (the same JSON; api/fastdump.py)
TASK_PAGE = compile_dump(TaskPageSchema())

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="User tasks")


def _etag(version: int) -> str:
    return f'"{version}"'


def _version(body: dict) -> int | None:
    """The version the client saw: If-Match header, else the body's 'version'."""
    seen = if_match_version("task")
    return seen if seen is not None else body.get("version")


def _task_response(task, status: int = 200):
    return dumped(TASK, task, status, headers={"ETag": _etag(task.version)})


@blp.route("")
class TaskCollection(MethodView):
    @blp.arguments(TaskListArgs, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, args):
        """My inbox: tasks assigned to me, claimable by my roles, or all I may see."""
        page, per_page, scope = args.pop("page"), args.pop("per_page"), args.pop("scope")
        return json_response(TASK_PAGE, queries.list_tasks(current_user(), scope, args, page, per_page))


@blp.route("/<string:task_id>")
class TaskItem(MethodView):
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id):
        """A task with its form (JSON schema), the values it starts with and its case."""
        view = queries.task_view(current_user(), task_id)
        return dumped(TASK_DETAIL, Overlay(view.task, form_schema=view.form, values=view.values),
                      headers={"ETag": _etag(view.task.version)})


@blp.route("/<string:task_id>/claim")
class TaskClaim(MethodView):
    @blp.arguments(VersionSchema)
    @blp.response(200, TaskSchema)
    def post(self, body, task_id):
        """Take the task (a supervisor may take it over from someone else)."""
        return _task_response(work.claim(current_user(), task_id, _version(body)))


@blp.route("/<string:task_id>/release")
class TaskRelease(MethodView):
    @blp.arguments(VersionSchema)
    @blp.response(200, TaskSchema)
    def post(self, body, task_id):
        """Give the task back to its lane."""
        return _task_response(work.release(current_user(), task_id, _version(body)))


@blp.route("/<string:task_id>/complete")
class TaskComplete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.response(200, CompletedSchema)
    def post(self, body, task_id):
        """Complete the task with data matching its form; the process moves on. The answer
        lists the case's open tasks after the step."""
        done = work.complete(current_user(), task_id, _version(body), body["data"])
        return dumped(COMPLETED, Overlay(done.task, next_tasks=done.next_tasks),
                      headers={"ETag": _etag(done.task.version)})
