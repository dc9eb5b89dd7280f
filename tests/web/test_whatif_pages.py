"""The what-if pages over the hand-built week: the form, a replay saved and shown side by side, one
case explained, CSV, two replays compared; bad input shown beside its field with nothing saved;
only managers, process owners and admins."""
from __future__ import annotations

from cases.whatif import runs
from tests.cases.kpis.test_kpis import dataset, teams  # noqa: F401
from tests.conftest import ROOT

WEEK = {"from": "2026-11-16", "to": "2026-11-22"}


def test_replay_a_holiday_and_read_it_side_by_side(pages, world, dataset):  # noqa: F811
    owner = pages("owner")
    form = owner.get("/whatif?calendar=default")
    assert form.status_code == 200 and 'option value="default" selected' in owner.text(form)
    r = owner.post("/whatif", {**WEEK, "name": "holiday 17th", "calendar": "default", "holidays": "2026-11-17"})
    assert r.status_code == 303, owner.text(r)
    page = owner.get(r.headers["Location"])
    html = owner.text(page)
    assert page.status_code == 200 and 'id="whatif-control" data-equal="true"' in html
    assert "71.4 %" in html and "85.7 %" in html  # first response within the SLA: control, proposal
    [saved] = runs.list_runs(world.user("owner"))
    number = runs.read_run(world.user("owner"), saved.id).result["changed"]["listed"][0]["case"]
    why = owner.get(f"/whatif/runs/{saved.id}/cases/{number}")
    assert why.status_code == 200 and "2026-11-17" in owner.text(why) and 'data-code="hours_differ"' in owner.text(why)
    csv = owner.get(f"/whatif/runs/{saved.id}/export.csv")
    assert csv.mimetype == "text/csv" and "first_response_within_sla" in csv.get_data(as_text=True)

    r = owner.post("/whatif", {**WEEK, "name": "control"})
    assert r.status_code == 303
    control = runs.list_runs(world.user("owner"))[0]
    compared = owner.get(f"/whatif/compare?first={control.id}&second={saved.id}")
    assert compared.status_code == 200 and "14.3 %" in owner.text(compared)  # 85.7 % − 71.4 %


def test_bad_input_beside_its_field_nothing_saved(pages, world, dataset):  # noqa: F811
    owner = pages("owner")
    r = owner.post("/whatif", {**WEEK, "holidays": "17 Nov"})
    assert r.status_code == 422 and 'id="err-calendar"' in owner.text(r)
    r = owner.post("/whatif", {**WEEK, "calendar": "default", "holidays": "17 Nov"})
    assert r.status_code == 422 and 'id="err-holidays"' in owner.text(r)
    r = owner.post("/whatif", {**WEEK, "proposal": "{not json"})
    assert r.status_code == 422 and 'id="err-proposal"' in owner.text(r)
    r = owner.post("/whatif", {**WEEK, "proposal": '{"policy": {"version": 42}}'})
    assert r.status_code == 422 and "proposal.policy.version" in owner.text(r)
    r = owner.post("/whatif", {"from": "2026-11-22", "to": "2026-11-16"})
    assert r.status_code == 422 and 'id="err-to"' in owner.text(r)
    assert runs.list_runs(world.user("owner")) == []


def test_who_sees_what_if(pages, world, dataset):  # noqa: F811
    assert 'href="/whatif"' in pages("owner").text(pages("owner").get("/kpis"))
    for user in ("supervisor", "agent1"):
        assert pages(user).get("/whatif").status_code == 403
    assert pages("admin").get("/whatif").status_code == 200


def test_a_draft_classification_table_replayed_from_the_page(pages, world, dataset):  # noqa: F811
    table = (ROOT / "processes" / "classify_case.dmn").read_text()
    draft = table.replace('<outputEntry id="R13_out0"><text>"general_consultation"</text></outputEntry>',
                          '<outputEntry id="R13_out0"><text>"data_problem"</text></outputEntry>')
    assert draft != table
    owner = pages("owner")
    r = owner.post("/whatif", {**WEEK, "name": "the rest are data problems", "classification": draft})
    assert r.status_code == 303, owner.text(r)
    html = owner.text(owner.get(r.headers["Location"]))
    [saved] = runs.list_runs(world.user("owner"))
    routing = runs.read_run(world.user("owner"), saved.id).result["routing"]
    assert routing["changed"]["cases"] > 0 and routing["control"]["equal"] is True
    assert 'id="whatif-routing"' in html and "Control: the table each case ran on gives back every stored proposal." in html
    examples = html.split('id="whatif-routing-examples"')[1].split("</table>")[0]
    assert examples.count("<tr><td>") == len(routing["examples"]) == routing["changed"]["cases"]
    assert "general consultation: answer at once → <strong>service order" in examples


