"""One word per thing: the Chinese texts people read use the terms of docs/glossary.md."""
from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.pofile import read_po

from cases.process.names import missing_translations, names_in

ROOT = Path(__file__).resolve().parents[2]


def _forbidden() -> dict[str, str]:
    """never-word -> the glossary's word, from the table of docs/glossary.md."""
    found = {}
    for line in (ROOT / "docs/glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[3] and cells[3] != "never" and not set(cells[3]) <= {"-", " "}:
            for word in re.split(r",\s*", cells[3]):
                word = re.sub(r"\s*\(.*\)$", "", word).strip()
                if word:
                    found[word] = cells[1]
    return found


def _chinese_texts() -> list[tuple[str, str]]:
    texts = []
    with (ROOT / "web/translations/zh/LC_MESSAGES/messages.po").open("rb") as po:
        texts += [(f"catalogue: {m.id}", m.string) for m in read_po(po) if m.id and isinstance(m.string, str)]
    for bpmn in sorted((ROOT / "processes").glob("*.bpmn")):
        texts += [(f"{bpmn.name} [{element}]", name.zh or "") for element, (_k, name) in names_in(bpmn.read_bytes()).items()]
    for form in sorted((ROOT / "forms").glob("*.json")):
        for key, value in re.findall(r'"(x-[a-z-]+-zh)": ("(?:[^"\\]|\\.)*")', form.read_text(encoding="utf-8")):
            texts.append((f"{form.name} {key}", json.loads(value)))
    return texts


def test_the_glossary_names_the_words_to_avoid():
    forbidden = _forbidden()
    assert forbidden["案例"] == "服务单" and forbidden["工单"] == "服务单"


def test_chinese_texts_use_the_glossary_terms():
    forbidden = _forbidden()
    wrong = [(where, text, word) for where, text in _chinese_texts() for word in forbidden if word in text]
    assert wrong == []


def test_every_name_a_person_reads_in_the_diagrams_has_a_chinese_name():
    files = {p.name: p.read_bytes() for p in (ROOT / "processes").glob("*.bpmn")}
    assert missing_translations(files) == []


def test_a_missing_chinese_name_is_named_with_its_element():
    bpmn = (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            b'<bpmn:process id="p" name="P"><bpmn:userTask id="t1" name="Do it"/></bpmn:process></bpmn:definitions>')
    warnings = missing_translations({"x.bpmn": bpmn})
    assert [(w["file"], w["element"]) for w in warnings] == [("x.bpmn", "p"), ("x.bpmn", "t1")]
