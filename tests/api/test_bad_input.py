"""Bad requests: the right status, problem code and field, and nothing written to the database."""
from __future__ import annotations

import pytest

from cases.core.db import db
from cases.process.models import ProcessVersion
from tests.api.dbstate import db_snapshot
from tests.helpers import CASE_FIELDS, complete, only_task, open_case, step

PROBLEM = "application/problem+json"
CLASSIFY = {"category": "software_bug", "priority": "high"}


def refused(r, status: int, code: str, fields: set | None = None) -> dict:
    """Assert a problem response; ``fields``: the names ``errors`` must mention (a subset)."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
    assert r.mimetype == PROBLEM
    body = r.get_json(force=True)
    assert body["code"] == code and body["status"] == status, body
    assert body["type"].endswith("/" + code) and body["title"], body
    if fields is not None:
        named = {e["field"] for e in body.get("errors", [])}
        assert fields <= named, (fields, body.get("errors"))
        assert all(e["message"] for e in body["errors"]), body
    return body


@pytest.fixture
def acme(world) -> int:
    return world.customers["ACME"].id


@pytest.fixture
def classify_task(api, acme) -> dict:
    case = open_case(api, customer_id=acme)
    return only_task(api, case["id"])


@pytest.fixture
def unchanged(api):
    """Warm up the tokens (they are rows too), snapshot, and check the snapshot after the test."""
    for user in ("agent1", "agent2", "supervisor", "owner", "acme_user"):
        api.token(user)
    holder = {}

    def take():
        holder["before"] = db_snapshot()
        return holder["before"]

    yield take
    assert "before" in holder, "the test never took its snapshot"
    assert db_snapshot() == holder["before"]


def complete_url(task: dict) -> str:
    return f"/api/v1/tasks/{task['id']}/complete"


# --- malformed bodies --------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"title": ', "{'title': 'x'}", "not json", '{"a": 1,}', "\x00"])
def test_malformed_json_on_open_case(api, acme, unchanged, raw):
    unchanged()
    r = api.post("/api/v1/cases", "agent1", data=raw, content_type="application/json")
    body = refused(r, 400, "invalid_json")
    [error] = body["errors"]
    assert error["field"] is None and error["message"] == body["detail"] and error["message"]


@pytest.mark.parametrize("raw", ['{"version": 1, "data": {', "[1, 2", "data=1"])
def test_malformed_json_on_complete(api, classify_task, unchanged, raw):
    unchanged()
    r = api.post(complete_url(classify_task), "agent1", data=raw, content_type="application/json")
    refused(r, 400, "invalid_json")


@pytest.mark.parametrize("value", [[], [CASE_FIELDS], "a string", 42, True, None])
def test_json_that_is_not_an_object_on_open_case(api, acme, unchanged, value):
    unchanged()
    r = api.post("/api/v1/cases", "agent1", json=value)
    if value is None:  # a JSON null is no body at all: the required fields are missing
        refused(r, 422, "validation_failed", {"title", "channel", "description"})
    else:
        refused(r, 422, "validation_failed")


@pytest.mark.parametrize("value", [[], [{"version": 1, "data": CLASSIFY}], "x", 1])
def test_json_that_is_not_an_object_on_complete(api, classify_task, unchanged, value):
    unchanged()
    refused(api.post(complete_url(classify_task), "agent1", json=value), 422, "validation_failed")


# --- opening a case ---------------------------------------------------------------------------------

@pytest.mark.parametrize("change, fields", [
    ({"title": None}, {"title"}),
    ({"title": ""}, {"title"}),
    ({"title": "x" * 201}, {"title"}),
    ({"title": 123}, {"title"}),
    ({"title": ["a"]}, {"title"}),
    ({"channel": "fax"}, {"channel"}),
    ({"channel": 3}, {"channel"}),
    ({"description": {"text": "x"}}, {"description"}),
    ({"customer_id": "abc"}, {"customer_id"}),
    ({"customer_id": True}, {"customer_id"}),
    ({"category_hint": "broken"}, {"category_hint"}),
    ({"priority_hint": "critical"}, {"priority_hint"}),
    ({"contact_email": "not-an-email"}, {"contact_email"}),
    ({"contact_phone": "1" * 51}, {"contact_phone"}),
    ({"bogus": 1}, {"bogus"}),
    ({"channel": "fax", "priority_hint": "critical", "title": ""}, {"channel", "priority_hint", "title"}),
])
def test_open_case_with_invalid_fields(api, acme, unchanged, change, fields):
    unchanged()
    body = {**CASE_FIELDS, "customer_id": acme, **change}
    refused(api.post("/api/v1/cases", "agent1", json=body), 422, "validation_failed", fields)


@pytest.mark.parametrize("missing", ["channel", "title", "description"])
def test_open_case_without_a_required_field(api, acme, unchanged, missing):
    unchanged()
    body = {k: v for k, v in {**CASE_FIELDS, "customer_id": acme}.items() if k != missing}
    refused(api.post("/api/v1/cases", "agent1", json=body), 422, "validation_failed", {missing})


def test_open_empty_case_names_every_required_field(api, acme, unchanged):
    unchanged()
    body = refused(api.post("/api/v1/cases", "agent1", json={}), 422, "validation_failed",
                   {"channel", "title", "description"})
    assert len(body["errors"]) == 3


def test_staff_must_name_an_existing_customer(api, acme, unchanged):
    unchanged()
    refused(api.post("/api/v1/cases", "agent1", json=CASE_FIELDS), 422, "validation_failed", {"customer_id"})
    refused(api.post("/api/v1/cases", "agent1", json={**CASE_FIELDS, "customer_id": 987654}),
            422, "validation_failed", {"customer_id"})


def test_open_case_with_a_fractional_customer_id_is_refused(api, acme):
    """1.5 is not a customer id; it must not silently become customer 1."""
    before = db_snapshot()
    refused(api.post("/api/v1/cases", "agent1", json={**CASE_FIELDS, "customer_id": acme + 0.5}),
            422, "validation_failed", {"customer_id"})
    assert db_snapshot() == before


# --- completing a task ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, fields", [
    ({"category": "nonsense", "priority": "high"}, {"data.category"}),
    ({"category": "software_bug", "priority": "critical"}, {"data.priority"}),
    ({"category": "software_bug"}, {"data.priority"}),
    ({}, {"data.category", "data.priority"}),
    ({**CLASSIFY, "foo": 1}, {"data.foo"}),
    ({"category": "software_bug", "priority": 1}, {"data.priority"}),
    ({"category": ["software_bug"], "priority": "high"}, {"data.category"}),
    ({**CLASSIFY, "classification_note": 5}, {"data.classification_note"}),
    ({**CLASSIFY, "classification_note": "x" * 2001}, {"data.classification_note"}),
])
def test_complete_with_data_that_breaks_the_form(api, classify_task, unchanged, data, fields):
    unchanged()
    r = api.post(complete_url(classify_task), "agent1", json={"version": classify_task["version"], "data": data})
    refused(r, 422, "validation_failed", fields)


@pytest.mark.parametrize("body, field", [
    ({"version": 1}, "data"),
    ({"version": 1, "data": None}, "data"),
    ({"version": 1, "data": [CLASSIFY]}, "data"),
    ({"version": 1, "data": "category=software_bug"}, "data"),
    ({"version": "one", "data": CLASSIFY}, "version"),
    ({"version": 1, "data": CLASSIFY, "extra": True}, "extra"),
])
def test_complete_with_a_bad_envelope(api, classify_task, unchanged, body, field):
    unchanged()
    refused(api.post(complete_url(classify_task), "agent1", json=body), 422, "validation_failed", {field})


@pytest.mark.parametrize("if_match", ["abc", "*", '"1.5"', '"-1"', ""])
def test_complete_with_a_bad_if_match(api, classify_task, unchanged, if_match):
    unchanged()
    r = api.post(complete_url(classify_task), "agent1", headers={"If-Match": if_match}, json={"data": CLASSIFY})
    if if_match == "":  # an empty header is no header: no version at all
        refused(r, 428, "version_required")
    else:
        refused(r, 422, "validation_failed", {"If-Match"})


@pytest.mark.parametrize("owner", ["agent2", "supervisor", "acme_user", "nobody", ""])
def test_assign_owner_must_be_a_service_consultant(api, acme, unchanged, owner):
    case = open_case(api, customer_id=acme)
    step(api, case["id"], "classify")
    assign = only_task(api, case["id"])
    assert assign["element_id"] == "assign"
    unchanged()
    r = api.post(complete_url(assign), assign["assignee"],
                 json={"version": assign["version"], "data": {"owner": owner, "due_at": "2030-01-01T09:00:00Z"}})
    refused(r, 422, "validation_failed", {"data.owner"})


@pytest.mark.parametrize("due_at", ["tomorrow", "2030-13-01T09:00:00Z", 20300101, None])
def test_assign_due_at_must_be_a_date_time(api, acme, unchanged, due_at):
    case = open_case(api, customer_id=acme)
    step(api, case["id"], "classify")
    assign = only_task(api, case["id"])
    unchanged()
    r = api.post(complete_url(assign), assign["assignee"],
                 json={"version": assign["version"], "data": {"owner": "consultant1", "due_at": due_at}})
    refused(r, 422, "validation_failed", {"data.due_at"})


def test_inactive_consultant_cannot_become_owner(api, acme, world, unchanged):
    case = open_case(api, customer_id=acme)
    step(api, case["id"], "classify")
    assign = only_task(api, case["id"])
    world.user("consultant2").active = False
    db.session.commit()
    unchanged()
    r = api.post(complete_url(assign), assign["assignee"],
                 json={"version": assign["version"], "data": {"owner": "consultant2", "due_at": "2030-01-01T09:00:00Z"}})
    refused(r, 422, "validation_failed", {"data.owner"})


def test_conditional_requirements_of_the_resolve_form(api, acme, unchanged):
    case = open_case(api, customer_id=acme)
    step(api, case["id"], "classify")
    step(api, case["id"], "assign")
    resolve = only_task(api, case["id"])
    unchanged()
    url = complete_url(resolve)
    service = {"contact_made": True, "service_mode": "remote", "actions": "called", "time_spent_minutes": 5}
    for data, fields in (({"analysis": "a", "outcome": "resolved", **service}, {"data.solution"}),
                         ({"analysis": "a", "outcome": "need_info"}, {"data.question"}),
                         ({"analysis": "", "outcome": "resolved", "solution": "s", **service}, {"data.analysis"}),
                         ({"analysis": "a", "outcome": "done", "solution": "s"}, {"data.outcome"}),
                         # resolved: the service form is filled in
                         ({"analysis": "a", "outcome": "resolved", "solution": "s"},
                          {"data.contact_made", "data.service_mode", "data.actions", "data.time_spent_minutes"}),
                         # on site: with the appointment window
                         ({"analysis": "a", "outcome": "resolved", "solution": "s", **service, "service_mode": "on_site"},
                          {"data.appointment_start", "data.appointment_end"}),
                         ({"analysis": "a", "outcome": "resolved", "solution": "s", **service, "time_spent_minutes": -1,
                           "appointment_start": "tomorrow"}, {"data.time_spent_minutes", "data.appointment_start"})):
        r = api.post(url, "consultant1", json={"version": resolve["version"], "data": data})
        refused(r, 422, "validation_failed", fields)


# --- things that are not there, or no longer open ---------------------------------------------------------

def test_unknown_task_and_case(api, world, unchanged):
    unchanged()
    for action, body in (("claim", {"version": 1}), ("release", {"version": 1}),
                         ("complete", {"version": 1, "data": CLASSIFY})):
        r = api.post(f"/api/v1/tasks/no-such-task/{action}", "agent1", json=body)
        assert refused(r, 404, "not_found")["resource"] == "task"
    assert refused(api.get("/api/v1/tasks/no-such-task", "agent1"), 404, "not_found")["id"] == "no-such-task"
    assert refused(api.get("/api/v1/cases/987654", "agent1"), 404, "not_found")["resource"] == "case"
    r = api.post("/api/v1/cases/987654/messages/customer_reply", "agent1", json={"payload": {}})
    refused(r, 404, "not_found")
    refused(api.get("/api/v1/cases/not-a-number", "agent1"), 404, "not_found")


def test_completing_an_already_completed_task(api, classify_task, unchanged):
    done = complete(api, classify_task, "agent1", CLASSIFY)
    assert done["state"] == "completed"
    unchanged()
    url = complete_url(classify_task)
    # with the version seen before completing: stale
    r = api.post(url, "agent1", json={"version": classify_task["version"], "data": CLASSIFY})
    assert refused(r, 409, "stale_version")["current_version"] == done["version"]
    # with the current version: the task is not open any more
    r = api.post(url, "agent1", json={"version": done["version"], "data": CLASSIFY})
    assert refused(r, 409, "task_not_open")["state"] == "completed"
    for action in ("claim", "release"):
        r = api.post(f"/api/v1/tasks/{classify_task['id']}/{action}", "agent1", json={"version": done["version"]})
        refused(r, 409, "task_not_open")


def test_message_to_a_case_that_is_not_waiting(api, acme, unchanged):
    case = open_case(api, customer_id=acme)
    unchanged()
    r = api.post(f"/api/v1/cases/{case['id']}/messages/customer_reply", "agent1", json={"payload": {"text": "hi"}})
    refused(r, 409, "not_waiting")
    r = api.post(f"/api/v1/cases/{case['id']}/messages/customer_reply", "acme_user", json={"payload": {}})
    refused(r, 409, "not_waiting")


def test_bad_message_name_and_payload(api, acme, unchanged):
    case = open_case(api, customer_id=acme)
    unchanged()
    url = f"/api/v1/cases/{case['id']}/messages"
    refused(api.post(f"{url}/1bad", "agent1", json={}), 422, "validation_failed", {"name"})
    refused(api.post(f"{url}/{'x' * 101}", "agent1", json={}), 422, "validation_failed", {"name"})
    refused(api.post(f"{url}/customer_reply", "agent1", json={"payload": [1]}), 422, "validation_failed",
            {"payload"})
    refused(api.post(f"{url}/customer_reply", "agent1", json={"payload": "text"}), 422, "validation_failed",
            {"payload"})


# --- query parameters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/tasks", "/api/v1/cases"])
@pytest.mark.parametrize("params, fields", [
    ({"page": 0}, {"query.page"}),
    ({"page": -1}, {"query.page"}),
    ({"page": "abc"}, {"query.page"}),
    ({"per_page": 0}, {"query.per_page"}),
    ({"per_page": 1000}, {"query.per_page"}),
    ({"per_page": "many"}, {"query.per_page"}),
    ({"page": "abc", "per_page": 1000}, {"query.page", "query.per_page"}),
    ({"priority": "critical"}, {"query.priority"}),
    ({"category": "nope"}, {"query.category"}),
])
def test_bad_list_parameters(api, world, unchanged, url, params, fields):
    unchanged()
    refused(api.get(url, "agent1", query_string=params), 422, "validation_failed", fields)


@pytest.mark.parametrize("params, fields", [
    ({"scope": "everything"}, {"query.scope"}),
    ({"state": "done"}, {"query.state"}),
    ({"case_id": "x"}, {"query.case_id"}),
])
def test_bad_inbox_parameters(api, world, unchanged, params, fields):
    unchanged()
    refused(api.get("/api/v1/tasks", "agent1", query_string=params), 422, "validation_failed", fields)


def test_unknown_user_in_a_filter_names_that_filter(api, world, unchanged):
    unchanged()
    body = refused(api.get("/api/v1/tasks", "agent1", query_string={"assignee": "ghost"}), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] in (["assignee"], ["query.assignee"])
    body = refused(api.get("/api/v1/cases", "agent1", query_string={"owner": "ghost"}), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] in (["owner"], ["query.owner"]), body["errors"]


# --- roles ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["owner", "bizmanager", "techlead", "complaints"])
def test_roles_without_the_front_line_cannot_open_cases(api, acme, unchanged, user):
    unchanged()
    body = refused(api.post("/api/v1/cases", user, json={**CASE_FIELDS, "customer_id": acme}), 403, "role_not_allowed")
    assert "agent" in body["title"]


@pytest.mark.parametrize("user", ["agent1", "consultant1", "bizmanager", "acme_user"])
def test_process_versions_are_not_for_everyone(api, world, unchanged, user):
    unchanged()
    body = refused(api.get("/api/v1/process-versions", user), 403, "role_not_allowed")
    assert "process_owner" in body["required_roles"]


@pytest.mark.parametrize("user", ["owner", "admin", "supervisor"])
def test_process_versions_for_owner_admin_and_supervisor(api, world, user):
    r = api.get("/api/v1/process-versions", user)
    assert r.status_code == 200, r.json
    # the test setup deploys one version; other test modules may deploy more in the same session
    deployed = db.session.execute(db.select(ProcessVersion.content_hash, ProcessVersion.activated_at)).all()
    assert len(r.json) == len(deployed) >= 1
    assert sorted(v["content_hash"] for v in r.json) == sorted(h for h, _ in deployed)
    newest = max(deployed, key=lambda row: row.activated_at).content_hash
    active = r.json[0]
    assert active["content_hash"] == newest  # the active one first
    assert "support_case" in active["process_ids"]
    assert set(active) == {"id", "content_hash", "process_ids", "forms", "serializer_version", "created_at",
                           "activated_at", "change_note"}
    assert all(form.endswith(".json") for form in active["forms"])


# --- never a 500 ----------------------------------------------------------------------------------------

BIG = 10**20
DEEP = "[" * 50_000 + "]" * 50_000


def _json(raw: str) -> dict:
    return {"data": raw, "content_type": "application/json"}


#: Garbage that fits neither endpoint.
RAW_GARBAGE = {
    "no body": {},
    "empty json body": _json(""),
    "text/plain": {"data": "hello there", "content_type": "text/plain"},
    "form encoded": {"data": {"title": "x", "channel": "web", "version": "1"}},
    "binary": {"data": b"\x00\xff\xfe\x89PNG", "content_type": "application/octet-stream"},
    "invalid utf-8 json": {"data": b'{"title": "\xff\xfe"}', "content_type": "application/json"},
    "json null": _json("null"),
    "json huge number": _json("1e400"),
    "deeply nested json": _json(DEEP),
}


def case_garbage(acme: int) -> dict:
    good = {**CASE_FIELDS, "customer_id": acme}
    return {
        **RAW_GARBAGE,
        "NaN customer": _json('{"channel": "web", "title": "t", "description": "d", "customer_id": NaN}'),
        "huge title": {"json": {**good, "title": "x" * 100_000}},
        "huge description": {"json": {**good, "description": "y" * 1_000_000}},
        "unicode": {"json": {**good, "title": "报表 🚀 עִבְרִית Ω\u200b\u202e", "contact_name": "Zoë ☃"}},
        "null values": {"json": dict.fromkeys(good)},
        "nested values": {"json": {k: {"a": [1, {"b": None}]} for k in good}},
        "NUL character": {"json": {**good, "title": "nul\u0000here"}},
        "lone surrogate": _json('{"channel": "web", "title": "\\ud800", "description": "d", "customer_id": %d}'
                                % acme),
        "integer beyond 64 bits": {"json": {**good, "customer_id": BIG}},
        "integer beyond 32 bits": {"json": {**good, "customer_id": 2**31}},
        "deeply nested value": _json('{"channel": "web", "title": "t", "description": %s}' % DEEP),
    }


def complete_garbage(version: int) -> dict:
    return {
        **RAW_GARBAGE,
        "NaN values": _json('{"version": %d, "data": {"category": NaN, "priority": "high"}}' % version),
        "NaN version": _json('{"version": NaN, "data": {}}'),
        "huge note": {"json": {"version": version, "data": {**CLASSIFY, "classification_note": "x" * 1_000_000}}},
        "unicode": {"json": {"version": version, "data": {"category": "软件", "priority": "🔥"}}},
        "unicode note": {"json": {"version": version, "data": {**CLASSIFY, "classification_note": "报表 🚀 Ω"}}},
        "null values": {"json": {"version": None, "data": None}},
        "null in data": {"json": {"version": version, "data": {"category": None, "priority": None}}},
        "nested values": {"json": {"version": version, "data": {"category": {"a": [1]}, "priority": [[]]}}},
        "NUL character": {"json": {"version": version, "data": {**CLASSIFY, "classification_note": "nul\u0000"}}},
        "lone surrogate": _json('{"version": %d, "data": {"category": "software_bug", "priority": "high",'
                                ' "classification_note": "\\udfff"}}' % version),
        "integer beyond 64 bits": {"json": {"version": BIG, "data": CLASSIFY}},
        "deeply nested value": _json('{"version": %d, "data": {"category": %s}}' % (version, DEEP)),
    }


@pytest.fixture
def report_500s(app, monkeypatch):
    """Let a crash show as the 500 a client would get instead of an exception in the test."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


