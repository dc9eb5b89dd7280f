"""Moving running cases to another version: dry run, bulk move, revert."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.core.db import db
from cases.process.deploy import current_version
from cases.process.models import ProcessInstance
from server.cli import main
from tests.helpers import deploy_variant, get_case, only_task, open_case, step, without_assign


def _deploy_variant(tmp_path, name, change) -> int:
    return deploy_variant(tmp_path, change, name).id


def _more_reopens(text: str) -> str:
    return text.replace("max_reopens = 3", "max_reopens = 5")


@pytest.fixture
def cases_at_steps(api, world):
    """Four running cases: at classify, at assign, waiting for the customer, at confirm."""
    acme = world.customers["ACME"].id
    at_classify = open_case(api, customer_id=acme)
    at_assign = open_case(api, customer_id=acme)
    step(api, at_assign["id"], "classify")
    waiting = open_case(api, customer_id=acme)
    for element in ("classify", "assign"):
        step(api, waiting["id"], element)
    step(api, waiting["id"], "resolve", {"analysis": "a", "outcome": "need_info", "question": "log?"})
    at_confirm = open_case(api, customer_id=acme)
    for element in ("classify", "assign", "resolve"):
        step(api, at_confirm["id"], element)
    return {"classify": at_classify, "assign": at_assign, "waiting": waiting, "confirm": at_confirm}


def _version_of(case_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.case_id == case_id))


def test_dry_run_move_and_revert(api, cases_at_steps, tmp_path, restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "more", _more_reopens)
    blocked_target = _deploy_variant(tmp_path, "noassign", without_assign)
    body = {"from_version": source, "to_version": blocked_target}

    verdicts = api.post("/api/v1/migrations/dry-run", "owner", json=body).json
    by_case = {v["case_id"]: v for v in verdicts}
    assert not by_case[cases_at_steps["assign"]["id"]]["migratable"]
    assert "'assign' does not exist" in by_case[cases_at_steps["assign"]["id"]]["reasons"][0]
    assert by_case[cases_at_steps["classify"]["id"]]["migratable"]
    # a case that has passed assign could not be read on a version without it: it stays
    for key in ("waiting", "confirm"):
        verdict = by_case[cases_at_steps[key]["id"]]
        assert not verdict["migratable"] and verdict["details"][0]["code"] == "move_history_removed"
        assert verdict["details"][0]["params"]["step"] == "assign"
    assert _version_of(cases_at_steps["assign"]["id"]) == source  # a dry run changes nothing

    moved = api.post("/api/v1/migrations", "owner", json={"from_version": source, "to_version": target})
    assert moved.status_code == 201, moved.json
    assert len(moved.json["moved"]) == 4 and moved.json["skipped"] == []
    assert {_version_of(c["id"]) for c in cases_at_steps.values()} == {target}
    # the moved cases go on: the waiting one takes the reply, the assign one its next step
    r = api.post(f"/api/v1/cases/{cases_at_steps['waiting']['id']}/messages/customer_reply", "acme_user",
                 json={"payload": {"text": "log"}})
    assert r.status_code == 200 and r.json["stage"] == "in_progress"
    assert "process_migrated" in [e["kind"] for e in get_case(api, cases_at_steps["confirm"]["id"])["history"]]

    reverted = api.post(f"/api/v1/migrations/{moved.json['batch']}/revert", "owner")
    assert reverted.status_code == 200
    waiting_id = db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.case_id == cases_at_steps["waiting"]["id"]))
    assert [s["instance_id"] for s in reverted.json["skipped"]] == [waiting_id]  # it moved on since
    assert "moved on" in reverted.json["skipped"][0]["reasons"][0]
    for key in ("classify", "assign", "confirm"):
        assert _version_of(cases_at_steps[key]["id"]) == source
    assert _version_of(cases_at_steps["waiting"]["id"]) == target
    assert only_task(api, cases_at_steps["assign"]["id"])["element_id"] == "assign"
    step(api, cases_at_steps["assign"]["id"], "assign")  # and work goes on, on the old version


def test_blocked_cases_stay_and_are_reported(api, cases_at_steps, tmp_path, restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "noassign", without_assign)
    moved = api.post("/api/v1/migrations", "admin", json={"from_version": source, "to_version": target}).json
    at_assign = db.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.case_id == cases_at_steps["assign"]["id"]))
    assert at_assign in [s["instance_id"] for s in moved["skipped"]]
    assert len(moved["moved"]) == 1 and len(moved["skipped"]) == 3  # the cases past assign stay too
    assert _version_of(cases_at_steps["assign"]["id"]) == source
    # a moved case at classify now skips the assign step
    step(api, cases_at_steps["classify"]["id"], "classify")
    assert only_task(api, cases_at_steps["classify"]["id"])["element_id"] == "resolve"


def test_bad_requests(api, world):
    source = current_version("support_case").id
    r = api.post("/api/v1/migrations/dry-run", "owner", json={"from_version": source, "to_version": source})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to_version"
    r = api.post("/api/v1/migrations", "owner", json={"from_version": source, "to_version": 999999})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to_version"
    assert api.post("/api/v1/migrations/nope/revert", "owner").status_code == 404
    assert api.post("/api/v1/migrations/dry-run", "agent1", json={"from_version": source,
                                                                   "to_version": source}).status_code == 403


def test_the_command_line_moves_and_reverts(app, api, cases_at_steps, tmp_path, restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "more", _more_reopens)
    runner = app.test_cli_runner()
    dry = runner.invoke(main, args=["migrate", "--from", str(source), "--to", str(target), "--as", "owner", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("can move") == 4 and _version_of(cases_at_steps["assign"]["id"]) == source
    done = runner.invoke(main, args=["migrate", "--from", str(source), "--to", str(target), "--as", "owner"])
    assert done.exit_code == 0 and "moved 4, stayed 0" in done.output, done.output
    assert _version_of(cases_at_steps["assign"]["id"]) == target
    batch = done.output.split()[1].rstrip(":")
    back = runner.invoke(main, args=["revert-migration", batch, "--as", "owner"])
    assert back.exit_code == 0 and "moved back 4" in back.output, back.output
    assert _version_of(cases_at_steps["assign"]["id"]) == source
    refused = runner.invoke(main, args=["migrate", "--from", str(source), "--to", str(target), "--as", "agent1"])
    assert refused.exit_code != 0 and "process_owner" in refused.output


def test_progress_and_the_audit_trail(api, cases_at_steps, tmp_path, restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "audit", lambda text: text.replace("max_turns = 30", "max_turns = 20"))
    moved = api.post("/api/v1/migrations", "owner", json={"from_version": source, "to_version": target}).json
    batch = api.get(f"/api/v1/migrations/{moved['batch']}", "owner").json
    assert batch["status"] == "done" and batch["total"] == 4 and batch["moved"] == 4 and batch["skipped"] == 0
    assert batch["from_version"] == source and batch["to_version"] == target
    api.post(f"/api/v1/migrations/{moved['batch']}/revert", "owner")
    trail = api.get("/api/v1/audit", "supervisor").json
    actions = [e["action"] for e in trail["items"]]
    assert actions[:2] == ["revert_migration", "migrate"]
    assert {"deploy", "reactivate"} & set(actions)
    migrate = next(e for e in trail["items"] if e["action"] == "migrate")
    assert migrate["actor"] == "owner" and migrate["subject"] == moved["batch"] and migrate["details"]["moved"] == 4
    only_migrations = api.get("/api/v1/audit?action=migrate", "admin").json
    assert only_migrations["total"] >= 1 and {e["action"] for e in only_migrations["items"]} == {"migrate"}
    assert api.get("/api/v1/audit", "agent1").status_code == 403
    assert api.get("/api/v1/migrations/unknown-batch", "owner").status_code == 404


def _needs_a_new_variable(text: str) -> str:
    """The assign step's pre-script reads a variable older cases never got."""
    return text.replace("owner = suggested_owner\n", "owner = suggested_owner\nescalation_team = team_of_the_case\n")


