"""Running process instances: start, load, complete tasks, deliver messages, fire timers."""
from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import dataflow, history, migration
from engine import specs as spec_module
from engine.errors import EngineError, HandlerError, NotWaiting, ProcessError, TaskNotReady
from engine.isolation.sandbox import default_sandbox
from engine.migration import MigrationCheck
from engine.model import BuiltVersion, Completion, ProcessSpecs, Progress, UserTask, WaitingEvent
from engine.sandbox import Sandbox, SandboxError
from engine.scripting import CaseflowScriptEngine, Handler
from engine.serialization import StateSerializer

SpecLoader = Callable[[str], str]
#: the period of an application-set alarm (see ProcessRun.set_alarm)
ALARM_PERIOD = timedelta(days=36500)
_EVENT_KINDS = {
    "TimeDateEventDefinition": "timer", "DurationTimerEventDefinition": "timer",
    "CycleTimerEventDefinition": "timer", "MessageEventDefinition": "message",
    "SignalEventDefinition": "signal",
}


def _waited_events(task: Any) -> list[tuple[Any, Any]]:
    """(event definition, catch event spec) pairs a waiting task stands for. An event-based
    gateway holds the events of the catch events after it (SpiffWorkflow moves them onto the
    gateway, in the order of its outgoing flows); each is reported under its own catch event."""
    spec = task.task_spec
    definition = spec.event_definition
    if isinstance(spec, EventBasedGateway) and isinstance(definition, MultipleEventDefinition):
        return [(part, spec.outputs[i] if i < len(spec.outputs) else spec)
                for i, part in enumerate(definition.event_definitions)]
    return [(definition, spec)]


