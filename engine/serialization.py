"""Instance state serialization with the process spec stored once per version.

SpiffWorkflow embeds the whole process spec in every serialized instance (about 60 % of its
size) and rebuilds it on every load. Here the workflow converter leaves the spec out; loading
takes the already-parsed spec objects of the instance's version from the engine's cache.
"""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.model import ProcessSpecs, SpecPair

#: Stored beside each instance; a change of engine version must come with a tested upgrade.
SERIALIZER_VERSION = VERSION


class SharedSpecWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]  # SpiffWorkflow is untyped
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], specs: SpecPair | None = None) -> BpmnWorkflow:
        if specs is None:
            raise ValueError("an instance can only be restored with its version's specs")
        spec, subprocess_specs = specs
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """Turns workflows into JSON text and back, and process specs into JSON once per version."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = SharedSpecWorkflowConverter
        self._inner = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self.registry = self._inner.registry
        self._workflow_converter = SharedSpecWorkflowConverter(BpmnWorkflow, self.registry)

    def dump(self, workflow: BpmnWorkflow) -> str:
        text: str = self._inner.serialize_json(workflow)
        return text

    def load(self, state: str, specs: SpecPair) -> BpmnWorkflow:
        dct = json.loads(state)
        self._inner.migrate(dct)
        dct.pop("typename", None)
        return self._workflow_converter.from_dict(dct, specs=specs)

    def dump_specs(self, specs: ProcessSpecs) -> str:
        """``specs``: process id -> (spec, subprocess_specs)."""
        return json.dumps({
            pid: {"spec": self.registry.convert(spec),
                  "subprocess_specs": {k: self.registry.convert(v) for k, v in subs.items()}}
            for pid, (spec, subs) in specs.items()
        })

    def load_specs(self, text: str) -> ProcessSpecs:
        return {
            pid: (self.registry.restore(d["spec"]),
                  {k: self.registry.restore(v) for k, v in d["subprocess_specs"].items()})
            for pid, d in json.loads(text).items()
        }
