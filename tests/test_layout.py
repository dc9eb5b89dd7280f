"""Dependencies point one way: api -> cases -> engine; only engine imports SpiffWorkflow."""
from __future__ import annotations

import ast
import re
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


FLASK_IMPORT = re.compile(r"^\s*(from flask import (?P<names>.+)|import flask\b.*)$", re.M)


def test_domain_code_never_touches_the_request():
    """The domain may read the application's configuration (``current_app``), nothing else of
    Flask: no request, no ``g``, no session."""
    for package in ("cases", "engine", "handlers"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            for match in FLASK_IMPORT.finditer(source):
                names = {n.strip() for n in (match.group("names") or "flask").split(",")}
                assert names <= {"current_app"}, (path, match.group(0))
            assert "flask.request" not in source, path
