"""Deployed versions: immutable, keyed by content hash; running cases stay on their version."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.core.db import db
from cases.core.errors import InvalidDefinition
from cases.process.deploy import content_hash, current_version, deploy, read_directory
from cases.process.models import ProcessInstance, ProcessVersion
from tests.conftest import ROOT
from tests.helpers import only_task, open_case, process_files, step


@pytest.fixture
def process_copy(tmp_path):
    return process_files(tmp_path)


def _versions() -> int:
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_redeploying_the_same_files_creates_no_version(app_ctx):
    before = _versions()
    version, created = deploy(*read_directory(ROOT / "processes", ROOT / "forms"))
    assert created is False and _versions() == before
    assert version.content_hash == content_hash(*read_directory(ROOT / "processes", ROOT / "forms"))


def test_changed_files_make_a_new_version_and_running_cases_keep_theirs(api, world, process_copy):
    processes, forms = process_copy
    case = open_case(api, customer_id=world.customers["ACME"].id)
    old = current_version("support_case")
    diagram = processes / "support_case.bpmn"
    diagram.write_text(diagram.read_text().replace("max_reopens = 3", "max_reopens = 5"))
    new, created = deploy(*read_directory(processes, forms))
    try:
        assert created and new.id != old.id and current_version("support_case").id == new.id
        assert new.content_hash != old.content_hash
        instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case["id"]))
        assert instance.version_id == old.id
        step(api, case["id"], "classify")  # the old instance runs on its own version
        assert only_task(api, case["id"])["element_id"] == "assign"
        newer = open_case(api, customer_id=world.customers["ACME"].id)
        assert db.session.scalar(select(ProcessInstance.version_id).where(
            ProcessInstance.case_id == newer["id"])) == new.id
    finally:
        deploy(*read_directory(ROOT / "processes", ROOT / "forms"))  # re-activate the real files
    assert current_version("support_case").id == old.id


def test_invalid_files_are_rejected_with_every_problem_and_nothing_stored(app_ctx, process_copy):
    processes, forms = process_copy
    diagram = processes / "support_case.bpmn"
    text = diagram.read_text()
    text = text.replace('value="resolve.schema.json"', 'value="missing.schema.json"')
    text = text.replace("reopen_count = reopen_count + 1", "import os")
    text = text.replace('<bpmn:lane id="lane_supervisor" name="supervisor">', '<bpmn:lane id="lane_supervisor" name="boss">')
    diagram.write_text(text)
    before = _versions()
    with pytest.raises(InvalidDefinition) as error:
        deploy(*read_directory(processes, forms))
    problems = {(p["element"], p["message"].split(":")[0].split("'")[0].strip()) for p in error.value.problems}
    elements = {p["element"] for p in error.value.problems}
    assert {"resolve", "count_reopen", "supervisor_review"} <= elements, problems
    assert _versions() == before


def test_malformed_xml_names_file_and_line(app_ctx, process_copy):
    processes, forms = process_copy
    (processes / "support_case.bpmn").write_text("<bpmn:definitions>\n<oops>\n")
    with pytest.raises(InvalidDefinition) as error:
        deploy(*read_directory(processes, forms))
    problem = error.value.problems[0]
    assert problem["file"] == "support_case.bpmn" and problem["line"] and "well-formed XML" in problem["message"]


def test_an_instance_in_another_engine_format_is_refused_not_misread(api, world):
    case = open_case(api, customer_id=world.customers["ACME"].id)
    instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case["id"]))
    instance.serializer_version = "1.4"
    db.session.commit()
    task = only_task(api, case["id"])
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "agent1",
                 json={"version": task["version"], "data": {"category": "software_bug", "priority": "low"}})
    assert r.status_code == 409 and r.json["code"] == "engine_format"
    assert only_task(api, case["id"])["id"] == task["id"]
