"""Shared helpers for the engine tests: the real process files, a real round-robin handler and
a driver that saves and reloads the instance after every step."""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from engine.model import UserTask
from engine.runtime import Engine, ProcessRun

ROOT = Path(__file__).resolve().parents[2]
PROCESS_DIR = ROOT / "processes"
PROCESS_FILES: dict[str, bytes] = {
    p.name: p.read_bytes() for p in sorted(PROCESS_DIR.iterdir()) if p.suffix in (".bpmn", ".dmn")
}
PROCESS_ID = "support_case"
VERSION_KEY = "support_case@1"


def start_data(**overrides: Any) -> dict[str, Any]:
    """Start data the process requires (an unremarkable case unless overridden)."""
    data = {
        "title": "Question about our account",
        "description": "Please call me back",
        "environment": "",
        "category_hint": None,
        "priority_hint": None,
        "customer_tier": "standard",
        "case_id": "CASE-1",
    }
    data.update(overrides)
    return data


class RoundRobin:
    """A tiny real handler: hands out users of a role in turn and records every call."""

    USERS = {"service_consultant": ["alice", "bob", "carol"]}

    def __init__(self):
        self.calls: list[dict[str, Any]] = []
        self._cycles = {role: itertools.cycle(users) for role, users in self.USERS.items()}

    def __call__(self, ctx, role):
        self.calls.append({"ctx": ctx, "role": role})
        return next(self._cycles[role])


class Escalations:
    """A tiny real ``sla_escalate`` handler: records the recipients the diagram names."""

    def __init__(self):
        self.calls: list[dict[str, str]] = []

    def __call__(self, ctx, **recipients):
        self.calls.append(recipients)
        return []


class Recorder:
    """A tiny real handler for the other operations: records its calls, answers ``result``
    (called with the parameters when it is callable)."""

    def __init__(self, result: Any = None):
        self.calls: list[dict[str, Any]] = []
        self.result = result

    def __call__(self, ctx, **params):
        self.calls.append(params)
        return self.result(**params) if callable(self.result) else self.result


def process_handlers(**overrides: Any) -> dict[str, Any]:
    """The operations the real processes call, with real little implementations."""
    return {"round_robin_user": RoundRobin(), "sla_escalate": Escalations(),
            "dedicated_consultant": Recorder(None), "report_to_hq": Recorder({"report_id": 1, "status": "pending"}),
            "record_fixed_version": Recorder(lambda version, notes: {"report_id": 1, "version": version}),
            "deadline_missed": Recorder(lambda step: {"step": step}),
            "business_deadline": Recorder("2030-01-03T09:00:00+00:00"),
            "send_survey": Recorder(lambda kind, milestone=None: {"survey_id": 1, "mailed": True}),
            "open_complaint": Recorder(lambda origin, reason: {"case_id": 2, "number": "CF-2030-000002"}),
            "send_complaint_response": Recorder({"mailed_to": "li@example.com"}),
            "report_complaint_outcome": Recorder({"reported_to": "CF-2030-000001"}),
            "enrol_for_training": Recorder(lambda wanted: {"enrolled": wanted}),
            "risk_review_due": Recorder({"open": True, "level": "high"}),
            "apply_risk_review": Recorder(lambda outcome, **_: {"closed": outcome == "close", "level": "high",
                                                                  "review_due": "2030-02-01T01:00:00+00:00"}),
            "training_invitations": Recorder({"invited": 2}),
            "training_reminder": Recorder({"cancelled": False, "reminded": 2,
                                           "session_end": "2030-02-01T03:00:00+00:00"}),
            "training_attendance_due": Recorder({"cancelled": False}),
            "apply_training_attendance": Recorder(lambda session_id, entries: {
                "absentees": sum(1 for e in entries if not e["attended"]), "attended": 0}),
            "apply_training_follow_up": Recorder({"moved": 1, "excused": 0}),
            "major_incident_escalate": Recorder(lambda incident_id, target, rung: {"escalated": True}),
            "resolve_major_incident": Recorder(lambda incident_id, solution, cause: {"resolved": 1}),
            "visit_state": Recorder({"status": "proposed", "remind": False, "reminder_at": "2030-02-01T02:00:00+00:00",
                                     "window_end": "2030-02-02T08:00:00+00:00"}),
            "visit_reminder": Recorder({"sent": True}),
            "write_repair_log": Recorder({"log_id": 1}),
            "maintenance_state": Recorder({"active": True, "due_at": "2030-02-01T00:00:00+08:00"}),
            "open_maintenance_task": Recorder({"opened": 1, "next_due": "2030-03-01"}),
            **overrides}


