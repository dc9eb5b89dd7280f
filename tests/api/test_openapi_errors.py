"""The OpenAPI document describes errors as they are sent: problem+json."""
from __future__ import annotations


def test_default_error_response_is_a_problem(api):
    spec = api.get("/api/openapi.json").json
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "errors"} <= set(problem["properties"])
    complete = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert "next_tasks" in spec["components"]["schemas"]["Completed"]["properties"]
    assert complete["responses"]["default"]["$ref"].endswith("/DEFAULT_ERROR")


def test_an_actual_error_matches_the_documented_shape(api):
    r = api.get("/api/v1/cases/999999", "agent1")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    problem = api.get("/api/openapi.json").json["components"]["schemas"]["Problem"]
    assert set(r.json) <= set(problem["properties"])
    assert r.json["resource"] == "case" and r.json["id"] == 999999