def test_a_variable_the_new_diagram_needs_blocks_the_move(api, cases_at_steps, tmp_path, restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "needsvar", _needs_a_new_variable)
    verdicts = api.post("/api/v1/migrations/dry-run", "owner",
                        json={"from_version": source, "to_version": target}).json
    by_case = {v["case_id"]: v for v in verdicts}
    at_assign = by_case[cases_at_steps["assign"]["id"]]
    assert not at_assign["migratable"] and "team_of_the_case" in at_assign["reasons"][0]
    assert "'assign'" in at_assign["reasons"][0]
    # a case past assign goes through it again when the customer rejects the solution (a reopen),
    # and a case before it reaches it: no running case has the variable on every path ahead
    for key in ("classify", "confirm"):
        verdict = by_case[cases_at_steps[key]["id"]]
        assert not verdict["migratable"]
        assert verdict["reasons"] == [
            "the step 'assign' (Assign owner and due date) ahead reads the variable 'team_of_the_case', which "
            "the case does not have and no step before it writes on every path"]
    assert _version_of(cases_at_steps["assign"]["id"]) == source
    moved = api.post("/api/v1/migrations", "owner", json={"from_version": source, "to_version": target}).json
    assert moved["moved"] == [] and len(moved["skipped"]) == 4  # the move does what the dry run says


def _weighted_reopens(text: str) -> str:
    """The issue's case: count_reopen reads reopen_weight, which only the new intake script sets."""
    return text.replace("reopen_count = 0\n", "reopen_count = 0\nreopen_weight = 1\n").replace(
        "reopen_count = reopen_count + 1", "reopen_count = reopen_count + reopen_weight")


