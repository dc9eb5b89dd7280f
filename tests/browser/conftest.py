"""Browser tests: Playwright driving the system's Chromium (Debian's package, /usr/bin/chromium;
`make test` installs it when missing, never a downloaded browser build) against a live server.

Fixtures for every browser test:
- ``live_server``: the base URL of a real HTTP server (werkzeug, in a thread) serving the test
  app on the worker's own test database (each pytest-xdist worker: its own database and port).
- ``browser_session``: one headless Chromium per worker session.
- ``new_page()``: a fresh page in a context of its own (cookies apart), logged out.
- ``page_as("agent1", locale="en")``: a page logged in through the log-in form as that user.
- ``screenshot(page, "name")``: saves ``test-artifacts/screenshots/<name>.png`` (gitignored).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT

CHROMIUM = os.environ.get("CASEFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture(scope="session")
def browser_session() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser_session, live_server) -> Iterator[Callable[..., Page]]:
    contexts = []

    def make(locale: str = "en") -> Page:
        context = browser_session.new_context(base_url=live_server, locale=locale,
                                              viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def page_as(new_page, world) -> Callable[..., Page]:
    """``page_as("agent1")``: a page logged in as that user (the users of tests/conftest.py
    ``world``, password PASSWORD); ``locale="zh-CN"`` for a Chinese browser."""

    def make(username: str, locale: str = "en") -> Page:
        page = new_page(locale)
        log_in(page, username)
        return page

    return make


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