def test_a_bad_draft_table_is_shown_beside_its_field_in_the_pages_language(pages, world, dataset):  # noqa: F811
    owner = pages("owner")
    owner.post("/language", {"lang": "zh_CN"})
    r = owner.post("/whatif", {**WEEK, "name": "broken", "classification": "<definitions"})
    html = owner.text(r)
    assert r.status_code == 422 and 'id="err-classification"' in html
    assert "&lt;definitions</textarea>" in html  # what was typed stays
    error = html.split('id="err-classification">')[1].split("</p>")[0]
    assert "line 1" in error and "XML" in error and "The file" not in error  # the problem in Chinese
    assert runs.list_runs(world.user("owner")) == []


def test_an_assignment_proposal_from_the_page_side_by_side(pages, world, dataset):  # noqa: F811
    owner = pages("owner")
    form = owner.text(owner.get("/whatif"))
    assert 'id="w-lane"' in form and 'option value="round_robin"' in form and 'id="w-assignment"' in form
    r = owner.post("/whatif", {**WEEK, "name": "agents in turn", "lane": "agent", "strategy": "round_robin"})
    assert r.status_code == 303, owner.text(r)
    html = owner.text(owner.get(r.headers["Location"]))
    [saved] = runs.list_runs(world.user("owner"))
    assigned = runs.read_run(world.user("owner"), saved.id).result["assignment"]
    assert saved.proposal == {"assignment": {"strategies": {"agent": "round_robin"}}}
    assert 'id="whatif-assignment-control" data-equal="true"' in html
    table = html.split('id="whatif-assignment-people"')[1].split("</table>")[0]
    assert "<th scope=\"col\">What happened</th><th scope=\"col\">Control (no change)</th>" \
           "<th scope=\"col\">The proposal</th>" in table
    agent1 = next(p for p in assigned["people"] if p["key"] == "agent1")
    assert f'<tr data-person="agent1"><th scope="row">agent1</th><td>{agent1["actual"]}</td>' \
           f'<td>{agent1["control"]}</td><td>{agent1["proposal"]}</td></tr>' in table
    moved = html.split('id="whatif-assignment-moved"')[1].split("</table>")[0]
    assert moved.count("<tr><td>") == len(assigned["moved"]["examples"]) == assigned["moved"]["tasks"] > 0
    assert 'id="chart-received"' in html and 'id="chart-open_hours"' in html
    assert 'data-code="assignment_today_staff"' in html

    owner.post("/language", {"lang": "zh_CN"})
    zh = owner.text(owner.get(r.headers["Location"]))
    assert 'id="whatif-assignment-people"' in zh and "Tasks received per person" not in zh


def test_a_bad_assignment_proposal_beside_its_field(pages, world, dataset):  # noqa: F811
    owner = pages("owner")
    r = owner.post("/whatif", {**WEEK, "assignment": '{"rosters": {"ghost": null}}'})
    html = owner.text(r)
    assert r.status_code == 422 and 'id="err-assignment"' in html and "proposal.assignment.rosters.ghost" in html
    r = owner.post("/whatif", {**WEEK, "lane": "agent"})
    assert r.status_code == 422 and 'id="err-assignment"' in owner.text(r)
    r = owner.post("/whatif", {**WEEK, "assignment": "[1]"})
    assert r.status_code == 422 and 'id="err-assignment"' in owner.text(r)
    assert runs.list_runs(world.user("owner")) == []


def test_two_assignment_proposals_compared_on_the_page(pages, world, dataset):  # noqa: F811
    owner = pages("owner")
    for name, strategy in (("turns", "round_robin"), ("lightest", "least_loaded")):
        assert owner.post("/whatif", {**WEEK, "name": name, "lane": "agent", "strategy": strategy}).status_code == 303
    second, first = runs.list_runs(world.user("owner"))
    html = owner.text(owner.get(f"/whatif/compare?first={first.id}&second={second.id}"))
    assert 'data-figure="assignment_moved_tasks"' in html and "Tasks that would have gone to another person" in html
