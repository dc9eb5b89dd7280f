"""A move with renamed steps: the owner maps old element ids to new ones; the dry run and the
move use the mapping (a case waiting at the old id lands at the new one), the batch keeps it,
and a mapping that cannot be used is refused (422 naming mapping.<old id>) with nothing moved."""
from __future__ import annotations

from sqlalchemy import select

from cases.core.db import db
from cases.process.deploy import current_version
from cases.process.models import MigrationBatch, ProcessInstance
from tests.helpers import DATA, deploy_variant, only_task, open_case, step


def renamed_assign(text: str) -> str:
    """The assign step is now called assign_owner (its flows, lane, shape and SLA ladder follow)."""
    for old, new in (('"assign"', '"assign_owner"'), (">assign<", ">assign_owner<")):
        text = text.replace(old, new)
    return text


def _version_of(case_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.case_id == case_id))


def _at_assign(api, world) -> dict:
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify")
    assert only_task(api, case["id"])["element_id"] == "assign"
    return case


def test_a_case_at_a_renamed_step_moves_to_the_new_id(api, world, tmp_path, restore_active_version):
    case = _at_assign(api, world)
    source = current_version("support_case").id
    target = deploy_variant(tmp_path, renamed_assign, "renamed").id
    body = {"from_version": source, "to_version": target, "case_ids": [case["id"]]}

    unmapped = api.post("/api/v1/migrations/dry-run", "owner", json=body).json
    assert not unmapped[0]["migratable"]
    assert unmapped[0]["details"][0]["code"] == "move_step_removed_named"
    assert unmapped[0]["details"][0]["params"]["step"] == "assign"

    mapped = api.post("/api/v1/migrations/dry-run", "owner", json={**body, "mapping": {"assign": "assign_owner"}}).json
    assert mapped[0]["migratable"] and mapped[0]["reasons"] == [], mapped
    assert _version_of(case["id"]) == source  # a dry run changes nothing

    moved = api.post("/api/v1/migrations", "owner", json={**body, "mapping": {"assign": "assign_owner"}})
    assert moved.status_code == 201, moved.json
    assert len(moved.json["moved"]) == 1 and moved.json["mapping"] == {"assign": "assign_owner"}
    assert _version_of(case["id"]) == target
    assert only_task(api, case["id"])["element_id"] == "assign_owner"
    # the batch keeps the mapping for history (the API and the audit)
    batch = api.get(f"/api/v1/migrations/{moved.json['batch']}", "owner").json
    assert batch["mapping"] == {"assign": "assign_owner"}
    assert db.session.get(MigrationBatch, moved.json["batch"]).mapping == {"assign": "assign_owner"}
    trail = api.get("/api/v1/audit?action=migrate", "admin").json["items"]
    assert trail[0]["details"]["mapping"] == {"assign": "assign_owner"}
    # and the work goes on at the new step
    step(api, case["id"], "assign_owner", DATA["assign"])
    assert only_task(api, case["id"])["element_id"] == "resolve"


def test_a_reverted_renamed_move_lands_at_the_old_id_again(api, world, tmp_path, restore_active_version):
    case = _at_assign(api, world)
    source = current_version("support_case").id
    target = deploy_variant(tmp_path, renamed_assign, "renamed").id
    moved = api.post("/api/v1/migrations", "owner", json={"from_version": source, "to_version": target,
                                                          "mapping": {"assign": "assign_owner"}}).json
    api.post(f"/api/v1/migrations/{moved['batch']}/revert", "owner")
    assert _version_of(case["id"]) == source and only_task(api, case["id"])["element_id"] == "assign"


def test_a_mapping_that_cannot_be_used_is_refused_naming_the_field(api, world, tmp_path, restore_active_version):
    case = _at_assign(api, world)
    source = current_version("support_case").id
    target = deploy_variant(tmp_path, renamed_assign, "renamed").id
    body = {"from_version": source, "to_version": target}
    refusals = {
        "mapping.nowhere": {"nowhere": "assign_owner"},                # not a step of the source
        "mapping.classify": {"classify": "assign_owner"},              # the target still has it
        "mapping.assign": {"assign": "suggest_owner"},                 # not a user task of the target
    }
    for field, mapping in refusals.items():
        for path in ("/api/v1/migrations/dry-run", "/api/v1/migrations"):
            r = api.post(path, "owner", json={**body, "mapping": mapping})
            assert r.status_code == 422, r.json
            assert [e["field"] for e in r.json["errors"]] == [field]
    other_process = api.post("/api/v1/migrations/dry-run", "owner",
                             json={**body, "mapping": {"assign": "contact_requester"}})
    assert other_process.status_code == 422 and other_process.json["errors"][0]["code"] == "mapping_other_process"
    bad_shape = api.post("/api/v1/migrations/dry-run", "owner", json={**body, "mapping": ["assign"]})
    assert bad_shape.status_code == 422 and bad_shape.json["errors"][0]["field"].startswith("mapping")
    assert _version_of(case["id"]) == source
    assert db.session.scalar(select(MigrationBatch.id).where(MigrationBatch.to_version_id == target)) is None


def test_two_old_ids_onto_one_new_id_are_refused(api, world, tmp_path, restore_active_version):
    source = current_version("support_case").id

    def two_renamed(text: str) -> str:
        return renamed_assign(text).replace('"resolve"', '"resolve_case"').replace(">resolve<", ">resolve_case<")
    target = deploy_variant(tmp_path, two_renamed, "tworenamed").id
    r = api.post("/api/v1/migrations/dry-run", "owner", json={
        "from_version": source, "to_version": target, "mapping": {"assign": "assign_owner", "resolve": "assign_owner"}})
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json["errors"]) == ["mapping.assign", "mapping.resolve"]
    assert {e["code"] for e in r.json["errors"]} == {"mapping_twice"}
