"""Deploying process, decision and form files as an immutable version keyed by content hash."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import Text, cast, func, select

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, use_case
from cases.core.errors import InvalidDefinition, NotFound, ValidationFailed
from cases.core.models import Role, User, utcnow
from cases.outbox.replies import NOTICE_KINDS, NOTICE_PROPERTY
from cases.process.models import InstanceStatus, ProcessInstance, ProcessVersion
from cases.process.projection import PROJECTED_FIELDS
from cases.process.runs import get_engine
from cases.process.taskrules import ASSIGNMENT_RULES, FORM_PROPERTY
from engine.diff import VersionDiff
from engine.diff import compare as compare_files
from engine.errors import DefinitionError, Problem, problem
from engine.model import TaskSpecInfo
from engine.serialization import SERIALIZER_VERSION
from engine.specs import locate

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
            reason = exc.message if isinstance(exc, SchemaError) else f"not JSON at line {getattr(exc, 'lineno', '?')}"
            problems.append(problem("form_invalid", name, None, getattr(exc, "lineno", None), reason=reason))
            continue
        parsed[name] = schema
    return parsed, problems


def _check_user_task(task: TaskSpecInfo, forms: Mapping[str, dict]) -> list[Problem]:
    problems = []
    roles = ", ".join(sorted(ROLE_NAMES))

    def add(code: str, **params) -> None:
        problems.append(problem(code, None, task.element_id, None, **params))

    if task.lane is None:
        add("no_lane")
    elif task.lane not in ROLE_NAMES:
        add("lane_not_role", lane=task.lane, roles=roles)
    form = task.properties.get(FORM_PROPERTY)
    if not form:
        add("no_form", property=FORM_PROPERTY)
    elif form not in forms:
        add("form_missing", form=form)
    rule = task.properties.get("assignment", "pool")
    if rule not in ASSIGNMENT_RULES:
        add("assignment_unknown", rule=rule, rules=", ".join(ASSIGNMENT_RULES))
    elif (rule == "case_customer") != (task.lane == Role.CUSTOMER.value):
        add("assignment_customer")
    fields = [f.strip() for f in task.properties.get("caseFields", "").split(",") if f.strip()]
    for field in fields:
        if field not in PROJECTED_FIELDS:
            add("case_field_unknown", field=field, fields=", ".join(PROJECTED_FIELDS))
    for role in filter(None, (r.strip() for r in task.properties.get("alsoRoles", "").split(","))):
        if role not in ROLE_NAMES:
            add("role_unknown", role=role, roles=roles)
    return problems + _check_notice(task)


def _check_notice(element: TaskSpecInfo) -> list[Problem]:
    """``customerNotice`` (on a user task or a catch event) must name a notice caseflow sends."""
    kind = element.properties.get(NOTICE_PROPERTY)
    if kind is None or kind in NOTICE_KINDS:
        return []
    return [problem("notice_unknown", None, element.element_id, None, property=NOTICE_PROPERTY, kind=kind,
                    kinds=", ".join(NOTICE_KINDS))]


def problems_in(processes: Mapping[str, bytes], forms: Mapping[str, bytes],
                lang: str = "en") -> tuple[list[dict], object]:
    """Every problem of a set of files (empty when it can be deployed), in ``lang``, and the build."""
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
        for element in built.other_elements:
            problems.extend(_check_notice(element))
    return [p.as_dict(lang) for p in locate(problems, processes)], (built, parsed_forms)


@use_case
def deploy(processes: Mapping[str, bytes], forms: Mapping[str, bytes],
           actor: User | None = None, lang: str = "en", change_note: str | None = None) -> tuple[ProcessVersion, bool]:
    """Validate and store a version; returns (version, created). Re-deploying known content
    re-activates that version instead of copying it."""
    key = content_hash(processes, forms)
    existing = db.session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == key))
    if existing is not None:
        existing.activated_at = utcnow()
        audit.record(actor, "reactivate", existing.id, content_hash=key, change_note=change_note)
        return existing, False
    problems, result = problems_in(processes, forms, lang)
    if problems:
        raise InvalidDefinition(f"{len(problems)} problem(s) in the process files", problems)
    built, parsed_forms = result
    files = {name: raw.decode("utf-8") for name, raw in processes.items()}
    files.update({FORMS_PREFIX + name: raw.decode("utf-8") for name, raw in forms.items()})
    version = ProcessVersion(
        content_hash=key, process_ids=list(built.process_ids), files=files, forms=parsed_forms,
        spec_json=built.spec_json, serializer_version=SERIALIZER_VERSION,
        created_by_id=actor.id if actor else None, change_note=change_note,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "deploy", version.id, content_hash=key, process_ids=list(built.process_ids),
                 files=sorted(processes) + sorted(forms), change_note=change_note)
    return version, True


#: where a version keeps its form files' text, beside the process files
FORMS_PREFIX = "forms/"
PROCESS_SUFFIXES = (".bpmn", ".dmn")
DEPLOYERS = (Role.PROCESS_OWNER.value, Role.ADMIN.value)


def split_upload(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Uploaded files by kind: *.bpmn/*.dmn are processes, *.json are forms."""
    processes = {n: b for n, b in files.items() if n.endswith(PROCESS_SUFFIXES)}
    forms = {n: b for n, b in files.items() if n.endswith(".json")}
    others = sorted(set(files) - set(processes) - set(forms))
    if others or not files:
        raise ValidationFailed("upload .bpmn, .dmn and .json (form) files",
                               [{"field": "files", "message": f"not a process or form file: {n}"} for n in others]
                               or [{"field": "files", "message": "no files"}])
    return processes, forms


