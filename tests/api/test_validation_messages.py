"""Validation through the API: every problem at once with file, element, line and wording class, in
the request's language; structural checks on diagrams with removed flows."""
from __future__ import annotations

import io
import json
import re

from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def _validate(api, files: dict[str, bytes], merge=True, headers=None):
    return api.post(f"/api/v1/process-versions/validate?merge={'true' if merge else 'false'}", "owner",
                    data={"files": [(io.BytesIO(c), n) for n, c in files.items()]},
                    content_type="multipart/form-data", headers=headers or {})


def test_foreign_files_get_every_problem_with_file_element_and_line(api, world):
    names = ["camunda_java_class.bpmn", "data_store_reference.bpmn", "gateway_without_default.bpmn",
             "timer_unquoted_duration.bpmn", "dmn_feel_list.dmn", "link_events.bpmn"]
    r = _validate(api, {n: (CORPUS / n).read_bytes() for n in names})
    assert r.status_code == 200 and r.json["valid"] is False
    got = {(e["file"], e["element"], e["line"], e["code"]) for e in r.json["errors"]}
    for name in names:
        for expected in EXPECTED[name]:
            assert (name, expected["element"], expected["line"], expected["code"]) in got, (name, expected)
    assert all(e["file"] and e["element"] and e["line"] for e in r.json["errors"])


def test_the_sentences_come_in_the_requests_language(api, world):
    files = {"data_store_reference.bpmn": (CORPUS / "data_store_reference.bpmn").read_bytes()}
    english = _validate(api, files).json["errors"]
    chinese = _validate(api, files, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json["errors"]
    assert [e["element"] for e in english] == [e["element"] for e in chinese] == ["ds_ref"]
    assert english[0]["message"].startswith("caseflow does not support data stores here;")
    assert chinese[0]["message"].startswith("caseflow 不支持此处的数据存储")


def test_deleting_the_flow_out_of_classify_is_refused(api, world):
    text = (ROOT / "processes" / "support_case.bpmn").read_text()
    flow = re.search(r'<bpmn:sequenceFlow id="([^"]+)" sourceRef="classify" targetRef="[^"]+" */>', text)
    assert flow, "the flow out of classify"
    broken = text.replace(flow.group(0), "").replace(f"<bpmn:outgoing>{flow.group(1)}</bpmn:outgoing>", "")
    r = _validate(api, {"support_case.bpmn": broken.encode()})
    assert r.status_code == 200 and r.json["valid"] is False
    codes = {(e["code"], e["element"]) for e in r.json["errors"]}
    assert ("dead_end", "classify") in codes
    unreachable = {e["element"] for e in r.json["errors"] if e["code"] == "unreachable"}
    assert "route_by_category" in unreachable or len(unreachable) >= 1
    assert all(e["file"] == "support_case.bpmn" and e["line"] for e in r.json["errors"])
    deployed = api.post("/api/v1/process-versions?merge=true", "owner", content_type="multipart/form-data",
                        data={"files": [(io.BytesIO(broken.encode()), "support_case.bpmn")],
                              "change_note": "Classify leads nowhere"})
    assert deployed.status_code == 422 and deployed.json["errors"] == r.json["errors"]


def test_a_set_without_an_executable_process_is_refused(api, world):
    only = {"not_executable.bpmn": (CORPUS / "not_executable.bpmn").read_bytes()}
    r = _validate(api, only, merge=False)
    assert r.json["valid"] is False
    assert {e["code"] for e in r.json["errors"]} == {"not_executable", "no_executable_process"}
