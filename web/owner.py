"""The process owner's pages: deployed versions and their files, the diagram modeller that deploys
a new version, moving running cases between versions (dry run, migrate, revert).

Everything goes through the same use cases as the API: ``cases.deploy.check_upload`` /
``deploy_upload`` with ``merge`` (as ``POST /api/v1/process-versions?merge=true``) and
``cases.moves`` (as ``/api/v1/migrations``). The modeller's validate and deploy calls answer JSON
(the page's script shows the problems on the diagram); everything else is plain forms.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, jsonify, request, url_for
from flask_babel import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from cases.core.access import require_role
from cases.core.errors import Conflict, InvalidDefinition, ValidationFailed
from cases.process import deploy as deploying
from cases.process import moves, names
from cases.process.models import ProcessVersion
from cases.sla import calendars
from cases.whatif import routing as whatif_routing
from engine.migration import Reason
from web import taskforms
from web.i18n import current_locale, localized
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("owner", url_prefix="/owner")

MAX_DIAGRAM_BYTES = 5 * 1024 * 1024


def _process_files(version) -> list[str]:
    return sorted(n for n in version.files if not n.startswith(deploying.FORMS_PREFIX))


def _form_files(version) -> list[str]:
    return sorted(n for n in version.files if n.startswith(deploying.FORMS_PREFIX))


def _processes_page(status: int = 200, problems: list[dict] | None = None):
    versions = deploying.list_versions(current_user())
    active = versions[0] if versions else None
    return render("owner/processes.html", status, versions=versions, active=active, problems=problems,
                  running=deploying.running_instances(),
                  diagrams=[n for n in _process_files(active) if n.endswith(".bpmn")] if active else [])


@blp.get("/processes")
def processes():
    return _processes_page()


@blp.get("/versions/<int(max=2147483647):version_id>")
def version(version_id: int):
    found = deploying.get_version(current_user(), version_id)
    active = deploying.active_version()
    older = [v for v in deploying.list_versions(current_user()) if v.id < found.id]
    against_id = max((v.id for v in older), default=None)
    diff, against = deploying.diff_versions(current_user(), found.id, against_id) if against_id else (None, None)
    return render("owner/version.html", version=found, is_active=active is not None and active.id == found.id,
                  diff=diff, against=against,
                  process_files=_process_files(found), form_files=_form_files(found),
                  running=deploying.running_instances().get(found.id, 0))


@blp.get("/versions/<int(max=2147483647):version_id>/files/<path:name>")
def version_file(version_id: int, name: str):
    found = deploying.get_version(current_user(), version_id)
    if name not in found.files:
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "application/xml"
    # uploaded text shown in the browser: an XML file could carry XHTML scripts, so it runs nothing
    return found.files[name], 200, {"Content-Type": f"{mimetype}; charset=utf-8",
                                    "Content-Disposition": f'inline; filename="{Path(name).name}"',
                                    "Content-Security-Policy": "default-src 'none'; sandbox",
                                    "X-Content-Type-Options": "nosniff"}


def _active_diagram(name: str):
    active = deploying.active_version()
    if active is None or not name.endswith(".bpmn") or name not in active.files:
        abort(404)
    return active


@blp.get("/editor/<path:name>")
def editor(name: str):
    require_role(current_user(), *deploying.DEPLOYERS)
    active = _active_diagram(name)
    return render("owner/editor.html", name=name, version=active, xml=active.files[name])


def _edited_file(name: str, field: str, what: str, limit: int, limit_text: str) -> dict[str, bytes]:
    """The file an editor page sends (its text in form field ``field``), refused when empty or too large."""
    data = request.form.get(field, "").encode("utf-8")
    if not data.strip():
        raise ValidationFailed(f"no {what}", [{"field": field, "message": f"the {what} is empty"}])
    if len(data) > limit:
        raise ValidationFailed("too large", [{"field": field, "message": f"the {what} is larger than {limit_text}"}])
    return {name: data}


def _uploaded_diagram(name: str) -> dict[str, bytes]:
    return _edited_file(name, "bpmn", "diagram", MAX_DIAGRAM_BYTES, "5 MiB")


def _flash_deployed(version, is_new: bool) -> None:
    if is_new:
        flash(_("Version %(id)d is deployed and active: new cases start on it.", id=version.id), "success")
    else:
        flash(_("These files are version %(id)d, which is active again.", id=version.id), "info")
    missing = _untranslated(version.files)
    if missing:
        flash(_("%(n)d names people read have no Chinese name (task property nameZh), so Chinese pages show them "
                "in English: %(names)s", n=len(missing), names=", ".join(w["name"] for w in missing[:10])), "error")


def _untranslated(files: dict[str, str]) -> list[dict[str, str]]:
    return names.missing_translations({k: v.encode("utf-8") for k, v in files.items() if k.endswith(".bpmn")})


def _problems_answer(problems: list[dict], status: int = 422):
    return jsonify({"valid": False, "errors": problems}), status


def _input_problems(exc: ValidationFailed) -> list[dict]:
    texts = {"change_note": _("Say what changed and why in the change note.")}
    sentences = {"the diagram is empty": _("The diagram is empty."),
                 "the diagram is larger than 5 MiB": _("The diagram is larger than 5 MiB."),
                 "the schema is empty": _("The form schema is empty."),
                 "the schema is larger than 512 KiB": _("The form schema is larger than 512 KiB."),
                 "the decision table is empty": _("The decision table is empty."),
                 "the decision table is larger than 5 MiB": _("The decision table is larger than 5 MiB.")}
    sentences["no files"] = _("Choose the files to upload.")
    prefix = "not a process or form file: "
    for e in exc.errors:
        if e.get("field") == "files" and e.get("message", "").startswith(prefix):
            sentences[e["message"]] = _("%(name)s is not a process or form file: upload .bpmn, .dmn and .json "
                                        "(form) files.", name=e["message"][len(prefix):])
    return [{"file": None, "element": None, "line": None, "code": e.get("field"),
             "message": texts.get(e.get("field")) or sentences.get(e.get("message", ""))
             or e.get("message", exc.message)}
            for e in exc.errors] or [{"file": None, "element": None, "line": None, "message": exc.message}]


def _check_edited(read: Callable[[str], dict[str, bytes]], name: str) -> Any:
    """An editor's Validate: the edited file with the active version's other files, as a deploy would check it."""
    try:
        problems = deploying.check_upload(current_user(), read(name), merge=True, lang=current_locale())
    except ValidationFailed as exc:
        return _problems_answer(_input_problems(exc))
    return jsonify({"valid": not problems, "errors": problems}), 200


def _deploy_edited(read: Callable[[str], dict[str, bytes]], name: str) -> Any:
    """An editor's Deploy: the edited file as a new version, the active version's other files unchanged."""
    try:
        created, is_new = deploying.deploy_upload(current_user(), read(name), merge=True, lang=current_locale(),
                                                  change_note=request.form.get("change_note"))
    except InvalidDefinition as exc:
        return _problems_answer(exc.problems)
    except ValidationFailed as exc:
        return _problems_answer(_input_problems(exc))
    _flash_deployed(created, is_new)
    return jsonify({"version": created.id, "created": is_new,
                    "url": url_for("owner.version", version_id=created.id)}), 201 if is_new else 200


@blp.post("/editor/<path:name>/validate")
def validate(name: str):
    """Check the edited diagram with the active version's other files, as a deploy would."""
    _active_diagram(name)
    try:
        problems = deploying.check_upload(current_user(), _uploaded_diagram(name), merge=True,
                                          lang=current_locale())
    except ValidationFailed as exc:
        return _problems_answer(_input_problems(exc))
    answer: dict[str, object] = {"valid": not problems, "errors": problems}
    warnings = names.missing_translations(_uploaded_diagram(name))
    if warnings:  # names a person reads without a Chinese name (deploying is still possible)
        answer["warnings"] = warnings
    return jsonify(answer), 200


