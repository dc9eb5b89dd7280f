"""Plain values the engine hands to the rest of caseflow (no SpiffWorkflow types leak out)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: a process as parsed: (its SpiffWorkflow spec, the specs of the processes it calls by name)
SpecPair = tuple[Any, dict[str, Any]]
#: the processes of a deployed version by process id (SpiffWorkflow objects: engine-internal)
ProcessSpecs = dict[str, SpecPair]


@dataclass(frozen=True)
class UserTask:
    """A ready user or manual task."""

    id: str
    element_id: str
    name: str
    lane: str | None
    process_id: str
    properties: dict[str, str]
    data: dict[str, Any]

    def prop(self, name: str, default: str | None = None) -> str | None:
        return self.properties.get(name, default)


@dataclass(frozen=True)
class WaitingEvent:
    """Something the instance waits for: a timer (with its due time) or a message."""

    kind: str  # 'timer' | 'message' | 'signal' | ...
    name: str
    element_id: str
    due_at: datetime | None = None
    expression: str | None = None  # a timer's expression as written in the diagram
    #: the ``spiffworkflow:properties`` of the catch event (e.g. ``customerNotice``)
    properties: dict[str, str] = field(default_factory=dict)
    #: the engine's id of the waiting task (a new one each time the event is reached)
    task_id: str | None = None


@dataclass(frozen=True)
class Progress:
    """Where an instance is, per process (the top one and every called one it entered): the
    diagram elements it has completed and those it is at now (ready, running or waiting)."""

    completed: dict[str, list[str]]
    current: dict[str, list[str]]


@dataclass(frozen=True)
class Completion:
    """What completing a task changed: the data the task ended with."""

    task: UserTask
    data: dict[str, Any]


@dataclass(frozen=True)
class TaskSpecInfo:
    """Static facts about a user task of a deployed process (for validation and docs)."""

    element_id: str
    name: str
    lane: str | None
    process_id: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltVersion:
    """The result of parsing a set of process files."""

    spec_json: str
    process_ids: tuple[str, ...]
    user_tasks: tuple[TaskSpecInfo, ...]
    problems: tuple[Any, ...] = ()
    #: other elements with properties (catch events, service tasks …)
    other_elements: tuple[TaskSpecInfo, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems
