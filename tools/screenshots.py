"""The README's screenshots of the pages, taken in Debian's Chromium from a running caseflow with
the demo data (``make run``, or ``caseflow demo-data`` on a fresh database and a server):

    .venv/bin/python -m tools.screenshots --base http://127.0.0.1:5000 [--only NAME ...]

writes ``docs/screenshots/<name>.png`` for each shot in ``SHOTS`` (demo password ``demo``). A shot
reads the demo data only; what it types into a form it never sends.
"""
from __future__ import annotations

import argparse
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Shot:
    name: str
    user: str
    path: Callable[[Any], str]  # (the API helper) -> the page's path
    locale: str = "en"
    viewport: dict[str, int] = field(default_factory=lambda: dict(DESKTOP))
    then: Callable[[Page], None] | None = None  # what to do on the page before the picture
    full_page: bool = True


class Api:
    """Just enough of the REST API to find the demo's tasks and cases."""

    def __init__(self, base: str, password: str):
        self.base, self.password, self.tokens = base, password, {}

    def get(self, path: str, user: str) -> Any:
        if user not in self.tokens:
            body = json.dumps({"username": user, "password": self.password}).encode()
            request = urllib.request.Request(f"{self.base}/api/v1/auth/token", body,
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request) as answer:
                self.tokens[user] = json.load(answer)["token"]
        request = urllib.request.Request(f"{self.base}/api/v1{path}",
                                         headers={"Authorization": f"Bearer {self.tokens[user]}"})
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    def task(self, user: str, element: str) -> str:
        """A task of ``element`` the user works on (theirs, else one they may claim)."""
        for scope in ("mine", "claimable"):
            items = self.get(f"/tasks?scope={scope}&per_page=100", user)["items"]
            found = [t["id"] for t in items if t["element_id"] == element]
            if found:
                return str(found[0])
        raise LookupError(f"{user} has no {element} task in the demo data")

    def open_case(self, user: str) -> int:
        return int(next(c["id"] for c in self.get("/cases?status=open&per_page=100", user)["items"]
                        if c["kind"] == "support"))


def _resolve_form(page: Page) -> None:
    page.locator("#task-form").wait_for()
    page.get_by_label("Resolved: ask the customer to confirm").check()


def _reply_with_canned_answer(page: Page) -> None:
    reply = page.locator("#reply")
    reply.get_by_label("Your reply").fill("Dear Ms Zhou,")
    reply.get_by_label("Canned answer").select_option(index=1)
    reply.get_by_role("button", name="Insert").click()
    page.locator("#reply").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#reply').scrollIntoView()")


SHOTS = [
    Shot("task-resolve", "consultant2", lambda api: f"/tasks/{api.task('consultant2', 'resolve')}", then=_resolve_form),
    Shot("knowledge-zh", "huaxin", lambda api: "/knowledge?q=密码", locale="zh-CN"),
    Shot("case-reply-insert", "agent1", lambda api: f"/cases/{api.open_case('supervisor')}",
         then=_reply_with_canned_answer, full_page=False),
    Shot("portal-phone", "huaxin", lambda api: "/portal", viewport=dict(PHONE)),
    Shot("inbox-phone-zh", "agent1", lambda api: "/inbox?scope=claimable", locale="zh-CN", viewport=dict(PHONE),
         full_page=False),
]


def take(base: str, password: str, only: list[str] | None = None) -> list[Path]:
    api, written = Api(base, password), []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for shot in SHOTS:
            if only and shot.name not in only:
                continue
            context = browser.new_context(base_url=base, locale=shot.locale, viewport=shot.viewport)
            page = context.new_page()
            page.goto("/login")
            page.locator("#username").fill(shot.user)
            page.locator("#password").fill(password)
            page.locator("form[action='/login'] button[type=submit]").click()
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(shot.path(api))
            if shot.then is not None:
                shot.then(page)
            path = OUT / f"{shot.name}.png"
            page.screenshot(path=str(path), full_page=shot.full_page)
            written.append(path)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    for path in take(args.base.rstrip("/"), args.password, args.only):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
