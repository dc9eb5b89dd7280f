"""A file with no process never changes another file's lanes.

SpiffWorkflow 3.2 keys each document's lane index by ``id()`` of its XML root; a process-less
document was freed during the parse and the next document, allocated at the same address, was given
its lanes (engine/specs.py ``_Parser`` keeps every root alive). Every task's lane is checked against
the lanes drawn in the files, many times over, with the process-less file in every position."""
from __future__ import annotations

import io

import pytest
from lxml import etree

from cases.core.db import db
from cases.process.models import ProcessVersion
from engine.serialization import StateSerializer
from engine.specs import parse_files, user_task_infos
from tests.conftest import ROOT

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
REAL = {p.name: p.read_bytes() for p in (ROOT / "processes").iterdir() if p.suffix in (".bpmn", ".dmn")}
FORMS = {p.name: p.read_bytes() for p in (ROOT / "forms").iterdir()}

#: a message whose extension elements hold a lane naming a real task (the observed upload)
LANE_IN_EXTENSION = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:x="urn:x" id="notes" targetNamespace="x">
  <bpmn:message id="note" name="note"><bpmn:extensionElements><x:lane name="agent">
    <bpmn:flowNodeRef>contact_requester</bpmn:flowNodeRef><bpmn:flowNodeRef>classify</bpmn:flowNodeRef>
  </x:lane></bpmn:extensionElements></bpmn:message>
</bpmn:definitions>'''
#: an empty message-only file (its lane index is empty: the next document lost all its lanes)
MESSAGE_ONLY = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="msgs" targetNamespace="x">
  <bpmn:message id="ping" name="ping" />
</bpmn:definitions>'''
#: names that sort just before each real file, and after all of them
NAMES = ("a.bpmn", "classify.bpmn", "complaint.bpmn", "customer.bpmn", "req.bpmn", "support.bpmn", "zz.bpmn")


def _drawn_lanes() -> dict[str, str]:
    """element id -> the lane it is drawn in, for every user and manual task of the real files."""
    lanes = {}
    for name, content in REAL.items():
        if not name.endswith(".bpmn"):
            continue
        root = etree.fromstring(content)
        tasks = {t.get("id") for tag in ("userTask", "manualTask") for t in root.iter(f"{{{BPMN}}}{tag}")}
        for lane in root.iter(f"{{{BPMN}}}lane"):
            for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
                if ref.text in tasks:
                    lanes[ref.text] = lane.get("name")
    return lanes


EXPECTED = _drawn_lanes()


def _lanes(specs: dict) -> dict[str, str]:
    return {task.element_id: task.lane for task in user_task_infos(specs)}


def test_the_real_files_put_every_task_in_its_drawn_lane():
    assert len(EXPECTED) > 20 and EXPECTED["contact_requester"] == "business_manager"
    specs, problems = parse_files(REAL)
    assert problems == [] and _lanes(specs) == EXPECTED


@pytest.mark.parametrize("extra", [LANE_IN_EXTENSION, MESSAGE_ONLY], ids=["lane-in-extension", "message-only"])
def test_a_process_less_file_in_any_position_changes_no_lane(extra):
    for _round in range(10):
        for name in NAMES:
            specs, problems = parse_files({**REAL, name: extra})
            assert problems == [], (name, problems)
            assert _lanes(specs) == EXPECTED, name


def _upload(api, url, files):
    return api.post(url, "owner", data={"files": [(io.BytesIO(c), n) for n, c in files.items()],
                                        "change_note": "A process-less file beside the real ones"},
                    content_type="multipart/form-data")


def test_validate_and_deploy_agree_and_keep_every_lane(api, world, restore_active_version):
    files = {**REAL, **FORMS, "req.bpmn": LANE_IN_EXTENSION}
    for _round in range(10):
        r = _upload(api, "/api/v1/process-versions/validate", files)
        assert r.status_code == 200 and r.json == {"valid": True, "errors": []}
    for extra in (LANE_IN_EXTENSION, MESSAGE_ONLY):
        r = _upload(api, "/api/v1/process-versions", {**REAL, **FORMS, "req.bpmn": extra})
        assert r.status_code == 201, r.json
        version = db.session.get(ProcessVersion, r.json["id"])
        assert _lanes(StateSerializer().load_specs(version.spec_json)) == EXPECTED
