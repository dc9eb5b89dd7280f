"""The what-if API over the hand-built week (tests/cases/kpis): replay, explain, save, CSV, compare;
bad input is a 422 naming the field with nothing changed; only managers, process owners and admins."""
from __future__ import annotations

import csv
import io

from tests.cases.kpis.test_kpis import dataset, teams  # noqa: F401
from tests.cases.whatif.snapshot import whole_database

URL = "/api/v1/whatif"
WEEK = {"from": "2026-11-16", "to": "2026-11-22"}
HOLIDAY = {"calendars": {"default": {"extra_holidays": ["2026-11-17"]}}}


def test_replay_explain_save_csv_compare(api, dataset):  # noqa: F811
    api.token("owner"), api.token("admin")  # logging in writes a token row: before the snapshot
    before = whole_database()
    r = api.post(f"{URL}/replays", "owner", json={**WEEK, "proposal": HOLIDAY})
    assert r.status_code == 200, r.json
    result = r.json
    assert result["from"] == "2026-11-16" and result["cases"] == 7 and result["control"]["equal"]
    assert result["totals"]["proposal"]["first_response_within_sla"]["numerator"] == 6
    [changed] = result["changed"]["listed"]
    assert any(limit["code"] == "process_not_rerun" for limit in result["limits"])
    r = api.post(f"{URL}/explanations", "admin", json={"case": changed["case"], "proposal": HOLIDAY})
    assert r.status_code == 200, r.json
    assert r.json["changed"] and "holiday" in next(t for t in r.json["targets"] if t["changed"])["text"]
    assert whole_database() == before  # replaying and explaining wrote nothing

    saved = [api.post(f"{URL}/runs", "owner", json={**WEEK, "name": name, "proposal": proposal})
             for name, proposal in (("control", {}), ("holiday", HOLIDAY))]
    assert [s.status_code for s in saved] == [201, 201], saved[0].json
    first, second = (s.json["id"] for s in saved)
    listed = api.get(f"{URL}/runs", "owner").json
    assert [run["name"] for run in listed] == ["holiday", "control"] and "result" not in listed[0]
    assert api.get(f"{URL}/runs/{second}", "owner").json["result"]["changed"]["cases"] == 1
    r = api.get(f"{URL}/runs/{second}/csv", "owner")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["grouping", "key", "figure", "actual", "control", "proposal"]
    assert ["total", "", "first_response_within_sla", "0.7143", "0.7143", "0.8571"] in rows
    r = api.get(f"{URL}/comparison", "owner", query_string={"first": first, "second": second})
    assert r.status_code == 200, r.json
    share = next(f for f in r.json["figures"] if f["figure"] == "first_response_within_sla")
    assert (share["first"], share["second"], share["difference"]) == (0.7143, 0.8571, 0.1428)
    assert api.request("DELETE", f"{URL}/runs/{first}", "owner").status_code == 204
    assert api.get(f"{URL}/runs/{first}", "owner").status_code == 404