def _root_cause(exc: BaseException) -> BaseException:
    """The error that started it: SpiffWorkflow wraps errors in its own, sometimes twice."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (SandboxError, HandlerError)):
            return current
        inner = getattr(current, "exception", None) or current.__cause__ or current.__context__
        if inner is None:
            return current
        current = inner
    return current


def _process_error(exc: Exception) -> ProcessError:
    """Translate whatever a step raised into a ProcessError naming the element."""
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    cause = _root_cause(exc)
    message = getattr(cause, "message", None) or str(cause) or type(cause).__name__
    line = getattr(cause, "line", None) or getattr(exc, "line_number", None) or None
    return ProcessError(message, element=getattr(spec, "bpmn_id", None),
                        element_name=getattr(spec, "bpmn_name", None), line=line)


def _positions(workflow: BpmnWorkflow) -> list[tuple[Any, set[str], tuple[tuple[Any, str], ...]]]:
    """Where an instance is, for the dry run's variable check: each ready or waiting task's spec,
    its data and the call activities it is inside (innermost first, with the called process)."""
    positions = []
    for task in workflow.get_tasks(state=migration.ACTIVE):
        chain: list[tuple[Any, str]] = []
        current = task.workflow
        while current is not workflow and getattr(current, "parent_task_id", None) is not None:
            caller = workflow.get_task_from_id(current.parent_task_id)
            chain.append((caller.task_spec, current.spec.name))
            current = caller.workflow
        positions.append((task.task_spec, set(task.data), tuple(chain)))
    return positions


def _missing_reason(missing: dataflow.MissingVariable) -> migration.Reason:
    params = {"element": missing.element, "element_name": missing.element_name, "name": missing.name,
              "element_name_zh": missing.element_name_zh or missing.element_name}
    if missing.process:
        return migration.Reason("move_variable_missing_called", {**params, "process": missing.process})
    return migration.Reason("move_variable_missing", params)


class ProcessRun:
    """One loaded instance. Not thread-safe: load, change and dump it within one unit of work."""

    def __init__(self, workflow: BpmnWorkflow, serializer: StateSerializer):
        self._wf = workflow
        self._serializer = serializer
        #: the waiting tasks when the run was loaded or started: what waits beyond them is new
        self._waiting_at_load = {str(t.id) for t in workflow.event_manager.tasks.values()}
        #: whether the workflow is completed, known since the last step (SpiffWorkflow walks the
        #: tree up to the first unfinished task to tell: a long-lived case's tree has hundreds)
        self._completed: bool | None = None

    # -- reading ---------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        if self._completed is None:
            self._completed = bool(self._wf.is_completed())
        return self._completed

    @property
    def data(self) -> dict[str, Any]:
        """The data of the most recently completed task (the instance's current variables); while
        a called process runs, its own (it started with a copy of the caller's)."""
        for sub in sorted(self._wf.get_active_subprocesses(), key=lambda wf: wf.depth, reverse=True):
            if sub.last_task is not None:
                return dict(sub.last_task.data)
        last = self._wf.last_task
        return dict(last.data) if last is not None else dict(self._wf.data)

    def user_tasks(self) -> list[UserTask]:
        return [self._to_user_task(t) for t in self._wf.get_tasks(state=TaskState.READY, manual=True)]

    def waiting(self) -> list[WaitingEvent]:
        """Timers (with their due time) and messages the instance waits for."""
        events = []
        for task in self._wf.event_manager.tasks.values():
            for definition, spec in _waited_events(task):
                details = definition.details(task)
                kind = _EVENT_KINDS.get(details.event_type, details.event_type)
                due = datetime.fromisoformat(details.value) if kind == "timer" and details.value else None
                expression = getattr(definition, "expression", None)
                properties = dict(getattr(spec, "extensions", {}).get("properties", {}))
                events.append(WaitingEvent(kind=kind, name=details.name, element_id=spec.bpmn_id,
                                           due_at=due, expression=expression.strip() if expression else None,
                                           properties=properties, task_id=str(task.id)))
        return events

    def newly_waiting(self, waits: list[WaitingEvent] | None = None) -> list[WaitingEvent]:
        """The events the instance began to wait for since it was loaded or started (of ``waits``,
        when the caller has just read :meth:`waiting`)."""
        return [w for w in (self.waiting() if waits is None else waits) if w.task_id not in self._waiting_at_load]

    def progress(self) -> Progress:
        """The completed and the current elements of each process (each element once, in the
        order first met), for showing the instance on its diagrams."""
        completed: dict[str, dict[str, None]] = {  # first met in the history cut from the state
            process: dict.fromkeys(ids) for process, ids in history.pruned_elements(self._wf).items()}
        current: dict[str, dict[str, None]] = {}
        for task in self._wf.get_tasks():
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element:
                continue  # the engine's own start/end/root tasks
            process = task.workflow.spec.name
            if task.state == TaskState.COMPLETED:
                completed.setdefault(process, {})[element] = None
            elif task.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
                current.setdefault(process, {})[element] = None
        return Progress({p: list(ids) for p, ids in completed.items()}, {p: list(ids) for p, ids in current.items()})

    def dump(self) -> str:
        """The state to store; a long-lived instance's far finished history is cut first
        (``engine.history``)."""
        history.prune(self._wf)
        return self._serializer.dump(self._wf)

    # -- changing --------------------------------------------------------------------------
    def run(self) -> None:
        """Run every automatic step until only user tasks or waiting events remain."""
        self._guard(self._wf.do_engine_steps)

    def complete(self, task_id: str, data: Mapping[str, Any]) -> Completion:
        task = self._ready_task(task_id)
        info = self._to_user_task(task)
        task.data.update(data)
        self._guard(task.run)
        result = dict(task.data)
        self.run()
        return Completion(task=info, data=result)

    def send_message(self, name: str, payload: Any) -> None:
        event = BpmnEvent(MessageEventDefinition(name), payload, {})
        self._completed = None
        try:
            self._wf.send_event(event)
        except WorkflowException as exc:
            raise NotWaiting(str(exc)) from None
        self.run()

    def fire_due_timers(self) -> None:
        self._guard(self._wf.refresh_timers)
        self.run()

    def set_alarm(self, variable: str, due: datetime) -> None:
        """Move every timer whose expression is the bare name ``variable`` to ``due``.

        For due times the application computes (business-calendar arithmetic) and changes while
        the timer waits: the engine fixes a timer's due time when it starts waiting, so the new
        value is written into the waiting timers and into the variable of the ready and waiting
        tasks (which timers armed later read). A cycle timer keeps firing while its task is open,
        each time at the ``due`` set after its previous firing — an alarm clock the application
        re-sets; date timers fire once.

        The cycle's own period is a century (``ALARM_PERIOD``): a cycle timer that was due long
        ago fires once per missed period when it is refreshed, so a short period would replay
        every missed hour after downtime; the application moves ``next`` after each firing anyway.
        """
        value = f"R/{due.isoformat()}/P{ALARM_PERIOD.days}D"
        for task in self._wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
            if variable in task.data or task.task_spec.manual:
                task.data[variable] = value
        for task in self._wf.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            if (getattr(definition, "expression", "") or "").strip() != variable:
                continue
            if isinstance(definition, CycleTimerEventDefinition):
                task._set_internal_data(event_value={"cycles": -1, "next": due.isoformat(),
                                                     "duration": ALARM_PERIOD.total_seconds()})
            elif isinstance(definition, TimeDateEventDefinition):
                task._set_internal_data(event_value=due.isoformat())

    def move_date_timers(self, variable: str, due: datetime) -> int:
        """Move the waiting date timers whose expression is the bare name ``variable`` to ``due``
        (e.g. a follow-up counted from a deployment date that was corrected); returns how many moved.
        Timers that fired already are not waiting any more and stay as they were."""
        moved = 0
        for task in self._wf.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            if isinstance(definition, TimeDateEventDefinition) and (definition.expression or "").strip() == variable:
                task._set_internal_data(event_value=due.isoformat())
                task.data[variable] = due.isoformat()
                moved += 1
        return moved

    # -- helpers ---------------------------------------------------------------------------
    def _ready_task(self, task_id: str) -> Any:
        try:
            task = self._wf.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TypeError, KeyError, SpiffWorkflowException):
            raise TaskNotReady(f"task {task_id} does not exist in this instance") from None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(f"task {task_id} is not ready")
        return task

    def _to_user_task(self, task: Any) -> UserTask:
        spec = task.task_spec
        return UserTask(
            id=str(task.id), element_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane, process_id=task.workflow.spec.name,
            properties=dict(spec.extensions.get("properties", {})), data=dict(task.data),
        )

    def _guard(self, step: Callable[[], Any]) -> None:
        """Run a step of the engine (every change of the workflow's tasks goes through here)."""
        self._completed = None
        try:
            step()
        except EngineError:
            raise
        except Exception as exc:  # anything a diagram's step raises fails that step, named
            raise _process_error(exc) from exc
        finally:
            self._completed = None


class Engine:
    """Parses process files, caches specs per version, starts and loads instances.

    ``spec_loader`` returns a version's stored spec JSON by its key when the cache misses (e.g.
    after a restart, or for an instance on an older version).
    """

    def __init__(self, handlers: Mapping[str, Handler], spec_loader: SpecLoader | None = None,
                 sandbox: Sandbox | None = None, cache_size: int = 32):
        self.handlers = handlers
        self.sandbox = sandbox or default_sandbox()  # scripts in worker processes (engine/isolation)
        self.serializer = StateSerializer()
        self._spec_loader = spec_loader
        self._cache: OrderedDict[str, ProcessSpecs] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        # The library logs every task state change at INFO: noise, and measurable time per step.
        logging.getLogger("spiff").setLevel(logging.WARNING)

    def build(self, files: Mapping[str, bytes]) -> BuiltVersion:
        """Parse and check ``files``. Unparseable files raise DefinitionError; every other
        problem is listed in the result's ``problems`` (deploy only a ``valid`` build)."""
        specs, problems = spec_module.build(files, self.sandbox, self.handlers.keys())
        return BuiltVersion(
            spec_json=self.serializer.dump_specs(specs) if not problems else "",
            process_ids=tuple(sorted(specs)),
            user_tasks=tuple(spec_module.user_task_infos(specs)),
            other_elements=tuple(spec_module.other_element_infos(specs)),
            problems=tuple(problems),
        )

    def _specs(self, key: str) -> ProcessSpecs:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        if self._spec_loader is None:
            raise KeyError(f"version {key} is not loaded")
        loaded = self.serializer.load_specs(self._spec_loader(key))
        with self._lock:
            self._cache[key] = loaded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return loaded

    def _script_engine(self, context: Any) -> CaseflowScriptEngine:
        return CaseflowScriptEngine(self.sandbox, self.handlers, context)

    def start(self, key: str, process_id: str, data: Mapping[str, Any], context: Any = None) -> ProcessRun:
        specs = self._specs(key)
        if process_id not in specs:
            raise ProcessError(f"version {key} has no process '{process_id}'", element=process_id)
        spec, subprocess_specs = specs[process_id]
        wf = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine(context))
        wf.task_tree.data.update(data)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        run = ProcessRun(wf, self.serializer)
        run.run()
        return run

    def check_migration(self, key: str, process_id: str, state: str, target_key: str,
                        context: Any = None, forms: Mapping[str, dict[str, Any]] | None = None,
                        mapping: Mapping[str, str] | None = None) -> MigrationCheck:
        """Could this instance move to the version ``target_key``? If not, why not.

        Beyond the shape (every current step exists in the target, or is mapped to one by
        ``mapping`` {old id: new id}), the move is tried on a copy and the automatic steps that
        follow are run: a script of the new diagram that needs a variable the case does not have
        shows up here, not after the move. Then the paths ahead, into called processes too, are
        checked for variables read before anything writes them (``engine.dataflow``)."""
        workflow = self.serializer.load(state, self._specs(key)[process_id])
        target = self._specs(target_key).get(process_id)
        verdict = migration.check(self.serializer.registry, workflow, target, mapping)
        if not verdict.migratable:
            return verdict
        try:
            run = self.migrate(key, process_id, state, target_key, context, mapping)
        except ProcessError as exc:
            undefined = re.fullmatch(r"name '(\w+)' is not defined", exc.message or "")
            if exc.element and undefined:
                return MigrationCheck(False, (migration.Reason("move_fails_variable", {
                    "element": exc.element, "name": undefined.group(1)}),))
            if exc.element:
                return MigrationCheck(False, (migration.Reason("move_fails_at", {"element": exc.element,
                                                                                 "detail": exc.message}),))
            return MigrationCheck(False, (migration.Reason("move_fails", {"detail": exc.message}),))
        missing = dataflow.missing_variables(_positions(run._wf), forms or {},
                                             subprocesses=target[1] if target is not None else {})
        if missing:
            return MigrationCheck(False, tuple(_missing_reason(m) for m in missing))
        return verdict

    def migrate(self, key: str, process_id: str, state: str, target_key: str, context: Any = None,
                mapping: Mapping[str, str] | None = None) -> ProcessRun:
        """The instance moved onto ``target_key``, its automatic steps run (MigrationBlocked if it cannot)."""
        workflow = self.serializer.load(state, self._specs(key)[process_id])
        workflow.script_engine = self._script_engine(context)  # re-predicted tasks run pre-scripts
        try:
            migration.migrate(self.serializer.registry, workflow, self._specs(target_key).get(process_id), mapping)
        except EngineError:
            raise
        except Exception as exc:
            raise _process_error(exc) from exc
        run = ProcessRun(workflow, self.serializer)
        run.run()
        return run

    def mapping_problems(self, key: str, target_key: str, mapping: Mapping[str, str]) -> dict[str, migration.Reason]:
        """What is wrong with a mapping of renamed ids between two versions (old id -> why)."""
        return migration.mapping_problems(self._specs(key), self._specs(target_key), mapping)

    def load(self, key: str, process_id: str, state: str, context: Any = None) -> ProcessRun:
        wf = self.serializer.load(state, self._specs(key)[process_id])
        wf.script_engine = self._script_engine(context)
        return ProcessRun(wf, self.serializer)