@blp.post("/editor/<path:name>/diff")
def diff_diagram(name: str):
    """What deploying the edited diagram would change against the active version."""
    _active_diagram(name)
    try:
        uploaded = _uploaded_diagram(name)
        problems = deploying.check_upload(current_user(), uploaded, merge=True, lang=current_locale())
        if problems:  # the review shows what a deploy would refuse, on the diagram
            return _problems_answer(problems)
        diff = deploying.diff_upload(current_user(), uploaded, merge=True)
    except ValidationFailed as exc:
        return _problems_answer(_input_problems(exc))
    return jsonify(diff.as_dict()), 200


@blp.post("/editor/<path:name>/deploy")
def deploy_diagram(name: str):
    """Deploy the edited diagram as a new version (the active version's other files unchanged)."""
    _active_diagram(name)
    return _deploy_edited(_uploaded_diagram, name)


@blp.post("/deploy")
def deploy_files():
    """Deploy uploaded files without the modeller: the complete set, or changes to the active version."""
    files = {Path(f.filename or "").name: f.read() for f in request.files.getlist("files") if f.filename}
    merge = request.form.get("merge") == "true"
    try:
        created, is_new = deploying.deploy_upload(current_user(), files, merge, lang=current_locale(),
                                                  change_note=request.form.get("change_note"))
    except InvalidDefinition as exc:
        return _processes_page(422, exc.problems)
    except ValidationFailed as exc:
        return _processes_page(422, _input_problems(exc))
    _flash_deployed(created, is_new)
    return back_to("owner.version", version_id=created.id)


