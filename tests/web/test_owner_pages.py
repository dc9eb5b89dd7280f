"""The process owner's pages through Flask's test client: versions and files, the modeller's
validate and deploy calls, deploying uploaded files, moving running cases."""
from __future__ import annotations

import io
import re
import uuid

from sqlalchemy import func, select

from cases.core.db import db
from cases.process.deploy import active_version
from cases.process.models import ProcessInstance, ProcessVersion
from tests.conftest import ROOT
from tests.helpers import deploy_variant, open_case, step, without_assign

BPMN = (ROOT / "processes" / "support_case.bpmn").read_text(encoding="utf-8")
EDITOR = "/owner/editor/support_case.bpmn"


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(ProcessVersion.id)))


def test_only_process_owners_and_admins_see_the_pages(pages):
    owner = pages("owner")
    page = owner.text(owner.get("/owner/processes"))
    active = active_version()
    assert f'<tr data-version-id="{active.id}">' in page and "badge-active" in page
    assert f'href="{EDITOR}"' in page
    assert pages("admin").get("/owner/processes").status_code == 200
    for user in ("supervisor", "agent1", "acme_user"):
        assert pages(user).get("/owner/processes").status_code == 403
        assert pages(user).get(EDITOR).status_code == 403


def test_a_version_and_its_files(pages):
    owner = pages("owner")
    active = active_version()
    page = owner.text(owner.get(f"/owner/versions/{active.id}"))
    assert "support_case.bpmn" in page and "classify.schema.json" in page and "data-bpmn-viewer" in page
    bpmn = owner.get(f"/owner/versions/{active.id}/files/support_case.bpmn")
    assert bpmn.mimetype == "application/xml" and bpmn.get_data(as_text=True) == active.files["support_case.bpmn"]
    assert bpmn.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"  # scripts in XML never run
    form = owner.get(f"/owner/versions/{active.id}/files/forms/classify.schema.json")
    assert form.mimetype == "application/json" and form.get_json()["type"] == "object"
    assert owner.get(f"/owner/versions/{active.id}/files/nope.bpmn").status_code == 404
    assert owner.get("/owner/versions/999999").status_code == 404
    assert owner.get("/owner/editor/classify_case.dmn").status_code == 404  # the modeller edits BPMN


def test_the_editor_page_carries_the_active_diagram(pages):
    page = pages("owner").text(pages("owner").get(EDITOR))
    assert 'id="diagram-xml"' in page and "dist/modeller.js" in page and "owner_editor.js" in page
    assert "support_case_collaboration" in page


def test_validate_answers_every_problem_with_file_element_and_line(pages):
    owner = pages("owner")
    owner.get(EDITOR)
    assert owner.post(f"{EDITOR}/validate", {"bpmn": BPMN}).get_json() == {"valid": True, "errors": []}
    broken = BPMN.replace('<spiffworkflow:property name="assignment" value="pool" />',
                          '<spiffworkflow:property name="assignment" value="by_magic" />', 1)
    answer = owner.post(f"{EDITOR}/validate", {"bpmn": broken}).get_json()
    assert answer["valid"] is False
    assert [(e["file"], e["element"]) for e in answer["errors"]] == [("support_case.bpmn", "classify")]
    assert answer["errors"][0]["line"] > 100 and "by_magic" in answer["errors"][0]["message"]
    malformed = owner.post(f"{EDITOR}/validate", {"bpmn": "<bpmn:definitions"}).get_json()
    assert malformed["errors"][0]["file"] == "support_case.bpmn" and "well-formed XML" in malformed["errors"][0]["message"]
    empty = owner.post(f"{EDITOR}/validate", {"bpmn": "  "})
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["message"] == "The diagram is empty."
    assert owner.post(f"{EDITOR}/validate", {"bpmn": BPMN}, csrf=False).status_code == 403


