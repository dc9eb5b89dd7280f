"""The process files are diagrams too: every element is drawn, inside its lane, no two shapes overlap."""
from __future__ import annotations

import pytest
from lxml import etree

from tests.engine.conftest import PROCESS_DIR

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
DIAGRAMS = sorted(p.name for p in PROCESS_DIR.glob("*.bpmn"))
FLOW_NODES = ("task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "callActivity", "startEvent",
              "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
              "parallelGateway", "eventBasedGateway", "inclusiveGateway")


def _load(name: str):
    root = etree.parse(str(PROCESS_DIR / name)).getroot()
    bounds = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        b = shape.find("dc:Bounds", NS)
        bounds[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    edges = {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y"))) for p in e.iterfind("di:waypoint", NS)]
             for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = {n.get("id"): n for tag in FLOW_NODES for n in root.iterfind(f".//bpmn:process/bpmn:{tag}", NS)}
    flows = [f.get("id") for f in root.iterfind(".//bpmn:process/bpmn:sequenceFlow", NS)]
    lanes = {lane.get("id"): [r.text for r in lane.iterfind("bpmn:flowNodeRef", NS)]
             for lane in root.iterfind(".//bpmn:lane", NS)}
    return nodes, flows, lanes, bounds, edges


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_element_is_drawn(name):
    nodes, flows, lanes, bounds, edges = _load(name)
    assert sorted(set(nodes) - set(bounds)) == []
    assert sorted(set(lanes) - set(bounds)) == []
    assert sorted(f for f in flows if len(edges.get(f, [])) < 2) == []
    assert sorted(set(edges) - set(flows)) == [] and sorted(set(bounds) - set(nodes) - set(lanes)) == [
        b for b in sorted(set(bounds) - set(nodes) - set(lanes)) if b.endswith("_participant")]


@pytest.mark.parametrize("name", DIAGRAMS)
def test_every_element_sits_in_its_lane_and_shapes_do_not_overlap(name):
    nodes, _flows, lanes, bounds, _edges = _load(name)
    for lane, refs in lanes.items():
        lx, ly, lw, lh = bounds[lane]
        for ref in refs:
            x, y, w, h = bounds[ref]
            cx, cy = x + w / 2, y + h / 2
            assert lx <= cx <= lx + lw and ly <= cy <= ly + lh, (ref, lane)
    boxes = sorted((ref, bounds[ref]) for ref in nodes if nodes[ref].tag != f"{{{NS['bpmn']}}}boundaryEvent")
    for i, (a, (ax, ay, aw, ah)) in enumerate(boxes):
        for b, (bx, by, bw, bh) in boxes[i + 1:]:
            overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
            assert not overlap, (a, b)
