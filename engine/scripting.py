"""SpiffWorkflow's script engine, routed through the sandbox and the handler registry."""
from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import HandlerError
from engine.sandbox import Sandbox

Handler = Callable[..., Any]


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """Every script, condition, timer expression and DMN cell runs in the sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__({})
        self.sandbox = sandbox

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        self.sandbox.execute(script, context, external_context)
        return True


class UnknownOperation(HandlerError):
    def __init__(self, name: str):
        super().__init__("unknown_operation", f"no handler implements the service operation '{name}'")


class CaseflowScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """One per loaded instance: carries the handlers and the caller's service context.

    ``call_service`` is overridden here (not on the environment) because the library masks a
    handler's exception behind a ``NameError`` on the environment path.
    """

    def __init__(self, sandbox: Sandbox, handlers: Mapping[str, Handler], context: Any = None) -> None:
        super().__init__(environment=SandboxedEnvironment(sandbox))
        self.handlers = handlers
        self.context = context

    def validate(self, expression: str) -> None:
        # The DMN engine relies on a SyntaxError here to tell "< 5" from "5".
        ast.parse(expression.strip(), mode="eval")
        self.environment.sandbox.compile(expression, "eval")

    def call_service(self, task: Any, operation_name: Any = None, operation_params: dict[str, Any] | None = None,
                     **kwargs: Any) -> str:
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        try:
            handler = self.handlers.get(operation_name)
            if handler is None:
                raise UnknownOperation(operation_name)
            result = handler(self.context, **params)
        except Exception as exc:  # a handler's failure fails this step, naming the service task
            message = exc.message if isinstance(exc, HandlerError) else f"{type(exc).__name__}: {exc}"
            raise WorkflowTaskException(f"operation '{operation_name}' failed: {message}",
                                        task=task, exception=exc) from exc
        return json.dumps(result, default=str)