def test_bad_input_names_the_field_and_changes_nothing(api, dataset):  # noqa: F811
    api.token("owner")
    before = whole_database()
    r = api.post(f"{URL}/replays", "owner", json={**WEEK, "proposal": {"calendars": {"default": {"hours": 3}}}})
    assert r.status_code == 422 and r.json["code"] == "validation_failed"
    assert r.json["errors"][0]["field"] == "proposal.calendars.default.hours"
    r = api.post(f"{URL}/runs", "owner", json={"from": "2026-11-22", "to": "2026-11-16", "name": "x"})
    assert r.status_code == 422 and any(e["field"] == "to" for e in r.json["errors"])
    r = api.post(f"{URL}/runs", "owner", json={**WEEK, "proposal": {"policy": {"version": 7}}, "name": "x"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "proposal.policy.version"
    r = api.post(f"{URL}/explanations", "owner", json={"case": "CF-1999-000001"})
    assert r.status_code == 404
    assert whole_database() == before


def test_only_managers_process_owners_and_admins(api, dataset):  # noqa: F811
    for user in ("supervisor", "agent1", "consultant1", "acme_user"):
        r = api.post(f"{URL}/replays", user, json=WEEK)
        assert r.status_code in (403, 404) and r.status_code == 403, (user, r.json)
        assert api.get(f"{URL}/runs", user).status_code == 403
    assert api.post(f"{URL}/replays", "admin", json=WEEK).status_code == 200
    assert api.post(f"{URL}/replays", "owner", json=WEEK).status_code == 200


ASSIGNMENT = {"assignment": {"strategies": {"agent": "round_robin"}}}


def test_an_assignment_proposal_replayed_saved_and_exported(api, dataset):  # noqa: F811
    api.token("owner")
    before = whole_database()
    r = api.post(f"{URL}/replays", "owner", json={**WEEK, "proposal": ASSIGNMENT})
    assert r.status_code == 200, r.json
    assigned = r.json["assignment"]
    assert assigned["control"]["equal"] and assigned["control"]["checked"] > 0
    assert assigned["replayed"] > assigned["control"]["checked"]  # the lane's pool steps are dealt out too
    assert r.json["proposal"] == ASSIGNMENT
    assert whole_database() == before
    assert api.post(f"{URL}/replays", "owner", json=WEEK).json["assignment"] is None  # none asked for
    r = api.post(f"{URL}/runs", "owner", json={**WEEK, "name": "round robin", "proposal": ASSIGNMENT})
    assert r.status_code == 201, r.json
    rows = list(csv.reader(io.StringIO(api.get(f"{URL}/runs/{r.json['id']}/csv", "owner").data.decode("utf-8-sig"))))
    received = {row[1]: row[3:] for row in rows if row[0] == "assignee"}
    people = {p["key"] or "": p for p in assigned["people"]}
    assert received["agent1"] == [str(people["agent1"][c]) for c in ("actual", "control", "proposal")]
    assert ["assignment", "", "moved_tasks", "", "0", str(assigned["moved"]["tasks"])] in rows


def test_a_bad_assignment_proposal_names_every_field(api, dataset):  # noqa: F811
    api.token("owner"), api.token("agent1")
    before = whole_database()
    r = api.post(f"{URL}/replays", "owner", json={**WEEK, "proposal": {"assignment": {
        "strategies": {"agent": "fastest", "nowhere": "skills"}, "rosters": {"agent1": {"timezone": "UTC",
                                                                                      "shifts": [{"weekday": 1}]}},
        "dedicated_consultants": {"VIPCO": "agent2"}}}})
    assert r.status_code == 422 and r.json["code"] == "validation_failed"
    assert {e["field"] for e in r.json["errors"]} == {
        "proposal.assignment.strategies.agent", "proposal.assignment.strategies.nowhere",
        "proposal.assignment.rosters.agent1.shifts.0.start", "proposal.assignment.rosters.agent1.shifts.0.end",
        "proposal.assignment.dedicated_consultants.VIPCO"}
    r = api.post(f"{URL}/runs", "owner", json={**WEEK, "name": "x", "proposal": {"assignment": []}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "proposal.assignment"
    assert api.post(f"{URL}/replays", "agent1", json={**WEEK, "proposal": ASSIGNMENT}).status_code == 403
    assert whole_database() == before


def test_two_assignment_proposals_compared(api, dataset):  # noqa: F811
    ids = []
    for name, proposal in (("turns", ASSIGNMENT), ("recorded", {"assignment": {}})):
        r = api.post(f"{URL}/runs", "owner", json={**WEEK, "name": name, "proposal": proposal})
        assert r.status_code == 201, r.json
        ids.append(r.json["id"])
    r = api.get(f"{URL}/comparison", "owner", query_string={"first": ids[0], "second": ids[1]})
    moved = next(f for f in r.json["figures"] if f["figure"] == "assignment_moved_tasks")
    assert moved["first"] > 0 and moved["second"] == 0 and moved["difference"] == -moved["first"]
