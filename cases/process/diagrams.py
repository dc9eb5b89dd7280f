"""A case on its process diagrams: which BPMN file shows which process, and the elements the
case has completed and is at now, for the diagram viewer on the case page.

A case inside a call activity runs two processes: the top one (where the call activity is
current) and the called one (where its open task is). Each gets its own diagram: the file of
the deployed version that defines the process, with the element ids of that process only.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from sqlalchemy import select

from cases.core.access import visible_case
from cases.core.db import db
from cases.core.errors import Forbidden, NotFound
from cases.core.models import Case, User
from cases.process.locking import engine_errors
from cases.process.models import ProcessInstance, ProcessVersion
from cases.process.runs import load_run
from engine.errors import EngineError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class Diagram:
    process_id: str
    filename: str
    completed: list[str]
    current: list[str]


#: process id -> file, by the version's content hash (a version never changes: its hash names its
#: files); the case page asks on every read, and parsing the BPMN files cost more than the rest of it
_PROCESS_FILES: dict[str, dict[str, str]] = {}
_PROCESS_FILES_KEPT = 64


def _process_files(version: ProcessVersion) -> dict[str, str]:
    """process id -> the file of the version that defines it."""
    known = _PROCESS_FILES.get(version.content_hash)
    if known is not None:
        return dict(known)
    found = _parse_process_files(version)
    if len(_PROCESS_FILES) >= _PROCESS_FILES_KEPT:
        _PROCESS_FILES.clear()
    _PROCESS_FILES[version.content_hash] = found
    return dict(found)


def _parse_process_files(version: ProcessVersion) -> dict[str, str]:
    found = {}
    for name, text in version.files.items():
        if not name.endswith(".bpmn"):
            continue
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            found.setdefault(process.get("id"), name)
    return found


def _instance(user: User, case_id: int) -> tuple[Case, ProcessInstance]:
    if not user.is_staff:
        raise Forbidden("the process diagram is for staff")
    case = visible_case(user, case_id)
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
    if instance is None:
        raise NotFound(f"case {case_id} has no process instance", resource="process_instance", id=case_id)
    return case, instance


def case_diagrams(user: User, case_id: int) -> list[Diagram]:
    """The top process's diagram first, then those of the called processes the case is in or went
    through (staff only)."""
    case, instance = _instance(user, case_id)
    try:
        progress = load_run(instance, case, user).progress()
    except EngineError as exc:
        raise engine_errors(exc, instance.id) from exc
    files = _process_files(instance.version)
    processes = [instance.process_id] + [p for p in (*progress.current, *progress.completed)
                                         if p != instance.process_id]
    diagrams = []
    for process in dict.fromkeys(processes):
        if process in files:
            diagrams.append(Diagram(process, files[process], progress.completed.get(process, []),
                                    progress.current.get(process, [])))
    return diagrams


def diagram_xml(user: User, case_id: int, process_id: str | None = None) -> tuple[str, str]:
    """(file name, BPMN XML) of the file that defines ``process_id`` (default: the case's top
    process) in the case's process version."""
    _case, instance = _instance(user, case_id)
    files = _process_files(instance.version)
    name = files.get(process_id or instance.process_id)
    if name is None:
        raise NotFound(f"process {process_id} is not in this case's version", resource="process", id=process_id)
    return name, instance.version.files[name]