@pytest.mark.parametrize("kind", list(case_garbage(0)))
def test_garbage_to_open_case_is_never_a_500(api, acme, report_500s, kind):
    r = api.post("/api/v1/cases", "agent1", **case_garbage(acme)[kind])
    assert r.status_code < 500, (kind, r.status_code, r.get_data(as_text=True)[:300])
    if r.status_code >= 400:
        assert r.mimetype == PROBLEM
    if kind in ("huge title", "null values", "nested values"):
        assert r.status_code == 422
    if kind == "NaN customer":  # NaN is not JSON
        assert r.status_code == 400 and r.json["code"] == "invalid_json"


@pytest.mark.parametrize("kind", list(complete_garbage(0)))
def test_garbage_to_complete_is_never_a_500(api, classify_task, report_500s, kind):
    r = api.post(complete_url(classify_task), "agent1", **complete_garbage(classify_task["version"])[kind])
    assert r.status_code < 500, (kind, r.status_code, r.get_data(as_text=True)[:300])
    if r.status_code >= 400:
        assert r.mimetype == PROBLEM
    if kind in ("huge note", "unicode", "null values", "null in data", "nested values"):
        assert r.status_code == 422


@pytest.mark.parametrize("method, url", [
    ("GET", f"/api/v1/cases/{BIG}"),
    ("GET", f"/api/v1/cases/{2**31}"),
    ("POST", f"/api/v1/cases/{BIG}/messages/customer_reply"),
    ("GET", f"/api/v1/tasks?case_id={BIG}"),
    ("GET", f"/api/v1/tasks?customer_id={2**31}"),
    ("GET", f"/api/v1/tasks?page={BIG}"),
    ("GET", f"/api/v1/cases?page={2**62}"),
    ("GET", "/api/v1/tasks/nul%00id"),
    ("GET", "/api/v1/tasks?element_id=nul%00id"),
    ("GET", "/api/v1/cases?q=nul%00q"),
    ("GET", "/api/v1/tasks/" + "x" * 1000),
])
def test_odd_urls_are_never_a_500(api, world, report_500s, method, url):
    r = api.request(method, url, "agent1", json={"payload": {}} if method == "POST" else None)
    assert r.status_code < 500, (url[:80], r.status_code, r.get_data(as_text=True)[:300])


def test_nul_in_the_user_name_of_a_login_is_not_a_500(api, world, report_500s):
    r = api.post("/api/v1/auth/token", json={"username": "agent1\u0000", "password": "x"})
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.json["code"] == "invalid_json" and "NUL" in r.json["detail"]
