"""The names people read from the diagrams, in both languages.

A diagram element's ``name`` is its English name; its Chinese name is the task property
``nameZh`` (``<spiffworkflow:property name="nameZh" value="…"/>`` in the element's extension
elements; the modeller's properties panel edits it like any other property). The pages show the
name in the page's language (``web/display.py step_name``), the case diagram is drawn with the
Chinese names in Chinese, and deploying warns about an element a person reads that has no Chinese
name (:func:`missing_translations`).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import select

from cases.core.db import db
from cases.process.models import ProcessVersion

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ZH_PROPERTY = "nameZh"
#: elements whose names nobody reads on a page (a message's name is a code for the API)
UNREAD = frozenset({"message", "definitions", "collaboration", "laneSet", "dataObject", "dataObjectReference"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class Name:
    en: str
    zh: str | None

    def get(self, chinese: bool) -> str:
        return self.zh if chinese and self.zh else self.en


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _zh_of(element: etree._Element) -> str | None:
    for prop in element.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"):
        value = str(prop.get("value") or "").strip()
        if prop.get("name") == ZH_PROPERTY and value:
            return value
    return None


def names_in(source: bytes) -> dict[str, tuple[str, Name]]:
    """element id -> (element type, its names) of one BPMN file (named elements only)."""
    try:
        root = etree.fromstring(source, _PARSER)
    except etree.XMLSyntaxError:
        return {}
    found = {}
    for element in root.iter():
        kind = _local(element.tag)
        if element.get("id") and element.get("name") and kind not in UNREAD:
            found[element.get("id")] = (kind, Name(element.get("name"), _zh_of(element)))
    return found


def missing_translations(processes: Mapping[str, bytes]) -> list[dict[str, str]]:
    """One warning per named element without a Chinese name: ``file``, ``element``, ``message``."""
    warnings = []
    for filename in sorted(processes):
        if not filename.endswith(".bpmn"):
            continue
        for element_id, (kind, name) in names_in(processes[filename]).items():
            if name.zh is None:
                warnings.append({"file": filename, "element": element_id, "kind": kind, "name": name.en,
                                 "message": f"{kind} '{name.en}' has no Chinese name (task property {ZH_PROPERTY})"})
    return warnings


@functools.lru_cache(maxsize=64)
def version_names(version_id: int) -> dict[str, Name]:
    """element id -> names, over every BPMN file of a deployed version (versions never change)."""
    files = db.session.scalar(select(ProcessVersion.files).where(ProcessVersion.id == version_id)) or {}
    found: dict[str, Name] = {}
    for filename, text in files.items():
        if filename.endswith(".bpmn"):
            found.update({k: name for k, (_kind, name) in names_in(text.encode("utf-8")).items()})
    return found


def element_name(version_id: int | None, element_id: str | None, fallback: str, chinese: bool) -> str:
    """An element's name in the language asked for (``fallback`` when the version does not know it)."""
    if version_id is None or not element_id:
        return fallback
    name = version_names(version_id).get(element_id)
    return name.get(chinese) if name else fallback


def localized_bpmn(text: str, chinese: bool) -> str:
    """A BPMN file with each element's ``name`` in the language asked for (for the case diagram)."""
    if not chinese:
        return text
    root = etree.fromstring(text.encode("utf-8"), _PARSER)
    for element in root.iter():
        if element.get("name") and _local(element.tag) not in UNREAD:
            zh = _zh_of(element)
            if zh:
                element.set("name", zh)
    return str(etree.tostring(root, encoding="unicode"))