#: who may read the deployed versions (the process owners' pages, the API's list)
VERSION_READERS = (Role.PROCESS_OWNER.value, Role.ADMIN.value, Role.SUPERVISOR.value)
_NEWEST_FIRST = (ProcessVersion.activated_at.desc(), ProcessVersion.id.desc())


def active_version() -> ProcessVersion | None:
    """The version new cases start on: the most recently deployed or re-activated one."""
    return db.session.scalar(select(ProcessVersion).order_by(*_NEWEST_FIRST).limit(1))


def list_versions(actor: User) -> list[ProcessVersion]:
    """Every deployed version, the active one first."""
    require_role(actor, *VERSION_READERS)
    return list(db.session.scalars(select(ProcessVersion).order_by(*_NEWEST_FIRST)))


def get_version(actor: User, version_id: int) -> ProcessVersion:
    require_role(actor, *VERSION_READERS)
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"process version {version_id} not found", resource="process_version", id=version_id)
    return version


def running_instances() -> dict[int, int]:
    """version id -> how many of its process instances have not completed (what a migration moves)."""
    rows = db.session.execute(select(ProcessInstance.version_id, func.count())
                              .where(ProcessInstance.status != InstanceStatus.COMPLETED.value)
                              .group_by(ProcessInstance.version_id))
    return {key: value for key, value in rows}  # noqa: C416  (a Result is not a mapping source)


def with_active_files(processes: dict[str, bytes], forms: dict[str, bytes]) -> tuple[dict, dict]:
    """The active version's files, with the given ones replacing those of the same name."""
    active = active_version()
    if active is None:
        return processes, forms
    base_processes = {n: t.encode() for n, t in active.files.items() if not n.startswith(FORMS_PREFIX)}
    base_forms = {n[len(FORMS_PREFIX):]: t.encode() for n, t in active.files.items() if n.startswith(FORMS_PREFIX)}
    return {**base_processes, **processes}, {**base_forms, **forms}


def check_upload(actor: User, files: Mapping[str, bytes], merge: bool, lang: str = "en") -> list[dict]:
    """Validate uploaded files without deploying them (e.g. from the modeller)."""
    require_role(actor, *DEPLOYERS)
    processes, forms = split_upload(files)
    if merge:
        processes, forms = with_active_files(processes, forms)
    return problems_in(processes, forms, lang)[0]


#: the longest change note
MAX_CHANGE_NOTE = 2000


def _required_note(change_note: str | None) -> str:
    note = (change_note or "").strip()
    if not note:
        raise ValidationFailed("say what changed and why", [{"field": "change_note", "message": "required"}])
    if len(note) > MAX_CHANGE_NOTE:
        raise ValidationFailed("change note too long", [
            {"field": "change_note", "message": f"at most {MAX_CHANGE_NOTE} characters"}])
    return note


def deploy_upload(actor: User, files: Mapping[str, bytes], merge: bool,
                  lang: str = "en", change_note: str | None = None) -> tuple[ProcessVersion, bool]:
    """Deploy uploaded files: the complete set, or (``merge``) changes to the active version. The
    change note (what changed and why) is required; it is kept with the version and in the audit."""
    require_role(actor, *DEPLOYERS)
    change_note = _required_note(change_note)
    processes, forms = split_upload(files)
    if merge:
        processes, forms = with_active_files(processes, forms)
    return deploy(processes, forms, actor, lang, change_note)


def current_version(process_id: str) -> ProcessVersion | None:
    """The most recently activated version that contains ``process_id``: one statement, whose
    filter on the ids' JSON text (``"support_case"``, quotes included) picks only versions that
    hold it; the ids are then checked exactly (a text filter never decides alone)."""
    newest = (ProcessVersion.activated_at.desc(), ProcessVersion.id.desc())
    found: ProcessVersion | None = db.session.scalar(
        select(ProcessVersion).where(cast(ProcessVersion.process_ids, Text).contains(json.dumps(process_id),
                                                                                      autoescape=True))
        .order_by(*newest).limit(1))
    if found is not None and process_id in found.process_ids:
        return found
    rows = db.session.execute(select(ProcessVersion.id, ProcessVersion.process_ids).order_by(*newest))
    for version_id, process_ids in rows:
        if process_id in process_ids:
            return db.session.get(ProcessVersion, version_id)
    return None


def version_files(version: ProcessVersion) -> dict[str, bytes]:
    """A version's files as uploaded: process files by name, forms under ``forms/``."""
    return {name: text.encode() for name, text in version.files.items()}


def diff_versions(actor: User, version_id: int, against_id: int | None = None) -> tuple[VersionDiff, ProcessVersion | None]:
    """What ``version_id`` adds, removes and changes compared with ``against_id`` (default: the
    active version); returns the diff and the version compared against."""
    version = get_version(actor, version_id)
    against = get_version(actor, against_id) if against_id is not None else active_version()
    return compare_files(version_files(against) if against else {}, version_files(version)), against


def diff_upload(actor: User, files: Mapping[str, bytes], merge: bool) -> VersionDiff:
    """What deploying uploaded files would change against the active version."""
    require_role(actor, *DEPLOYERS)
    processes, forms = split_upload(files)
    if merge:
        processes, forms = with_active_files(processes, forms)
    active = active_version()
    new = {**processes, **{FORMS_PREFIX + n: b for n, b in forms.items()}}
    return compare_files(version_files(active) if active else {}, new)
