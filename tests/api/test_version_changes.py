"""Before a deploy or a migration: what changes (a diff of elements), a required change note kept
with the version and in the audit, and a confirmed number of cases to move."""
from __future__ import annotations

import io
import uuid

from sqlalchemy import func, select

from cases.core.db import db
from cases.process.deploy import current_version
from cases.process.models import ProcessVersion
from tests.conftest import ROOT
from tests.helpers import deploy_variant, open_case, step, without_assign


def _support_case(change) -> list[tuple[io.BytesIO, str]]:
    text = (ROOT / "processes" / "support_case.bpmn").read_text()
    return [(io.BytesIO(change(text).encode()), "support_case.bpmn")]


def _renamed(text: str) -> str:
    unique = uuid.uuid4().hex[:6]
    return text.replace('id="classify" name="Classify"', f'id="classify" name="Classify {unique}"')


def _versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_a_deploy_needs_a_change_note_which_the_list_and_audit_show(api, world, restore_active_version):
    before = _versions()
    renamed = _renamed((ROOT / "processes" / "support_case.bpmn").read_text())
    files = _support_case(lambda _t: renamed)
    refused = api.post("/api/v1/process-versions?merge=true", "owner", content_type="multipart/form-data",
                       data={"files": files, "change_note": "  "})
    assert refused.status_code == 422 and refused.json["errors"] == [{"field": "change_note", "message": "required"}]
    assert _versions() == before
    files = _support_case(lambda _t: renamed)
    note = "Classify is called by its new name on the agents' screens"
    done = api.post("/api/v1/process-versions?merge=true", "owner", content_type="multipart/form-data",
                    data={"files": files, "change_note": note})
    assert done.status_code == 201, done.json
    listed = api.get("/api/v1/process-versions", "owner").json
    assert listed[0]["id"] == done.json["id"] and listed[0]["change_note"] == note
    audit = api.get("/api/v1/audit", "admin").json
    items = audit["items"] if isinstance(audit, dict) else audit
    deploy = next(e for e in items if e["action"] == "deploy" and e["subject"] == str(done.json["id"]))
    assert deploy["details"]["change_note"] == note


def test_the_diff_names_added_removed_and_changed_elements(api, world, restore_active_version):
    def change(text: str) -> str:
        text = _renamed(text)  # classify changed
        return text.replace('<bpmn:scriptTask id="count_reopen" name="Count reopen">',
                            '<bpmn:scriptTask id="count_reopen" name="Count the reopen">')
    preview = api.post("/api/v1/process-versions/diff?merge=true", "owner", content_type="multipart/form-data",
                       data={"files": _support_case(change)})
    assert preview.status_code == 200, preview.json
    assert preview.json["against"] == current_version("support_case").id
    changed = {(c["file"], c["element"]) for c in preview.json["changed"]}
    assert changed == {("support_case.bpmn", "classify"), ("support_case.bpmn", "count_reopen")}
    assert preview.json["added"] == [] and preview.json["removed"] == []
    # deployed, the stored version's diff against the one before says the same
    done = api.post("/api/v1/process-versions?merge=true", "owner", content_type="multipart/form-data",
                    data={"files": _support_case(change), "change_note": "Two names"})
    assert done.status_code == 201
    stored = api.get(f"/api/v1/process-versions/{done.json['id']}/diff?against={preview.json['against']}", "owner")
    assert stored.status_code == 200
    assert {(c["file"], c["element"]) for c in stored.json["changed"]} == changed
    # a removed step and its flows show as removed
    gone = api.post("/api/v1/process-versions/diff?merge=true", "owner", content_type="multipart/form-data",
                    data={"files": _support_case(without_assign)}).json
    removed = {c["element"] for c in gone["removed"]}
    assert {"assign", "f_assigned", "assign_sla", "assign_escalate"} <= removed
    assert api.get("/api/v1/process-versions/999999/diff", "owner").status_code == 404
    assert api.post("/api/v1/process-versions/diff", "agent1", content_type="multipart/form-data",
                    data={"files": _support_case(change)}).status_code == 403


def test_a_migration_moves_only_the_confirmed_number(api, world, tmp_path, restore_active_version):
    acme = world.customers["ACME"].id
    open_case(api, customer_id=acme)
    second = open_case(api, customer_id=acme)
    step(api, second["id"], "classify")
    source = current_version("support_case").id
    target = deploy_variant(tmp_path, _renamed, "renamed").id
    body = {"from_version": source, "to_version": target}
    stale = api.post("/api/v1/migrations", "owner", json={**body, "expected_moves": 1})
    assert stale.status_code == 409 and "2 running case(s) would be moved, not 1" in str(stale.json)
    db.session.rollback()
    assert {v for (v,) in db.session.execute(select(ProcessVersion.id).where(ProcessVersion.id == source))} == {source}
    moved = api.post("/api/v1/migrations", "owner", json={**body, "expected_moves": 2})
    assert moved.status_code == 201 and len(moved.json["moved"]) == 2


def test_file_fields_sent_as_text_and_ids_out_of_range_are_422_not_500(api):
    """Found by schemathesis: a multipart body whose ``files`` are form text, and an ``against`` id past
    the column's range, are refused naming the field."""
    body = {"change_note": "null", "files": "{}"}
    for url in ("/api/v1/process-versions?merge=true", "/api/v1/process-versions/validate",
                "/api/v1/process-versions/diff"):
        r = api.post(url, "owner", content_type="multipart/form-data", data=body)
        assert r.status_code == 422, (url, r.status_code, r.json)
        assert any(e["field"].endswith("files") for e in r.json["errors"]), r.json
    r = api.get("/api/v1/process-versions/1/diff?against=-260052270075552765415983228269098958848", "owner")
    assert r.status_code == 422
    assert [e["field"] for e in r.json["errors"]] == ["query.against"]
