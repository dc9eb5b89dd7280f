"""Process owners deploy and validate files through the API."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from cases.core.db import db
from cases.process.deploy import current_version
from cases.process.models import ProcessVersion
from tests.conftest import ROOT
from tests.helpers import open_case


def _files(**overrides: bytes) -> list[tuple[io.BytesIO, str]]:
    files = {p.name: p.read_bytes() for p in (ROOT / "processes").iterdir() if p.suffix in (".bpmn", ".dmn")}
    files.update({p.name: p.read_bytes() for p in (ROOT / "forms").iterdir()})
    files.update(overrides)
    return [(io.BytesIO(content), name) for name, content in files.items()]


def _upload(api, url, files, as_user="owner", change_note="A change for a test"):
    data = {"files": files} if change_note is None else {"files": files, "change_note": change_note}
    return api.post(url, as_user, data=data, content_type="multipart/form-data")


def _versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_uploading_the_active_files_reactivates_and_a_change_deploys(api, world):
    before = _versions()
    r = _upload(api, "/api/v1/process-versions", _files())
    assert r.status_code == 200 and _versions() == before
    diagram = (ROOT / "processes" / "support_case.bpmn").read_text().replace("max_reopens = 3", "max_reopens = 4")
    try:
        r = _upload(api, "/api/v1/process-versions?merge=true",
                    [(io.BytesIO(diagram.encode()), "support_case.bpmn")])
        assert r.status_code == 201, r.json
        assert r.json["process_ids"] == ["complaint_handling", "customer_follow_up", "maintenance_schedule",
                                         "major_incident", "requirement_evaluation", "risk_review",
                                         "service_visit", "support_case", "training_session"]
        assert "classify.schema.json" in r.json["forms"]
        assert _versions() == before + 1 and current_version("support_case").id == r.json["id"]
        case = open_case(api, customer_id=world.customers["ACME"].id)  # runs on the new version
        assert case["process_version"] == r.json["content_hash"]
    finally:
        assert _upload(api, "/api/v1/process-versions", _files()).status_code == 200


def test_a_bad_upload_reports_every_problem_and_deploys_nothing(api, world):
    text = (ROOT / "processes" / "support_case.bpmn").read_text()
    broken = text.replace("info_requests = info_requests + 1", "import os").replace(
        'name="supervisor">', 'name="boss">')
    before = _versions()
    r = _upload(api, "/api/v1/process-versions?merge=true", [(io.BytesIO(broken.encode()), "support_case.bpmn")])
    assert r.status_code == 422 and r.json["code"] == "invalid_definition"
    elements = {e["element"] for e in r.json["errors"]}
    assert {"count_info_request", "supervisor_review"} <= elements
    assert all(e["file"] == "support_case.bpmn" and e["line"] for e in r.json["errors"])
    assert _versions() == before
    check = _upload(api, "/api/v1/process-versions/validate?merge=true",
                    [(io.BytesIO(broken.encode()), "support_case.bpmn")])
    assert check.status_code == 200 and check.json["valid"] is False
    assert check.json["errors"] == r.json["errors"]
    good = _upload(api, "/api/v1/process-versions/validate", _files())
    assert good.json == {"valid": True, "errors": []}


def test_uploads_are_for_process_owners_and_admins_only(api, world):
    for user in ("agent1", "supervisor", "acme_user"):
        assert _upload(api, "/api/v1/process-versions", _files(), user).status_code == 403
    assert _upload(api, "/api/v1/process-versions", _files(), "admin").status_code == 200


def test_files_that_are_no_process_or_form_are_named(api, world):
    r = _upload(api, "/api/v1/process-versions", [(io.BytesIO(b"hello"), "notes.txt")])
    assert r.status_code == 422 and r.json["errors"] == [
        {"field": "files", "message": "not a process or form file: notes.txt"}]
    r = api.post("/api/v1/process-versions", "owner", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "files"