class CaseDriver:
    """Drives one instance of the real process.

    After every step the state is dumped and loaded again by a *fresh* Engine (empty spec
    cache), so the spec must come from ``spec_loader`` and the instance must survive the
    round trip before the next step runs.
    """

    def __init__(self, handlers: dict | None = None, data: dict | None = None, context: Any = None,
                 process_id: str = PROCESS_ID):
        self.process_id = process_id
        self.handlers = process_handlers(**(handlers or {}))
        self.round_robin = self.handlers["round_robin_user"]
        self.context = context
        self.store: dict[str, str] = {}
        self.loader_calls: list[str] = []
        builder = self.new_engine()
        built = builder.build(PROCESS_FILES)
        self.spec_json = built.spec_json
        self.store[VERSION_KEY] = built.spec_json
        self.states: list[str] = []
        self.run: ProcessRun = builder.start(VERSION_KEY, process_id, data if data is not None else start_data(),
                                             context)
        self.roundtrip()

    def _load_spec(self, key: str) -> str:
        self.loader_calls.append(key)
        return self.store[key]

    def new_engine(self) -> Engine:
        return Engine(self.handlers, spec_loader=self._load_spec)

    # -- state -------------------------------------------------------------------------------
    def roundtrip(self) -> None:
        state = self.run.dump()
        json.loads(state)  # it is JSON text
        calls_before = len(self.loader_calls)
        reloaded = self.new_engine().load(VERSION_KEY, self.process_id, state, self.context)
        assert len(self.loader_calls) == calls_before + 1, "a fresh engine must fetch the spec via spec_loader"
        assert reloaded.dump() == state, "dump → load → dump changed the state"
        assert reloaded.completed == self.run.completed
        assert [t.element_id for t in reloaded.user_tasks()] == [t.element_id for t in self.run.user_tasks()]
        if not reloaded.completed:
            # never silently stuck: an open instance has something to do or to wait for
            assert reloaded.user_tasks() or reloaded.waiting(), "open instance with nothing ready or waiting"
        self.states.append(state)
        self.run = reloaded

    # -- reading -----------------------------------------------------------------------------
    @property
    def data(self) -> dict[str, Any]:
        return self.run.data

    def task(self, element_id: str | None = None) -> UserTask:
        tasks = self.run.user_tasks()
        assert len(tasks) == 1, f"expected one ready user task, got {[t.element_id for t in tasks]}"
        if element_id is not None:
            assert tasks[0].element_id == element_id, f"expected {element_id}, at {tasks[0].element_id}"
        return tasks[0]

    # -- steps -------------------------------------------------------------------------------
    def complete(self, element_id: str, **data: Any):
        task = self.task(element_id)
        completion = self.run.complete(task.id, data)
        self.roundtrip()
        return completion

    def send_message(self, name: str, payload: Any) -> None:
        self.run.send_message(name, payload)
        self.roundtrip()

    def to_resolve(self) -> None:
        """classify (as a data problem: the service-order path) → assign, accepting the proposals."""
        self.complete("classify", category="data_problem")
        self.complete("assign")
        self.task("resolve")


@pytest.fixture
def case() -> CaseDriver:
    return CaseDriver()