def test_a_variable_only_the_new_intake_writes_blocks_every_running_case(api, world, cases_at_steps, tmp_path,
                                                                        restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "weighted", _weighted_reopens)
    verdicts = api.post("/api/v1/migrations/dry-run", "owner",
                        json={"from_version": source, "to_version": target}).json
    assert len(verdicts) == 4
    for verdict in verdicts:
        assert not verdict["migratable"]
        assert verdict["reasons"] == [
            "the step 'count_reopen' (Count reopen) ahead reads the variable 'reopen_weight', which the case "
            "does not have and no step before it writes on every path"]
    # a case opened on the new version runs its intake, so it has the variable
    fresh = open_case(api, customer_id=world.customers["ACME"].id)
    assert _version_of(fresh["id"]) == target


def _refusing_reopens(text: str) -> str:
    """A rejection fails when it runs (a division by zero no check can see)."""
    return text.replace("reopen_count = reopen_count + 1",
                        "reopen_count = reopen_count + 1 + 1 // (max_reopens - max_reopens)")


def test_revert_after_a_refused_step_and_single_case_moves(api, cases_at_steps, tmp_path, restore_active_version):
    source = current_version("support_case").id
    target = _deploy_variant(tmp_path, "refusing", _refusing_reopens)
    confirm_id, classify_id = cases_at_steps["confirm"]["id"], cases_at_steps["classify"]["id"]
    dry = api.post("/api/v1/migrations/dry-run", "owner",
                   json={"from_version": source, "to_version": target, "case_ids": [confirm_id]}).json
    assert [(v["case_id"], v["migratable"]) for v in dry] == [(confirm_id, True)]
    moved = api.post("/api/v1/migrations", "owner",
                     json={"from_version": source, "to_version": target, "case_ids": [confirm_id, classify_id]})
    assert moved.status_code == 201 and len(moved.json["moved"]) == 2
    assert {_version_of(c["id"]) for c in cases_at_steps.values()} == {source, target}
    assert _version_of(cases_at_steps["assign"]["id"]) == source  # not asked: stays
    # the customer rejects the solution: the new version refuses the step, with an error note
    task = only_task(api, confirm_id)
    refused = api.post(f"/api/v1/tasks/{task['id']}/complete", "acme_user",
                       json={"version": task["version"], "data": {"confirmed": False, "confirmation_comment": "still broken"}})
    assert refused.status_code >= 400 and refused.status_code != 500, refused.json
    db.session.rollback()
    assert db.session.scalar(select(ProcessInstance.error_message).where(ProcessInstance.case_id == confirm_id))
    db.session.rollback()
    # one case moved back on its own, then the rest of the batch
    batch = moved.json["batch"]
    one = api.post(f"/api/v1/migrations/{batch}/revert", "owner", json={"case_ids": [confirm_id]})
    assert one.status_code == 200 and one.json["skipped"] == [] and len(one.json["moved"]) == 1
    assert _version_of(confirm_id) == source and _version_of(classify_id) == target
    assert db.session.scalar(select(ProcessInstance.error_message).where(ProcessInstance.case_id == confirm_id)) is None
    db.session.rollback()
    rest = api.post(f"/api/v1/migrations/{batch}/revert", "owner")
    assert rest.status_code == 200 and len(rest.json["moved"]) == 1 and _version_of(classify_id) == source
    # on its own version again, the rejection works
    task = only_task(api, confirm_id)
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", "acme_user",
                    json={"version": task["version"], "data": {"confirmed": False, "confirmation_comment": "still broken"}})
    assert done.status_code == 200, done.json


def test_the_command_line_says_why_a_case_stays_in_either_language(app, api, cases_at_steps, tmp_path,
                                                                     restore_active_version):
    source = current_version("support_case").id
    blocked_target = _deploy_variant(tmp_path, "noassign-cli", without_assign)
    runner = app.test_cli_runner()
    args = ["migrate", "--from", str(source), "--to", str(blocked_target), "--as", "owner", "--dry-run"]
    english = runner.invoke(main, args=args)
    chinese = runner.invoke(main, args=[*args, "--lang", "zh"])
    by_env = runner.invoke(main, args=args, env={"CASEFLOW_LANG": "zh"})
    assert english.exit_code == chinese.exit_code == by_env.exit_code == 0, english.output + chinese.output
    number = cases_at_steps["assign"]["number"]
    [line_en] = [line for line in english.output.splitlines() if line.startswith(number)]
    [line_zh] = [line for line in chinese.output.splitlines() if line.startswith(number)]
    assert "'assign' does not exist" in line_en
    assert "does not exist" not in line_zh and any("\u4e00" <= ch <= "\u9fff" for ch in line_zh)
    assert by_env.output == chinese.output
    assert runner.invoke(main, args=[*args, "--lang", "fr"]).exit_code == 2  # a language it cannot speak