def test_deploy_refuses_a_bad_diagram_and_deploys_a_good_one(pages, restore_active_version):
    owner = pages("owner")
    owner.get(EDITOR)
    before, old = _count(), active_version().id
    bad = BPMN.replace('name="agent"', 'name="helpdesk"', 1)
    refused = owner.post(f"{EDITOR}/deploy", {"bpmn": bad, "change_note": "helpdesk lane"})
    assert refused.status_code == 422
    assert any("Lane 'helpdesk' is not a role" in e["message"] for e in refused.get_json()["errors"])
    assert _count() == before and active_version().id == old

    name = f"Classify the case {uuid.uuid4().hex[:8]}"  # content no other test deployed
    renamed = BPMN.replace('id="classify" name="Classify"', f'id="classify" name="{name}"')
    done = owner.post(f"{EDITOR}/deploy", {"bpmn": renamed, "change_note": "Classify renamed"})
    assert done.status_code == 201, done.get_json()
    version = done.get_json()["version"]
    assert done.get_json() == {"version": version, "created": True, "url": f"/owner/versions/{version}"}
    assert _count() == before + 1 and active_version().id == version
    assert name in active_version().files["support_case.bpmn"]
    page = owner.text(owner.get(f"/owner/versions/{version}"))
    assert f"Version {version} is deployed and active" in page
    # the same content again re-activates that version
    again = owner.post(f"{EDITOR}/deploy", {"bpmn": renamed, "change_note": "Classify renamed"})
    assert again.status_code == 200 and again.get_json()["created"] is False and _count() == before + 1


def test_deploying_uploaded_files(pages, restore_active_version):
    owner = pages("owner")
    owner.get("/owner/processes")
    before = _count()
    wrong = owner.post("/owner/deploy", {"merge": "true", "change_note": "A test change", "files": (io.BytesIO(b"x"), "notes.txt")},
                       content_type="multipart/form-data")
    assert wrong.status_code == 422 and "notes.txt is not a process or form file: upload .bpmn, .dmn and .json (form) files." in owner.text(wrong)
    bad = owner.post("/owner/deploy", {"merge": "true", "change_note": "A test change", "files": (io.BytesIO(b"<bpmn"), "support_case.bpmn")},
                     content_type="multipart/form-data")
    assert bad.status_code == 422 and "well-formed XML" in owner.text(bad) and _count() == before
    changed = BPMN.replace('name="Classify"', f'name="Classify {uuid.uuid4().hex[:8]}"', 1).encode()
    done = owner.post("/owner/deploy", {"merge": "true", "change_note": "A test change", "files": (io.BytesIO(changed), "support_case.bpmn")},
                      content_type="multipart/form-data")
    assert done.status_code == 303 and done.headers["Location"] == f"/owner/versions/{active_version().id}"
    assert _count() == before + 1


def _version_of(case_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.case_id == case_id))


