"""What changed between two sets of process files: elements added, removed and changed.

BPMN elements (tasks, events, gateways, flows, lanes…) and DMN rules are compared by id; an element
changed when its XML differs (attributes, scripts, conditions, properties; the drawing's positions
are not part of it). Forms are compared as files."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: what is not an element of its own (it belongs to the element it sits in)
_PARTS = {"incoming", "outgoing", "extensionElements", "script", "conditionExpression", "documentation",
          "flowNodeRef", "laneSet", "text", "inputEntry", "outputEntry", "inputExpression",
          "timerEventDefinition", "messageEventDefinition", "signalEventDefinition", "errorEventDefinition",
          "escalationEventDefinition", "terminateEventDefinition", "timeDuration", "timeDate", "timeCycle",
          "multiInstanceLoopCharacteristics", "loopCardinality", "completionCondition"}


@dataclass(frozen=True)
class Change:
    file: str
    element: str
    kind: str  # the element's tag, e.g. userTask, sequenceFlow, rule, form
    name: str | None


@dataclass
class VersionDiff:
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, list[dict[str, str | None]]]:
        def rows(items: list[Change]) -> list[dict[str, str | None]]:
            return [{"file": c.file, "element": c.element, "kind": c.kind, "name": c.name} for c in items]
        return {"added": rows(self.added), "removed": rows(self.removed), "changed": rows(self.changed)}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _elements(content: bytes) -> dict[str, tuple[str, str | None, bytes]]:
    """id -> (tag, name, canonical XML without diagram information) for the elements of a file."""
    try:
        root = etree.fromstring(content, etree.XMLParser(remove_blank_text=True, resolve_entities=False))
    except etree.XMLSyntaxError:
        return {}
    found = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.get("id") or _local(node) in _PARTS:
            continue
        namespace = etree.QName(node).namespace or ""
        if "DI" in namespace or "DD" in namespace or _local(node) in ("definitions", "BPMNDiagram"):
            continue
        copy = etree.fromstring(etree.tostring(node))
        for child in list(copy):  # an element's own content, not the elements inside it
            if isinstance(child.tag, str) and child.get("id") and _local(child) not in _PARTS:
                copy.remove(child)
        for text_node in copy.iter():
            if text_node.text:
                text_node.text = text_node.text.strip()
            if text_node.tail:
                text_node.tail = text_node.tail.strip()
        found[node.get("id")] = (_local(node), node.get("name") or node.get("label"),
                                 etree.tostring(copy, method="c14n"))
    return found


def compare(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> VersionDiff:
    """``old`` and ``new``: file name -> content (process files, and forms under ``forms/``)."""
    diff = VersionDiff()
    for name in sorted(set(old) | set(new)):
        if name.endswith(".json") or name.startswith("forms/"):
            if name not in old:
                diff.added.append(Change(name, name, "form", None))
            elif name not in new:
                diff.removed.append(Change(name, name, "form", None))
            elif old[name] != new[name]:
                diff.changed.append(Change(name, name, "form", None))
            continue
        before = _elements(old.get(name, b""))
        after = _elements(new.get(name, b""))
        for element in sorted(set(before) | set(after)):
            if element not in before:
                tag, label, _ = after[element]
                diff.added.append(Change(name, element, tag, label))
            elif element not in after:
                tag, label, _ = before[element]
                diff.removed.append(Change(name, element, tag, label))
            elif before[element][2] != after[element][2]:
                tag, label, _ = after[element]
                diff.changed.append(Change(name, element, tag, label))
    return diff
