"""Every error body validates against the published ``Problem`` schema; weak ETags cannot guard a
write; a rejected value is echoed cut short, never whole."""
from __future__ import annotations

import jsonschema
import pytest
from flask import Flask

from gateway.problems import MAX_ECHO, problem
from tests.helpers import CASE_FIELDS, only_task, worker_for


@pytest.fixture
def problem_schema(api):
    document = api.client.get("/api/openapi.json").json
    return {"$ref": "#/components/schemas/Problem", "components": document["components"]}


def _valid(schema: dict, body: dict) -> dict:
    jsonschema.validate(body, schema)
    return body


def test_the_published_schema_forbids_unknown_fields_and_the_bodies_keep_to_it(api, world, problem_schema):
    assert problem_schema["components"]["schemas"]["Problem"].get("additionalProperties") is False
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"code": "x", "surprise": 1}, problem_schema)  # the check itself bites
    bodies = [
        api.get("/api/v1/cases/999999", "agent1").json,  # not_found: resource, id
        api.post("/api/v1/cases", "agent1", json={"channel": "pigeon"}).json,  # validation_failed: errors
        api.get("/api/v1/cases", None).json,  # unauthenticated
        api.post("/api/v1/users", "agent1", json={}).json,  # role_not_allowed: required_roles
    ]
    case = api.post("/api/v1/cases", "agent1", json={**CASE_FIELDS, "customer_id": world.customers["ACME"].id}).json
    bodies.append(api.post(f"/api/v1/cases/{case['id']}/messages/customer_reply", "agent1",
                           json={"payload": {"text": "hi"}}).json)  # not_waiting: message_name
    for body in bodies:
        assert body["status"] >= 400 and _valid(problem_schema, body)


def test_a_field_the_schema_does_not_name_goes_under_details(app, problem_schema):
    with Flask(__name__).test_request_context():
        body = problem(409, "odd", "Odd", surprise="x", stage="closed").get_json()
    assert body["stage"] == "closed" and body["details"] == {"surprise": "x"} and "surprise" not in body
    _valid(problem_schema, body)


def _task(api, world):
    case = api.post("/api/v1/cases", "agent1", json={**CASE_FIELDS, "customer_id": world.customers["ACME"].id}).json
    return {**only_task(api, case["id"]), "case": case["id"]}


def test_a_weak_etag_cannot_guard_a_write(api, world, problem_schema):
    task = _task(api, world)
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", worker_for(task),
                 json={"data": {"category": "data_problem", "priority": "high"}},
                 headers={"If-Match": f'W/"{task["version"]}"'})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "If-Match"
    _valid(problem_schema, r.json)
    assert only_task(api, task["case"])["id"] == task["id"]  # still open: nothing was done


def test_a_huge_rejected_value_is_echoed_cut_short(api, world, problem_schema):
    task = _task(api, world)
    huge = "x" * 900_000
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", worker_for(task),
                 json={"data": {"category": huge, "priority": "high"}}, headers={"If-Match": f'"{task["version"]}"'})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "data.category"
    assert len(r.get_data()) < 4 * MAX_ECHO and huge not in r.get_data(as_text=True)
    assert r.json["errors"][0]["message"].endswith("…")
    _valid(problem_schema, r.json)


def _nullable(node):
    """OpenAPI 3.0's ``nullable: true`` in JSON Schema terms (as schemathesis reads it)."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def test_a_customer_without_a_deployment_date_answers_within_its_schema(api, world):
    """Found by schemathesis: ``deployed_on`` is null until someone sets it, and the schema said string."""
    document = api.client.get("/api/openapi.json").json
    schema = {"$ref": "#/components/schemas/DeploymentResult", "components": _nullable(document["components"])}
    r = api.get(f"/api/v1/customers/{world.customers['ACME'].id}/deployment", "admin")
    assert r.status_code == 200 and r.json["deployed_on"] is None
    jsonschema.validate(r.json, schema)
