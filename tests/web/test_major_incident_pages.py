"""The major incident pages: declared from the case page, the team and updates, one resolution;
errors beside the fields with what was typed and nothing saved; customers see their cases and the
public updates only."""
from __future__ import annotations

from sqlalchemy import func, select

from cases.core.db import db
from cases.service.models import MajorIncident, MajorIncidentCase
from tests.api.test_major_incidents import at_resolve


def test_declare_from_the_case_page_work_it_and_resolve(pages, api, world):
    case = at_resolve(api, world.customers["ACME"].id, "li@acme.example", "Posting fails")
    other = at_resolve(api, world.customers["OTHER"].id, "han@other.example", "Stock posting error")
    supervisor = pages("supervisor")
    page = supervisor.text(supervisor.get(f"/cases/{case['id']}"))
    assert 'id="declare-major-incident"' in page
    form = supervisor.text(supervisor.get(f"/major-incidents/new?case={case['id']}"))
    assert 'name="team" value="consultant2"' in form
    r = supervisor.post("/major-incidents/new", {"case_id": case["id"], "title": "", "description": "All postings fail",
                                                 "priority": "urgent"})
    assert r.status_code == 422
    text = supervisor.text(r)
    assert 'id="mi-title-error"' in text and "All postings fail" in text  # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(MajorIncident)) == 0
    r = supervisor.post("/major-incidents/new", {"case_id": case["id"], "title": "Posting down",
                                                 "description": "All postings fail", "priority": "urgent",
                                                 "team": ["consultant2"]})
    assert r.status_code == 303, supervisor.text(r)
    incident = db.session.scalar(select(MajorIncident))
    url = f"/major-incidents/{incident.id}"
    consultant = pages("consultant2")
    r = consultant.post(f"{url}/cases", {"case_numbers": f"{other['number']} NO-SUCH", "version": incident.version})
    assert r.status_code == 422 and "NO-SUCH" in consultant.text(r)
    r = consultant.post(f"{url}/cases", {"case_numbers": other["number"]})
    assert r.status_code == 303
    r = consultant.post(f"{url}/updates", {"text": "Rolling back.", "public": "on"})
    assert r.status_code == 303
    assert "The update went to 2 customers, once each." in consultant.text(consultant.get(url))
    r = consultant.post(f"{url}/resolve", {"solution": "", "version": 99})
    assert r.status_code == 422 and 'id="mi-solution-error"' in consultant.text(r)
    db.session.expire_all()
    version = db.session.get(MajorIncident, incident.id).version
    r = consultant.post(f"{url}/resolve", {"cause": "A lock timeout", "solution": "Rolled back", "version": version})
    assert r.status_code == 303
    text = consultant.text(consultant.get(url))
    assert "2 of 2 linked cases were resolved" in text and 'class="outcome-resolved"' in text
    db.session.expire_all()
    assert {row.outcome for row in db.session.scalars(select(MajorIncidentCase))} == {"resolved"}
    # the customer: their case, the public update, the solution; no team, no other customer's case
    customer = pages("acme_user")
    text = customer.text(customer.get(url))
    assert case["number"] in text and other["number"] not in text
    assert "Rolling back." in text and "Rolled back" in text and "consultant2" not in text
    assert pages("vip_user").get(url).status_code == 404
    timeline = customer.text(customer.get(f"/cases/{case['id']}"))  # the case's timeline tells the customer too
    assert "Part of a major incident" in timeline and "Rolling back." in timeline
    assert "Resolved with a major incident" in timeline and "Major incident team named" not in timeline


def test_the_page_draws_a_field_a_process_owner_added_and_keeps_what_was_typed(pages, api, world, tmp_path,
                                                                                restore_active_version):
    from cases.process.deploy import deploy, read_directory
    from tests.helpers import process_files

    processes, forms = process_files(tmp_path)
    form = forms / "resolve_major_incident.schema.json"
    form.write_text(form.read_text().replace('"required": [\n    "solution"', '"required": [\n    "impact",\n    "solution"')
                    .replace('"properties": {\n', '"properties": {\n    "impact": {"title": "Impact on the customers", '
                             '"x-title-zh": "对客户的影响", "type": "string", "minLength": 1},\n', 1))
    deploy(*read_directory(processes, forms))
    case = at_resolve(api, world.customers["ACME"].id, "li@acme.example", "Posting fails")
    r = api.post("/api/v1/major-incidents", "supervisor", json={"case_id": case["id"], "title": "Posting down",
                                                                "description": "All postings fail"})
    assert r.status_code == 201, r.json
    url, version = f"/major-incidents/{r.json['id']}", r.json["version"]
    supervisor = pages("supervisor")
    page = supervisor.text(supervisor.get(url))
    assert "Impact on the customers" in page and 'name="impact"' in page and 'id="incident-process"' in page
    r = supervisor.post(f"{url}/resolve", {"solution": "Rolled back", "impact": "", "version": version})
    assert r.status_code == 422
    text = supervisor.text(r)
    assert "Rolled back" in text and 'aria-invalid="true"' in text  # the field marked, the solution kept
    assert "This field is required." in text
    assert db.session.get(MajorIncident, r_id(url)).status == "open"
    r = supervisor.post(f"{url}/resolve", {"solution": "Rolled back", "impact": "All warehouses", "version": version})
    assert r.status_code == 303, supervisor.text(r)
    db.session.expire_all()
    assert db.session.get(MajorIncident, r_id(url)).status == "resolved"


def r_id(url: str) -> int:
    return int(url.rsplit("/", 1)[1])
