"""The what-if pages over the hand-built week: the form, a replay saved and shown side by side, one
case explained, CSV, two replays compared; bad input shown beside its field with nothing saved;
only managers, process owners and admins."""
from __future__ import annotations

from cases.whatif import runs
from tests.cases.kpis.test_kpis import dataset, teams  # noqa: F401

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
