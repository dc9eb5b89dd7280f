"""Routing proposals: a draft classification decision table replayed over the stored cases' own texts.

For each support case of the period the draft table gets the inputs the process gave the deployed
one at intake — ``case_text`` (title, description and environment, lower case, as the diagram's
intake script joins them), ``category_hint`` and ``customer_tier`` (the tier at opening) — and its
proposal (category, priority, rule) is set beside the one stored on the case when it was classified
(``cases.classification_rule``) and beside what staff finally decided (``cases.category`` and
``priority``). The branch each category routes to is read from the ``route_by_category`` gateway of
the case's own process version, so a changed category shows as a case that would have gone another
way (service order, software bug to HQ, re-training, repair order ...).

**The control**: the table of the version each case ran on must give back its stored proposal;
cases where it does not (a case moved to another version since, an intake script changed) are
counted and listed, never hidden. What is not replayed: staff confirmed or changed each proposal at
the Classify step, so the replay says how often each table agrees with their decision — it does not
guess what they would have done with another proposal, and the SLA figures keep the priorities staff
set.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from cases.core.models import Case
from cases.process.models import ProcessInstance, ProcessVersion
from engine.decisions import Branch, Decision, DecisionFailed, Gateway, parse
from engine.errors import DefinitionError
from engine.sandbox import Sandbox

DECISION = "classify_case"
GATEWAY = "route_by_category"
DRAFT_FILE = "classify_case.dmn"
MAX_DMN_BYTES = 1_000_000
EXAMPLES = 50


def check(value: Any, problems: list[dict[str, Any]], sandbox: Sandbox) -> tuple[Decision | None, Any]:
    """``{"dmn": "<definitions …>"}``: the draft table, or problems naming ``proposal.classification``."""
    where = "proposal.classification"
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) != {"dmn"} or not isinstance(value["dmn"], str):
        problems.append({"field": where, "message": 'an object {"dmn": "<the DMN file as text>"} or null'})
        return None, None
    decision, found = read_draft(value["dmn"], sandbox)
    problems.extend({"field": f"{where}.dmn", **item} for item in found)
    return decision, ({"dmn": value["dmn"]} if decision is not None else None)


def read_draft(text: str, sandbox: Sandbox, lang: str = "en") -> tuple[Decision | None, list[dict[str, Any]]]:
    """The draft table from its DMN text, or what is wrong with it: each problem's message (in ``lang``)
    with the file, element and line it names, as an upload's problems are reported."""
    content = text.encode("utf-8", "surrogatepass")
    if not content.strip() or len(content) > MAX_DMN_BYTES:
        message = (f"a DMN file of 1 to {MAX_DMN_BYTES} bytes" if lang == "en"
                   else f"DMN 文件须为 1 到 {MAX_DMN_BYTES} 字节")
        return None, [{"message": message}]
    try:
        return parse(DRAFT_FILE, content, DECISION, sandbox), []
    except DefinitionError as exc:
        found = []
        for item in (p.as_dict(lang) for p in exc.problems):
            place = ", ".join(part for part in (f"line {item['line']}" if item["line"] else "",
                                                item["element"] or "") if part)
            found.append({"message": f"{place}: {item['message']}" if place else item["message"],
                          **{k: item[k] for k in ("file", "element", "line") if item[k] is not None}})
        return None, found


# -- the facts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Texts:
    number: str
    title: str
    inputs: dict[str, Any]
    stored: dict[str, Any] | None  # the proposal kept at classification: rule, proposed_category/priority
    category: str | None  # what staff decided
    priority: str | None
    version_id: int | None


def texts(conn: Connection, tiers: dict[int, str]) -> dict[int, Texts]:
    """The classification inputs and outcomes of the cases ``tiers`` names (id -> tier at opening)."""
    rows = conn.execute(
        select(Case.id, Case.number, Case.title, Case.description, Case.environment, Case.category_hint,
               Case.classification_rule, Case.category, Case.priority, ProcessInstance.version_id)
        .outerjoin(ProcessInstance, ProcessInstance.case_id == Case.id).where(Case.id.in_(list(tiers)))).all()
    found = {}
    for r in rows:
        case_text = " ".join([r.title, r.description or "", r.environment or ""]).lower()
        inputs = {"case_text": case_text, "category_hint": r.category_hint, "customer_tier": tiers[r.id]}
        stored = dict(r.classification_rule) if isinstance(r.classification_rule, dict) else None
        found[r.id] = Texts(r.number or str(r.id), r.title, inputs, stored, r.category, r.priority, r.version_id)
    return found


class VersionTables:
    """Each process version's own classification table and routing gateway, read once per replay."""

    def __init__(self, conn: Connection, sandbox: Sandbox) -> None:
        self._conn = conn
        self._sandbox = sandbox
        self._tables: dict[int, tuple[Decision | None, Gateway | None]] = {}

    def of(self, version_id: int | None) -> tuple[Decision | None, Gateway | None]:
        if version_id is None:
            return None, None
        if version_id not in self._tables:
            files = self._conn.scalar(select(ProcessVersion.files).where(ProcessVersion.id == version_id)) or {}
            decision = gateway = None
            for name, text in sorted(files.items()):
                content = text.encode()
                if name.endswith(".dmn") and decision is None and f'id="{DECISION}"' in text:
                    try:
                        decision = parse(name, content, DECISION, self._sandbox)
                    except DefinitionError:
                        decision = None
                elif name.endswith(".bpmn") and gateway is None and f'id="{GATEWAY}"' in text:
                    gateway = Gateway.find(name, content, GATEWAY, self._sandbox)
            self._tables[version_id] = (decision, gateway)
        return self._tables[version_id]


