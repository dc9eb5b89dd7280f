"""Admins manage users and roles; every change is audited."""
from __future__ import annotations


def test_admin_creates_changes_and_deactivates_a_user(api, world):
    r = api.post("/api/v1/users", "admin", json={"username": "newagent", "password": "long-enough",
                                                  "roles": ["agent"], "display_name": "New Agent"})
    assert r.status_code == 201 and r.json["roles"] == ["agent"] and r.json["active"] is True
    user_id = r.json["id"]
    token = api.client.post("/api/v1/auth/token", json={"username": "newagent", "password": "long-enough"})
    assert token.status_code == 201
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 200

    r = api.request("PATCH", f"/api/v1/users/{user_id}", "admin", json={"roles": ["agent", "supervisor"]})
    assert r.status_code == 200 and r.json["roles"] == ["agent", "supervisor"]
    assert api.client.get("/api/v1/instances/trouble", headers=headers).status_code == 200  # supervisor now

    r = api.request("PATCH", f"/api/v1/users/{user_id}", "admin", json={"active": False})
    assert r.status_code == 200 and r.json["active"] is False
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 401  # its token stops working

    listed = api.get("/api/v1/users?role=supervisor", "admin").json
    assert "newagent" in [u["username"] for u in listed["items"]]
    actions = [e["action"] for e in api.get("/api/v1/audit", "admin").json["items"][:2]]
    assert actions == ["user_updated", "user_updated"]


def test_bad_user_changes_are_refused(api, world):
    r = api.post("/api/v1/users", "admin", json={"username": "agent1", "password": "long-enough", "roles": ["agent"]})
    assert r.status_code == 409 and r.json["code"] == "username_taken"
    r = api.post("/api/v1/users", "admin", json={"username": "x y", "password": "short", "roles": ["wizard"]})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} >= {"username", "password", "roles.0"}
    r = api.post("/api/v1/users", "admin", json={"username": "cust", "password": "long-enough", "roles": ["customer"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "customer"
    admin_id = api.get("/api/v1/me", "admin").json["id"]
    r = api.request("PATCH", f"/api/v1/users/{admin_id}", "admin", json={"active": False})
    assert r.status_code == 409
    assert api.request("PATCH", "/api/v1/users/999999", "admin", json={"active": False}).status_code == 404
    assert api.get("/api/v1/users", "supervisor").status_code == 403
