"""The DMN decision tables of processes/ as Markdown tables in docs/process.md, for process owners.

Each ``processes/<name>.dmn`` has a block in docs/process.md between the lines
``<!-- dmn:<name> begin -->`` and ``<!-- dmn:<name> end -->``; ``make diagrams`` (tools/render_diagrams.py)
rewrites what is between them. A table row is a rule: its id, its description, the inputs it tests (an
empty entry matches anything and is left out) and its outputs; outputs that only repeat the rule's id
or description are left out. The entries are shown as the file has them, except the common forms a
person reads more easily: ``any(w in ? for w in ("a", "b"))`` as "contains one of", ``True`` /
``False`` as yes / no, comparisons with their symbols.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from lxml import etree

HIT_POLICIES = {
    "UNIQUE": "at most one rule matches",
    "FIRST": "the first rule that matches, from the top, decides",
    "PRIORITY": "of the matching rules, the one with the highest output priority decides",
    "ANY": "the matching rules all give the same outputs",
    "COLLECT": "every matching rule contributes",
    "RULE ORDER": "every matching rule contributes, in rule order",
    "OUTPUT ORDER": "every matching rule contributes, by output priority",
}
CONTAINS = re.compile(r"^any\(\s*(\w+) in \? for \1 in (?P<words>\(.*\))\s*\)$", re.S)
COMPARISON = re.compile(r"^(?P<op><=|>=|<|>|==|!=)\s*(?P<value>.+)$")
SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "=", "!=": "≠"}


def _local(element) -> str:
    return etree.QName(element).localname


def _children(element, name: str) -> list:
    return [child for child in element if isinstance(child.tag, str) and _local(child) == name]


def _text(element) -> str:
    found = [c for c in element.iter() if isinstance(c.tag, str) and _local(c) == "text"]
    return " ".join((found[0].text or "").split()) if found else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return _cell(f"`{text}`")


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def condition(entry: str) -> str:
    """An input entry as a reader says it (Markdown)."""
    words = CONTAINS.match(entry)
    if words and isinstance(_literal(words.group("words")), tuple):
        return "contains one of " + ", ".join(_code(w) for w in _literal(words.group("words")))
    if entry in ("True", "False"):
        return "yes" if entry == "True" else "no"
    comparison = COMPARISON.match(entry)
    if comparison:
        value = comparison.group("value").strip()
        if value == "None":
            return "given" if comparison.group("op") == "!=" else "not given"
        return f"{SYMBOLS[comparison.group('op')]} {value_of(value)}"
    return value_of(entry)


def value_of(expression: str) -> str:
    """An output entry or a compared value: a string literal as its text, anything else as code."""
    literal = _literal(expression)
    if isinstance(literal, str):
        return _code(literal)
    if isinstance(literal, (int, float)) and not isinstance(literal, bool):
        return expression
    return _code(expression)


def markdown(path: Path) -> str:
    """The decision tables of one .dmn file as Markdown."""
    root = etree.parse(str(path)).getroot()
    parts = []
    for decision in (d for d in root.iter() if isinstance(d.tag, str) and _local(d) == "decision"):
        for table in _children(decision, "decisionTable"):
            inputs = [i.get("label") or _text(i) for i in _children(table, "input")]
            outputs = [o.get("label") or o.get("name") for o in _children(table, "output")]
            rules = _children(table, "rule")
            rows = []
            for rule in rules:
                description = " ".join((_children(rule, "description")[0].text or "").split()) \
                    if _children(rule, "description") else ""
                tests = [(label, _text(entry)) for label, entry in zip(inputs, _children(rule, "inputEntry"), strict=False)]
                when = "; ".join(f"{_cell(label)}: {condition(text)}" for label, text in tests
                                 if text not in ("", "-"))
                values = [_text(entry) for entry in _children(rule, "outputEntry")]
                rows.append((rule.get("id"), description, when or "anything else", values))
            shown = [n for n, name in enumerate(outputs)
                     if not all(_literal(r[3][n]) in (r[0], r[1]) for r in rows if n < len(r[3]))]
            policy = table.get("hitPolicy", "UNIQUE")
            parts.append(f"Decision `{decision.get('id')}` ({_cell(decision.get('name') or '')}), hit policy "
                         f"{policy}: {HIT_POLICIES.get(policy, policy)}.\n")
            head = ["rule", "meaning", "when"] + [_cell(outputs[n]) for n in shown]
            parts.append("| " + " | ".join(head) + " |")
            parts.append("|" + " --- |" * len(head))
            for rule_id, description, when, values in rows:
                cells = [rule_id, _cell(description), when] + [value_of(values[n]) if n < len(values) else ""
                                                                 for n in shown]
                parts.append("| " + " | ".join(cells) + " |")
    return "\n".join(parts)


def _markers(name: str) -> tuple[str, str]:
    return (f"<!-- dmn:{name} begin: generated by `make diagrams` from processes/{name}.dmn; do not edit -->",
            f"<!-- dmn:{name} end -->")


def _block(text: str, name: str) -> re.Match | None:
    begin, end = _markers(name)
    return re.search(re.escape(begin) + r"\n(?P<body>.*?)" + re.escape(end), text, re.S)


def stale(processes: Path, doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    found = []
    for path in sorted(processes.glob("*.dmn")):
        block = _block(text, path.stem)
        if block is None:
            begin, end = _markers(path.stem)
            found.append(f"{doc.name} has no block for processes/{path.name}: add the lines\n  {begin}\n  {end}")
        elif block.group("body") != markdown(path) + "\n":
            found.append(f"{doc.name}: the table of processes/{path.name} is not the file's")
    return found


def write(processes: Path, doc: Path) -> list[str]:
    """Rewrite every block whose table changed; the names of the files whose tables were written.
    A .dmn file without a block is an error (where the table goes is the author's choice)."""
    text = doc.read_text(encoding="utf-8")
    written = []
    for path in sorted(processes.glob("*.dmn")):
        block = _block(text, path.stem)
        if block is None:
            raise SystemExit("\n".join(stale(processes, doc)))
        body = markdown(path) + "\n"
        if block.group("body") != body:
            text = text[:block.start("body")] + body + text[block.end("body"):]
            written.append(path.name)
    doc.write_text(text, encoding="utf-8")
    return written
