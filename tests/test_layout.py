"""Dependencies point one way: api -> cases -> engine; only engine imports SpiffWorkflow."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package,forbidden", [
    ("engine", {"api", "cases", "flask", "flask_sqlalchemy", "sqlalchemy", "handlers"}),
    ("cases", {"api", "SpiffWorkflow"}),
    ("handlers", {"api", "cases", "flask", "SpiffWorkflow", "sqlalchemy"}),
    ("api", {"SpiffWorkflow"}),
])
def test_package_does_not_import(package, forbidden):
    offenders = {f: sorted(names & forbidden) for f, names in _imports(package).items() if names & forbidden}
    assert offenders == {}


def test_domain_code_never_touches_the_request():
    for package in ("cases", "engine", "handlers"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            assert "from flask import" not in source and "flask.request" not in source, path