# -- the tally --------------------------------------------------------------------------------------
def _proposal(outputs: dict[str, Any]) -> dict[str, Any]:
    """A table's outputs as the diagram keeps them as the case's proposal (classification_rule)."""
    return {"rule": outputs.get("rule_id"), "category": outputs.get("proposed_category"),
            "priority": outputs.get("proposed_priority")}


def _stored(stored: dict[str, Any]) -> dict[str, Any]:
    return {"rule": stored.get("rule"), "category": stored.get("proposed_category"),
            "priority": stored.get("proposed_priority")}


def _branch(branch: Branch | None) -> dict[str, Any] | None:
    return None if branch is None else {"flow": branch.flow, "name": branch.name, "name_zh": branch.name_zh}


@dataclass
class RoutingTally:
    draft: Decision
    cases: int = 0
    unclassified: int = 0  # no proposal stored: the case never reached classification
    control_differs: int = 0
    control_examples: list[dict[str, Any]] = field(default_factory=list)
    changed_category: int = 0
    changed_priority: int = 0
    changed_either: int = 0
    changed_branch: int = 0
    agree_stored: int = 0  # the stored proposal's category is what staff decided
    agree_draft: int = 0
    decided: int = 0  # cases with a proposal and a decided category
    transitions: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    priority_transitions: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    rules: dict[str, Counter[str]] = field(default_factory=lambda: {"stored": Counter(), "proposal": Counter()})
    examples: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, facts: Texts, tables: VersionTables) -> None:
        if facts.stored is None:
            self.unclassified += 1
            return
        self.cases += 1
        stored = _stored(facts.stored)
        own, gateway = tables.of(facts.version_id)
        if own is not None:
            try:
                again = _proposal(own.evaluate(facts.inputs))
            except DecisionFailed:
                again = None
            if again != stored:
                self.control_differs += 1
                if len(self.control_examples) < EXAMPLES:
                    self.control_examples.append({"case": facts.number, "stored": stored, "replayed": again})
        try:
            proposed = _proposal(self.draft.evaluate(facts.inputs))
        except DecisionFailed as exc:
            if len(self.failed) < EXAMPLES:
                self.failed.append({"case": facts.number, "message": exc.message})
            return
        self.rules["stored"][str(stored["rule"])] += 1
        self.rules["proposal"][str(proposed["rule"])] += 1
        if facts.category is not None:
            self.decided += 1
            self.agree_stored += stored["category"] == facts.category
            self.agree_draft += proposed["category"] == facts.category
        category = proposed["category"] != stored["category"]
        priority = proposed["priority"] != stored["priority"]
        if not (category or priority):
            return
        self.changed_either += 1
        self.changed_category += category
        self.changed_priority += priority
        self.transitions[(stored["category"], proposed["category"])] += category
        self.priority_transitions[(stored["priority"], proposed["priority"])] += priority
        before = gateway.route({"category": stored["category"]}) if gateway else None
        after = gateway.route({"category": proposed["category"]}) if gateway else None
        branch_changed = before is not None and after is not None and before.flow != after.flow
        self.changed_branch += branch_changed
        if len(self.examples) < EXAMPLES:
            self.examples.append({"case": facts.number, "title": facts.title, "stored": stored, "proposal": proposed,
                                  "decided": {"category": facts.category, "priority": facts.priority},
                                  "branch": {"stored": _branch(before), "proposal": _branch(after),
                                             "changed": branch_changed}})

    def result(self) -> dict[str, Any]:
        def share(part: int) -> float | None:
            return round(part / self.decided, 4) if self.decided else None

        def moves(counter: Counter[tuple[str | None, str | None]]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "cases": n} for (a, b), n in counter.most_common() if n]

        rules = sorted(set(self.rules["stored"]) | set(self.rules["proposal"]))
        return {
            "decision": DECISION, "cases": self.cases, "unclassified": self.unclassified,
            "control": {"equal": self.control_differs == 0, "differs": self.control_differs,
                        "examples": self.control_examples},
            "changed": {"cases": self.changed_either, "category": self.changed_category,
                        "priority": self.changed_priority, "branch": self.changed_branch},
            "agreement": {"decided": self.decided,
                          "stored": {"cases": self.agree_stored, "share": share(self.agree_stored)},
                          "proposal": {"cases": self.agree_draft, "share": share(self.agree_draft)}},
            "category_moves": moves(self.transitions), "priority_moves": moves(self.priority_transitions),
            "rules": [{"rule": r, "stored": self.rules["stored"][r], "proposal": self.rules["proposal"][r]}
                      for r in rules],
            "examples": self.examples, "failed": self.failed,
        }
