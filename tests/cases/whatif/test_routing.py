"""Routing proposals: a draft classification table replayed over the cases' stored texts.

Three cases are opened through the API today: "the server is down" (rule R02: environment problem,
urgent), a licence question (R13: general consultation) and "Report shows an error" (R06: software
bug), each classified by staff: the first as a data problem (against the proposal), the others as
proposed; a fourth, still waiting to be classified, has no stored proposal. A draft that files R02's cases as hardware
repairs moves exactly the first case, to the repair-order branch of the diagram; the deployed table as
a draft changes nothing; the control gives back every stored proposal."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT
from tests.helpers import DATA, open_case, step

TABLE = (ROOT / "processes" / "classify_case.dmn").read_text()
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _replay(api, proposal, user="owner"):
    return api.post("/api/v1/whatif/replays", user, json={"from": TODAY, "to": TODAY, "proposal": proposal})


@pytest.fixture
def three_cases(api, world):
    acme = world.customers["ACME"].id
    down = open_case(api, customer_id=acme, title="The server is down", description="Nothing answers since 9:00.",
                     environment="Linux")
    step(api, down["id"], "classify", DATA["classify"])  # staff decide: a data problem, high
    question = open_case(api, customer_id=acme, title="Question about licences",
                         description="How many seats next year?", environment="")
    step(api, question["id"], "classify", {"category": "general_consultation", "priority": "low"})
    error = open_case(api, customer_id=acme)  # "Report shows an error"
    step(api, error["id"], "classify", {"category": "software_bug", "priority": "medium"})
    open_case(api, customer_id=acme, title="Another outage: the server is down")  # not classified yet
    return down


def test_a_draft_that_files_outages_as_repairs_moves_one_case_to_another_branch(api, three_cases):
    draft = TABLE.replace('<outputEntry id="R02_out0"><text>"environment_problem"</text></outputEntry>',
                          '<outputEntry id="R02_out0"><text>"hardware_repair"</text></outputEntry>')
    assert draft != TABLE
    r = _replay(api, {"classification": {"dmn": draft}})
    assert r.status_code == 200, r.json
    routing = r.json["routing"]
    assert (routing["cases"], routing["unclassified"]) == (3, 1)
    assert routing["control"] == {"equal": True, "differs": 0, "examples": []}
    assert routing["changed"] == {"cases": 1, "category": 1, "priority": 0, "branch": 1}
    assert routing["category_moves"] == [{"from": "environment_problem", "to": "hardware_repair", "cases": 1}]
    example = routing["examples"][0]
    assert (example["case"], example["title"]) == (three_cases["number"], "The server is down")
    assert example["stored"] == {"rule": "R02", "category": "environment_problem", "priority": "urgent"}
    assert example["proposal"] == {"rule": "R02", "category": "hardware_repair", "priority": "urgent"}
    assert example["decided"] == {"category": "data_problem", "priority": "high"}
    assert example["branch"]["stored"]["name"] == "environment problem: advise"
    assert example["branch"]["proposal"]["name"] == "hardware repair: repair order"
    assert example["branch"]["proposal"]["name_zh"] == "硬件维修：维修单"
    assert {row["rule"]: (row["stored"], row["proposal"]) for row in routing["rules"]} == \
        {"R02": (1, 1), "R06": (1, 1), "R13": (1, 1)}
    codes = {limit["code"] for limit in r.json["limits"]}
    assert "classification_proposal_only" in codes
    assert r.json["proposal"]["classification"] == {"dmn": draft}


def test_agreement_with_staff_is_counted_over_the_cases_they_decided(api, three_cases):
    agreeing = TABLE.replace('<outputEntry id="R02_out0"><text>"environment_problem"</text></outputEntry>',
                             '<outputEntry id="R02_out0"><text>"data_problem"</text></outputEntry>')
    routing = _replay(api, {"classification": {"dmn": agreeing}}).json["routing"]
    assert routing["agreement"] == {"decided": 3, "stored": {"cases": 2, "share": 0.6667},
                                    "proposal": {"cases": 3, "share": 1.0}}


def test_the_deployed_table_as_a_draft_changes_nothing(api, three_cases):
    r = _replay(api, {"classification": {"dmn": TABLE}})
    routing = r.json["routing"]
    assert routing["changed"] == {"cases": 0, "category": 0, "priority": 0, "branch": 0}
    assert routing["examples"] == [] and routing["control"]["equal"] is True
    assert r.json["changed"]["cases"] == 0  # the SLA replay is the control's: no policy or calendar changes
    assert _replay(api, {}).json["routing"] is None


@pytest.mark.parametrize(("dmn", "words"), [
    ("<definitions", "line 1"),
    (TABLE.replace('decision id="classify_case"', 'decision id="classify"'), "classify_case"),
    (TABLE.replace("<text>\"R02\"</text>", "<text>\"R02</text>", 1), "line"),
    ("", "bytes"),
])
def test_a_draft_that_is_not_a_valid_table_is_refused_naming_the_field(api, world, dmn, words):
    r = _replay(api, {"classification": {"dmn": dmn}})
    assert r.status_code == 422, r.json
    errors = [e for e in r.json["errors"] if e["field"] == "proposal.classification.dmn"]
    assert errors and any(words in e["message"] for e in errors), r.json["errors"]


def test_a_classification_that_is_not_an_object_is_refused(api, world):
    r = _replay(api, {"classification": "R02 -> repair"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "proposal.classification"


def test_only_what_if_readers_replay_a_routing_draft(api, world):
    assert _replay(api, {"classification": {"dmn": TABLE}}, user="agent1").status_code == 403


def test_the_draft_file_in_the_repository_is_the_one_the_process_calls():
    assert 'decision id="classify_case"' in Path(ROOT / "processes" / "classify_case.dmn").read_text()