def test_dry_run_migrate_and_revert_as_forms(api, world, pages, tmp_path, restore_active_version):
    acme = world.customers["ACME"].id
    at_classify = open_case(api, customer_id=acme)
    at_assign = open_case(api, customer_id=acme)
    step(api, at_assign["id"], "classify")
    source = active_version().id
    target = deploy_variant(tmp_path, without_assign, "noassign").id
    owner = pages("owner")
    form = owner.text(owner.get("/owner/migrations"))
    assert f'<option value="{source}" selected>' in form and f'<option value="{target}" selected>' in form

    dry = owner.text(owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": target}))
    assert "1 of 2 running case(s) can move. Nothing was changed." in dry
    blocked = re.search(rf'<tr data-case-id="{at_assign["id"]}">(.*?)</tr>', dry, re.S).group(1)
    assert "badge-no" in blocked and "&#39;assign&#39; does not exist" in blocked
    assert "badge-yes" in re.search(rf'<tr data-case-id="{at_classify["id"]}">(.*?)</tr>', dry, re.S).group(1)
    assert _version_of(at_assign["id"]) == source

    assert 'name="expected_moves" value="2"' in dry and "Move 1 case(s) to version" in dry
    unconfirmed = owner.post("/owner/migrations/migrate", {"from_version": source, "to_version": target,
                                                           "expected_moves": 2})
    assert unconfirmed.status_code == 422 and _version_of(at_classify["id"]) == source
    stale = owner.post("/owner/migrations/migrate", {"from_version": source, "to_version": target,
                                                     "expected_moves": 5, "confirmed": "yes"})
    assert stale.status_code == 409 and "2 running case(s) would be moved, not 5" in owner.text(stale)
    assert _version_of(at_classify["id"]) == source
    moved = owner.text(owner.post("/owner/migrations/migrate", {"from_version": source, "to_version": target,
                                                                "expected_moves": 2, "confirmed": "yes"}))
    assert "1 case(s) moved, 1 stayed." in moved
    assert _version_of(at_classify["id"]) == target and _version_of(at_assign["id"]) == source
    batch = re.search(r'<code id="batch">([^<]+)</code>', moved).group(1)
    assert "&#39;assign&#39; does not exist" in re.search(r'<table class="list" id="skipped">(.*?)</table>',
                                                          moved, re.S).group(1)

    back = owner.text(owner.post(f"/owner/migrations/{batch}/revert"))
    assert "1 case(s) moved back, 0 stayed." in back and _version_of(at_classify["id"]) == source

    same = owner.post("/owner/migrations/dry-run", {"from_version": source, "to_version": source})
    assert same.status_code == 422 and "Choose another version than the one the cases are on." in owner.text(same)
    missing = owner.post("/owner/migrations/migrate", {"from_version": "", "to_version": target,
                                                       "expected_moves": 1, "confirmed": "yes"})
    assert missing.status_code == 422 and "From version: Choose a version." in owner.text(missing)


DMN = (ROOT / "processes" / "classify_case.dmn").read_text(encoding="utf-8")
DMN_EDITOR = "/owner/decisions/classify_case.dmn"


def test_the_decision_table_editor_checks_and_deploys_like_an_upload(pages, restore_active_version):
    owner = pages("owner")
    page = owner.text(owner.get(DMN_EDITOR))
    assert 'id="dmn-editor"' in page and "dist/dmn_editor.js" in page and "classify_case_table" in page
    assert "<script>" not in page  # the XML is data for the page's own script, not a script
    active = active_version()
    assert f'href="{DMN_EDITOR}"' in owner.text(owner.get(f"/owner/versions/{active.id}"))
    assert owner.get("/owner/decisions/nope.dmn").status_code == 404
    assert owner.get("/owner/decisions/support_case.bpmn").status_code == 404
    assert pages("agent1").get(DMN_EDITOR).status_code == 403

    bad = DMN.replace('<text>"vip"</text>', '<text>"vip" ==</text>', 1)
    answer = owner.post(f"{DMN_EDITOR}/validate", {"dmn": bad}).get_json()
    assert answer["valid"] is False
    assert [(e["file"], e["element"]) for e in answer["errors"]] == [("classify_case.dmn", "R03_in2")]
    refused = owner.post(f"{DMN_EDITOR}/deploy", {"dmn": bad, "change_note": "broken"})
    assert refused.status_code == 422 and _count() == _count()
    empty = owner.post(f"{DMN_EDITOR}/validate", {"dmn": " "})
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["message"] == "The decision table is empty."
    before = _count()
    no_note = owner.post(f"{DMN_EDITOR}/deploy", {"dmn": DMN.replace('"vip"', '"VIP"', 1)})
    assert no_note.status_code == 422 and _count() == before
    good = owner.post(f"{DMN_EDITOR}/deploy", {"dmn": DMN.replace('<text>"vip"</text>', '<text>in ("vip", "gold")</text>', 1),
                                               "change_note": "gold customers too"})
    assert good.status_code == 201 and _count() == before + 1
    assert 'in ("vip", "gold")' in active_version().files["classify_case.dmn"]
    assert active_version().change_note == "gold customers too"