# -- moving running cases ------------------------------------------------------------------------
def _version_ids(source) -> tuple[int | None, int | None]:
    def number(name):
        try:
            return int(source.get(name, ""))
        except ValueError:
            return None
    return number("from_version"), number("to_version")


def _migration_page(status: int = 200, **outcome):
    user = current_user()
    versions = deploying.list_versions(user)
    running = deploying.running_instances()
    chosen_from, chosen_to = _version_ids(request.values)
    if chosen_to is None and versions:
        chosen_to = versions[0].id
    if chosen_from is None:
        chosen_from = next((v.id for v in versions if running.get(v.id) and v.id != chosen_to), None)
    if "errors" in outcome:
        outcome["errors"] = _move_errors(outcome["errors"])
        outcome["mapping_errors"] = [e for e in outcome["errors"] if e["field"].split(".")[0] == "mapping"]
    return render("owner/migrations.html", status, versions=versions, running=running,
                  chosen_from=chosen_from, chosen_to=chosen_to, lang=current_locale(),
                  mapping_text=request.values.get("mapping", ""), **outcome)


def _move_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The refusal of a move in the page's language: a reason's code rendered, the field named."""
    texts = {"no such version": _("There is no such version."),
             "same as from_version": _("Choose another version than the one the cases are on."),
             "choose a version": _("Choose a version.")}
    labels = {"from_version": _("From version"), "to_version": _("To version"),
              "mapping": _("Renamed steps"), "expected_moves": _("Confirmation"), "confirmed": _("Confirmation")}
    shown = []
    for e in errors:
        field = e.get("field") or ""
        if e.get("code"):
            message = Reason(e["code"], e.get("params") or {}).text(current_locale())
        else:
            message = texts.get(e.get("message", ""), e.get("message", ""))
        base, _dot, rest = field.partition(".")
        label = labels.get(base, field) + (f" {rest}" if rest else "")
        shown.append({"field": field, "label": label, "message": message})
    return shown


def _mapping() -> dict[str, str] | None:
    """The renamed steps the owner typed, one "old id = new id" a line (none: no mapping)."""
    found: dict[str, str] = {}
    for number, line in enumerate(request.form.get("mapping", "").splitlines(), start=1):
        if not line.strip():
            continue
        old, sep, new = line.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValidationFailed("bad mapping", [{"field": "mapping", "message": _(
                "Line %(n)d: write one renamed step a line as \"old id = new id\".", n=number)}])
        found[old.strip()] = new.strip()
    return found or None


@blp.get("/migrations")
def migrations():
    return _migration_page()


def _move(action):
    from_id, to_id = _version_ids(request.form)
    if from_id is None or to_id is None:
        raise ValidationFailed("choose two versions", [
            {"field": f, "message": "choose a version"} for f, v in (("from_version", from_id), ("to_version", to_id))
            if v is None])
    return action(current_user(), from_id, to_id, _mapping())


@blp.post("/migrations/dry-run")
def dry_run():
    """Per running case of the source version: can it move, and if not, why."""
    try:
        verdicts = _move(lambda user, a, b, mapping: moves.dry_run(user, a, b, mapping=mapping))
    except ValidationFailed as exc:
        return _migration_page(422, errors=exc.errors)
    return _migration_page(verdicts=verdicts)


@blp.post("/migrations/migrate")
def migrate():
    """Move every movable case (each in its own transaction); show what moved and what stayed."""
    try:
        expected = int(request.form.get("expected_moves", ""))
    except ValueError:
        return _migration_page(422, errors=[{"field": "expected_moves", "message": _(
            "Run the dry run first and confirm the number of cases to move.")}])
    if request.form.get("confirmed") != "yes":
        return _migration_page(422, errors=[{"field": "confirmed", "message": _("Tick the confirmation first.")}])
    try:
        outcome = _move(lambda user, a, b, mapping: moves.migrate_all(user, a, b, expected_moves=expected,
                                                                      mapping=mapping))
    except ValidationFailed as exc:
        return _migration_page(422, errors=exc.errors)
    except Conflict:
        now = moves.movable_count(current_user(), _version_ids(request.form)[0] or 0)
        return _migration_page(409, errors=[{"field": "expected_moves", "message": _(
            "%(now)d running case(s) would be moved, not %(expected)d: the cases changed since the confirmation; "
            "look again (dry run) and confirm the new number.", now=now, expected=expected)}])
    cases = moves.cases_of(outcome.moved + [s["instance_id"] for s in outcome.skipped])
    flash(_("%(moved)d case(s) moved, %(skipped)d stayed.", moved=len(outcome.moved), skipped=len(outcome.skipped)),
          "success" if outcome.moved else "info")
    return _migration_page(outcome=outcome, cases=cases)


@blp.post("/migrations/<string:batch>/revert")
def revert(batch: str):
    outcome = moves.revert(current_user(), batch)
    cases = moves.cases_of(outcome.moved + [s["instance_id"] for s in outcome.skipped])
    flash(_("%(moved)d case(s) moved back, %(skipped)d stayed.", moved=len(outcome.moved),
            skipped=len(outcome.skipped)), "success" if outcome.moved else "info")
    return _migration_page(reverted=outcome, cases=cases)


# -- the form editor ----------------------------------------------------------------------------
MAX_FORM_BYTES = 512 * 1024


def _active_form(name: str):
    active = deploying.active_version()
    if active is None or not name.endswith(".json") or deploying.FORMS_PREFIX + name not in active.files:
        abort(404)
    return active


def _preview(text: str) -> dict:
    """The fields a schema renders as, or why it cannot be rendered (in the page's language)."""
    try:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
        if not isinstance(schema, dict):
            raise ValueError
        items = taskforms.fields(schema, {}, {})
    except json.JSONDecodeError as exc:
        return {"preview_error": _("The schema is not JSON (line %(line)d, column %(column)d).",
                                   line=exc.lineno, column=exc.colno)}
    except (SchemaError, ValueError, TypeError, AttributeError, KeyError):
        return {"preview_error": _("The schema is JSON but not a valid form schema; validate it to see why.")}
    return {"preview_title": localized(schema, "title"), "preview_fields": items}


def _uploaded_form(name: str) -> dict[str, bytes]:
    return _edited_file(name, "schema", "schema", MAX_FORM_BYTES, "512 KiB")


@blp.get("/forms/<path:name>")
def form_editor(name: str):
    require_role(current_user(), *deploying.DEPLOYERS)
    active = _active_form(name)
    text = active.files[deploying.FORMS_PREFIX + name]
    return render("owner/form_editor.html", name=name, version=active, text=text, **_preview(text))


@blp.post("/forms/<path:name>/preview")
def form_preview(name: str):
    require_role(current_user(), *deploying.DEPLOYERS)
    _active_form(name)
    context = _preview(request.form.get("schema", ""))
    return render("owner/_form_preview.html", 422 if "preview_error" in context else 200, **context)


@blp.post("/forms/<path:name>/validate")
def form_validate(name: str):
    """Check the edited form with the active version's other files, as a deploy would."""
    _active_form(name)
    return _check_edited(_uploaded_form, name)


@blp.post("/forms/<path:name>/deploy")
def form_deploy(name: str):
    """Deploy the edited form as a new version (the active version's other files unchanged)."""
    _active_form(name)
    return _deploy_edited(_uploaded_form, name)


# -- the decision table editor ------------------------------------------------------------------
def _active_decision(name: str) -> ProcessVersion:
    active = deploying.active_version()
    if active is None or not name.endswith(".dmn") or name not in active.files:
        abort(404)
    return active


def _uploaded_decision(name: str) -> dict[str, bytes]:
    return _edited_file(name, "dmn", "decision table", MAX_DIAGRAM_BYTES, "5 MiB")


@blp.get("/decisions/<path:name>")
def dmn_editor(name: str) -> Any:
    """Edit a decision table of the active version in the browser (dmn-js, web/assets)."""
    require_role(current_user(), *deploying.DEPLOYERS)
    active = _active_decision(name)
    xml = active.files[name]
    today = datetime.now(ZoneInfo(calendars.DEFAULT_TIMEZONE)).date()
    return render("owner/dmn_editor.html", name=name, version=active, xml=xml,
                  # the classification table can be replayed over the last 90 days first (What if, routing)
                  classification=f'id="{whatif_routing.DECISION}"' in xml,
                  whatif_from=(today - timedelta(days=90)).isoformat(), whatif_to=today.isoformat())


@blp.post("/decisions/<path:name>/validate")
def dmn_validate(name: str) -> Any:
    """Check the edited decision table with the active version's other files, as a deploy would."""
    _active_decision(name)
    return _check_edited(_uploaded_decision, name)


@blp.post("/decisions/<path:name>/deploy")
def dmn_deploy(name: str) -> Any:
    """Deploy the edited decision table as a new version (the active version's other files unchanged)."""
    _active_decision(name)
    return _deploy_edited(_uploaded_decision, name)
