"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and no import hides in a function.

docs/architecture.md draws the layers; import-linter checks every import of the product packages,
also the indirect chains that a per-file look cannot see.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "api", "web", "workers", "gateway", "cases", "handlers", "engine")
CONTRACTS = [c["id"] for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract: str):
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--contract", contract, "--no-cache"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_the_contracts_cover_every_room_of_the_domain():
    """A new room under cases/ must be placed in the room order (the contract is exhaustive)."""
    rooms = {p.name for p in (ROOT / "cases").iterdir() if (p / "__init__.py").exists()}
    rooms |= {p.stem for p in (ROOT / "cases").glob("*.py") if p.stem != "__init__"}
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in config if c["id"] == "rooms")["layers"]
    declared = {name.strip() for layer in layers for name in layer.split("|")}
    assert rooms == declared


def _function_imports(path: Path) -> list[str]:
    found = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if inside and isinstance(child, ast.ImportFrom) and (child.level or (child.module or "").split(".")[0]
                                                                  in PACKAGES):
                found.append(f"{path.relative_to(ROOT)}:{child.lineno} from {'.' * child.level}{child.module}")
            elif inside and isinstance(child, ast.Import):
                found.extend(f"{path.relative_to(ROOT)}:{child.lineno} import {a.name}" for a in child.names
                             if a.name.split(".")[0] in PACKAGES)
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(path.read_text()), False)
    return found


def test_no_first_party_import_hides_inside_a_function():
    """An import placed in a function to dodge a cycle is a cycle: every import of our own modules
    stands at the top of its module, where the contracts see it."""
    offenders = [hit for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
                 for hit in _function_imports(path)]
    assert offenders == []


def test_the_function_import_check_sees_one():
    sample = ROOT / "tests" / "architecture" / "_sample_hidden_import.py"
    sample.write_text("def f():\n    from cases.core import db\n    return db\n")
    try:
        assert _function_imports(sample) == ["tests/architecture/_sample_hidden_import.py:2 from cases.core"]
    finally:
        sample.unlink()


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
