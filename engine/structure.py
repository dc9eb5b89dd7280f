"""Checks on the shape of a diagram that SpiffWorkflow accepts silently."""
from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from engine.errors import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}


def _loops_without_exit(name: str, process: etree._Element) -> list[Problem]:
    """Every cycle of sequence flows needs a flow out of it: a loop with no way out turns forever
    (and past about 330 turns hits SpiffWorkflow's depth-1000 cliff)."""
    edges: dict[str, list[str]] = {}
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    problems = []
    for component in _cycles(edges):
        leaves = any(target not in component for node in component for target in edges.get(node, []))
        if not leaves:
            first = sorted(component)[0]
            problems.append(Problem(name, first, f"the loop through {', '.join(sorted(component))} has no way "
                                    "out; give one of its gateways a flow that leaves it (and cap the turns)"))
    return problems


def _cycles(edges: Mapping[str, list[str]]) -> list[set[str]]:
    """Strongly connected components with a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    nodes = set(edges) | {t for targets in edges.values() for t in targets}
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, []):
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def check_structure(files: Mapping[str, bytes]) -> list[Problem]:
    problems: list[Problem] = []
    for name, content in files.items():
        try:
            root = etree.fromstring(content)
        except etree.XMLSyntaxError:
            continue  # reported by the parser
        for process in root.iterfind(".//bpmn:process", NS):
            problems += _loops_without_exit(name, process)
    return problems
