"""Fixtures for the pages through Flask's test client: a browser-like client per user, with
the session cookie and the CSRF token handled as a browser with the page open would."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class PageClient:
    """One browser: a cookie jar, the CSRF token of the last page shown."""

    def __init__(self, app):
        self.client = app.test_client()
        self.csrf: str | None = None

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        found = CSRF.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            if self.csrf is None:
                self.get("/login")
            data.setdefault("csrf_token", self.csrf)
        return self.client.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = PASSWORD):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)
        self.get(response.headers["Location"])  # the CSRF token of the new session
        return response

    @staticmethod
    def text(response) -> str:
        return response.get_data(as_text=True)


@pytest.fixture
def browser(app, world) -> PageClient:
    """A fresh, logged-out browser (``browser.login(name)`` to log in)."""
    return PageClient(app)


@pytest.fixture
def pages(app, world):
    """``pages("agent1")``: a browser logged in as that user (one per name)."""
    clients: dict[str, PageClient] = {}

    def client(username: str) -> PageClient:
        if username not in clients:
            clients[username] = PageClient(app)
            clients[username].login(username)
        return clients[username]

    return client


@pytest.fixture
def acme_case(api, world):
    """``acme_case(**fields)``: a case opened by agent1 for the customer ACME (the API's answer)."""
    from tests.helpers import open_case

    def make(**fields) -> dict:
        return open_case(api, "agent1", customer_id=world.customers["ACME"].id, **fields)

    return make
