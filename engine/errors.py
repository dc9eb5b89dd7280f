"""Exceptions the engine raises; the API maps them to problem responses in one place."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.messages import render


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a process definition."""

    file: str | None
    element: str | None
    message: str
    line: int | None = None
    #: the script or expression at fault and the line within it, to locate it in the file
    source: str | None = field(default=None, compare=False, repr=False)
    source_line: int | None = field(default=None, compare=False, repr=False)
    #: the wording class (engine/messages.py) and its parameters: the sentence in either language
    code: str | None = field(default=None, compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        message = render(self.code, self.params, lang) if self.code else self.message
        return {"file": self.file, "element": self.element, "line": self.line, "message": message,
                "code": self.code or "definition"}


def problem(code: str, file: str | None, element: str | None, line: int | None, **params: Any) -> Problem:
    """A problem in the wording class ``code``; ``as_dict(lang)`` renders it in English or Chinese."""
    return Problem(file, element, render(code, params), line, code=code, params=params)


class EngineError(Exception):
    """Base class of the engine's errors."""


class DefinitionError(EngineError):
    """Process files that cannot be deployed; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class ProcessError(EngineError):
    """A step of a running instance failed (script error, sandbox violation, missing handler)."""

    def __init__(self, message: str, element: str | None = None, element_name: str | None = None,
                 line: int | None = None):
        super().__init__(message)
        self.message = message
        self.element = element
        self.element_name = element_name
        self.line = line


class TaskNotReady(EngineError):
    """The task does not exist in the instance or is no longer ready."""


class NotWaiting(EngineError):
    """The instance is not waiting for the message that was sent."""


class HandlerError(EngineError):
    """Raised by a service-task handler; becomes a ProcessError naming the task."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
