"""docker-compose.yml describes the production shape and names commands that exist."""
from __future__ import annotations

import importlib
import shlex
import tomllib
from pathlib import Path

import yaml
from click.testing import CliRunner
from setuptools import find_packages

from server.cli import main as caseflow_cli

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _commands(service: dict) -> list[list[str]]:
    command = service.get("command", [])
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def _check(argv: list[str]) -> None:
    if argv[0] == "caseflow":
        result = CliRunner().invoke(caseflow_cli, [a for a in argv[1:] if not a.startswith("-")] + ["--help"])
        assert result.exit_code == 0, f"{argv}: {result.output}"
        assert "Usage:" in result.output
    elif argv[0] == "gunicorn":
        module, _, factory = argv[-1].partition(":")
        assert callable(getattr(importlib.import_module(module), factory.rstrip("()")))
    else:
        raise AssertionError(f"unexpected command {argv}")


def test_compose_has_the_production_services():
    services = _compose()["services"]
    assert {"db", "web", "scheduler", "migrate", "mail"} <= set(services)
    assert services["mail"]["command"][:2] == ["caseflow", "mail-listener"]
    assert services["db"]["image"].startswith("postgres")
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert "postgresql://" in services["web"]["environment"]["DATABASE_URL"]


def test_compose_commands_exist():
    for _name, service in _compose()["services"].items():
        if "command" in service:
            for argv in _commands(service):
                _check(argv)

INCLUDE = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]


def test_the_web_service_and_the_image_check_readiness_and_liveness():
    web = _compose()["services"]["web"]
    assert "/ready?scope=web" in " ".join(web["healthcheck"]["test"])
    assert "HEALTHCHECK" in (ROOT / "Dockerfile").read_text() and "/health" in (ROOT / "Dockerfile").read_text()


def test_dockerfile_copies_every_package():
    """Every package setuptools finds, and the files the app reads at run time, are in the image."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = {name.split(".")[0] for name in find_packages(str(ROOT), include=INCLUDE)}
    assert {"api", "cases", "engine", "gateway", "handlers", "server", "web", "workers"} <= packages
    for folder in (*sorted(packages), "processes", "forms", "migrations"):
        assert f"COPY {folder} ./{folder}" in dockerfile


def test_an_unknown_command_would_be_caught():
    result = CliRunner().invoke(caseflow_cli, ["no-such-command", "--help"])
    assert result.exit_code != 0
