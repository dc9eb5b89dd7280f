"""``caseflow whatif``: the hand-built week replayed from the command line, with a progress bar."""
from __future__ import annotations

import csv
import json

from cases.whatif import runs
from server.cli import main
from tests.cases.kpis.test_kpis import dataset, teams  # noqa: F401

WEEK = ["--from", "2026-11-16", "--to", "2026-11-22"]


def test_whatif_replays_saves_and_writes_csv(app, world, dataset, tmp_path):  # noqa: F811
    proposal = tmp_path / "holiday.json"
    proposal.write_text(json.dumps({"calendars": {"default": {"extra_holidays": ["2026-11-17"]}}}))
    out = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        main, args=["whatif", *WEEK, "--as", "owner", "--proposal", str(proposal), "--save", "holiday",
                    "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "7 cases opened 2026-11-16 .. 2026-11-22; control equal to the stored outcomes and KPIs" in result.output
    assert "first_response_within_sla" in result.output and "85.7 % (6/7)" in result.output
    assert "changed: 1 cases, 1 targets" in result.output
    assert "replaying" in result.stderr and "replayed 7/7 cases" in result.stderr  # the progress bar
    [saved] = runs.list_runs(world.user("owner"))
    assert saved.name == "holiday" and saved.cases == 7
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["grouping", "key", "figure", "actual", "control", "proposal"]

    number = runs.read_run(world.user("owner"), saved.id).result["changed"]["listed"][0]["case"]
    why = app.test_cli_runner().invoke(main, args=["whatif", *WEEK, "--as", "owner", "--proposal", str(proposal),
                                                   "--explain", number])
    assert why.exit_code == 0 and "first response: breached, in time under the proposal because" in why.output


def test_whatif_refuses_bad_input_and_other_roles(app, world, dataset, tmp_path):  # noqa: F811
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"calendars": {"nowhere": {}}}))
    result = app.test_cli_runner().invoke(main, args=["whatif", *WEEK, "--as", "owner", "--proposal", str(bad)])
    assert result.exit_code != 0 and "proposal.calendars.nowhere" in result.output
    result = app.test_cli_runner().invoke(main, args=["whatif", *WEEK, "--as", "supervisor"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert runs.list_runs(world.user("owner")) == []


def test_whatif_replays_an_assignment_proposal(app, world, dataset, tmp_path):  # noqa: F811
    proposal = tmp_path / "turns.json"
    proposal.write_text(json.dumps({"assignment": {"strategies": {"agent": "round_robin"}}}))
    result = app.test_cli_runner().invoke(main, args=["whatif", *WEEK, "--as", "owner", "--proposal", str(proposal)])
    assert result.exit_code == 0, result.output
    assert "assignment: " in result.output and "control gives back every recorded first holder" in result.output
    assert "tasks received" in result.output and "agent1" in result.output
