"""Deploying process, decision and form files as an immutable version keyed by content hash."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import select

from engine.errors import DefinitionError, Problem
from engine.model import TaskSpecInfo
from engine.specs import locate
from engine.serialization import SERIALIZER_VERSION

from .db import db, use_case
from .errors import InvalidDefinition
from .models import ProcessVersion, Role, User, utcnow
from .projection import PROJECTED_FIELDS
from .runtime import get_engine
from .taskrules import ASSIGNMENT_RULES, FORM_PROPERTY

ROLE_NAMES = frozenset(r.value for r in Role)


def read_directory(processes_dir: Path, forms_dir: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    processes = {p.name: p.read_bytes() for p in sorted(processes_dir.iterdir())
                 if p.suffix in (".bpmn", ".dmn")}
    forms = {p.name: p.read_bytes() for p in sorted(forms_dir.iterdir()) if p.suffix == ".json"}
    return processes, forms


def content_hash(processes: Mapping[str, bytes], forms: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for kind, files in (("process", processes), ("form", forms)):
        for name in sorted(files):
            digest.update(f"{kind}:{name}:{len(files[name])}:".encode())
            digest.update(files[name])
    return digest.hexdigest()


def _parse_forms(forms: Mapping[str, bytes]) -> tuple[dict[str, dict], list[Problem]]:
    parsed, problems = {}, []
    for name, raw in forms.items():
        try:
            schema = json.loads(raw)
            Draft202012Validator.check_schema(schema)
        except (ValueError, SchemaError) as exc:
            problems.append(Problem(name, None, f"not a valid JSON schema: {getattr(exc, 'message', exc)}"))
            continue
        parsed[name] = schema
    return parsed, problems


def _check_user_task(task: TaskSpecInfo, forms: Mapping[str, dict]) -> list[Problem]:
    problems = []

    def problem(message: str) -> None:
        problems.append(Problem(None, task.element_id, message))

    if task.lane is None:
        problem("user task is not in a lane; the lane names the role that works on it")
    elif task.lane not in ROLE_NAMES:
        problem(f"lane '{task.lane}' is not a role ({', '.join(sorted(ROLE_NAMES))})")
    form = task.properties.get(FORM_PROPERTY)
    if not form:
        problem(f"user task has no '{FORM_PROPERTY}' property")
    elif form not in forms:
        problem(f"form '{form}' does not exist in forms/")
    rule = task.properties.get("assignment", "pool")
    if rule not in ASSIGNMENT_RULES:
        problem(f"assignment '{rule}' is not one of {', '.join(ASSIGNMENT_RULES)}")
    elif (rule == "case_customer") != (task.lane == Role.CUSTOMER.value):
        problem("assignment 'case_customer' belongs on the customer lane, and the customer lane needs it")
    fields = [f.strip() for f in task.properties.get("caseFields", "").split(",") if f.strip()]
    for field in fields:
        if field not in PROJECTED_FIELDS:
            problem(f"caseFields names '{field}', which is not a case field ({', '.join(PROJECTED_FIELDS)})")
    for role in filter(None, (r.strip() for r in task.properties.get("alsoRoles", "").split(","))):
        if role not in ROLE_NAMES:
            problem(f"alsoRoles names '{role}', which is not a role")
    return problems


@use_case
def deploy(processes: Mapping[str, bytes], forms: Mapping[str, bytes],
           actor: User | None = None) -> tuple[ProcessVersion, bool]:
    """Validate and store a version; returns (version, created). Re-deploying known content
    re-activates that version instead of copying it."""
    key = content_hash(processes, forms)
    existing = db.session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == key))
    if existing is not None:
        existing.activated_at = utcnow()
        return existing, False
    encoding = []
    for name, raw in processes.items():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            encoding.append(Problem(name, None, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"))
    if encoding:
        raise InvalidDefinition(f"{len(encoding)} file(s) are not UTF-8", [p.as_dict() for p in encoding])
    parsed_forms, problems = _parse_forms(forms)
    try:
        built = get_engine().build(processes)
    except DefinitionError as exc:
        problems.extend(exc.problems)
        built = None
    if built is not None:
        problems.extend(built.problems)
        for task in built.user_tasks:
            problems.extend(_check_user_task(task, parsed_forms))
    if problems:
        problems = locate(problems, processes)
        raise InvalidDefinition(f"{len(problems)} problem(s) in the process files",
                                [p.as_dict() for p in problems])
    version = ProcessVersion(
        content_hash=key, process_ids=list(built.process_ids),
        files={name: raw.decode("utf-8") for name, raw in processes.items()},
        forms=parsed_forms, spec_json=built.spec_json, serializer_version=SERIALIZER_VERSION,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    db.session.flush()
    return version, True


def current_version(process_id: str) -> ProcessVersion | None:
    """The most recently activated version that contains ``process_id``."""
    rows = db.session.execute(
        select(ProcessVersion.id, ProcessVersion.process_ids)
        .order_by(ProcessVersion.activated_at.desc(), ProcessVersion.id.desc())
    )
    for version_id, process_ids in rows:
        if process_id in process_ids:
            return db.session.get(ProcessVersion, version_id)
    return None
