"""requirements.lock (what make run and make test install, with hashes) agrees with pyproject.toml."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(?P<version>[^\s;]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, str]:
    return {_normal(m["name"]): m["version"] for line in (ROOT / "requirements.lock").read_text().splitlines()
            if (m := PIN.match(line))}


def test_every_dependency_is_pinned_exactly_and_locked_at_that_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    locked = _locked()
    for requirement in wanted:
        match = PIN.match(requirement)
        assert match, f"{requirement!r} is not pinned with =="
        assert locked.get(_normal(match["name"])) == match["version"], requirement


def test_indirect_dependencies_are_locked_with_hashes():
    text = (ROOT / "requirements.lock").read_text()
    assert len(_locked()) > 60  # the direct pins and what they pull in
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block))
