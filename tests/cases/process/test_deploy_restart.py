"""A restart never undoes a deploy: ``caseflow deploy`` (run by ``make run`` and by the compose
``migrate`` step) loads the files only into an empty installation or when told (``--activate``).
Driven through the real ``caseflow`` command in a process of its own, on the test database."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, _postgres_url
from tests.helpers import open_case

CASEFLOW = str(Path(sys.executable).parent / "caseflow")


def _caseflow(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([CASEFLOW, *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def _shell(database_url: str, command: str) -> subprocess.CompletedProcess:
    """A command line as written in docker-compose.yml / the Makefile, with our ``caseflow``."""
    command = re.sub(r"(\$\(BIN\)/)?caseflow\b", CASEFLOW, command)
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def _files(change=None) -> list[tuple[io.BytesIO, str]]:
    files = {p.name: p.read_bytes() for p in (ROOT / "processes").iterdir() if p.suffix in (".bpmn", ".dmn")}
    files.update({p.name: p.read_bytes() for p in (ROOT / "forms").iterdir()})
    if change:
        files["support_case.bpmn"] = change(files["support_case.bpmn"].decode()).encode()
    return [(io.BytesIO(content), name) for name, content in files.items()]


def _active(api) -> int:
    r = api.get("/api/v1/process-versions", "owner")
    assert r.status_code == 200
    return r.json[0]["id"]


def _compose_migrate() -> str:
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["migrate"]["command"]
    assert command[:2] == ["sh", "-c"]
    return command[2]


def _make_run_deploy() -> str:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nrun:"):].split("\n\n")[0]
    lines = [line.strip() for line in recipe.splitlines() if "caseflow deploy" in line]
    assert len(lines) == 1, recipe
    return lines[0]


def test_a_restart_keeps_the_version_the_owner_deployed(api, world, database_url, restore_active_version):
    real = _active(api)
    r = api.post("/api/v1/process-versions", "owner", content_type="multipart/form-data",
                 data={"files": _files(lambda t: t.replace('name="Intake"', f'name="Intake {uuid.uuid4().hex[:8]}"')),
                       "change_note": "Four reopens before the supervisor hears of it"})
    assert r.status_code == 201, r.json
    v2 = r.json["id"]
    assert _active(api) == v2

    cli = _caseflow(database_url, "deploy")
    assert cli.returncode == 0, cli.stderr
    assert "left the active version as it is" in cli.stdout
    assert f"the files are version {real}" in cli.stdout and f"active: version {v2} " in cli.stdout
    assert _active(api) == v2

    for command in (_compose_migrate(), _make_run_deploy()):  # compose's migrate step, make run
        restart = _shell(database_url, command)
        assert restart.returncode == 0, restart.stderr
        assert f"active: version {v2} " in restart.stdout
        assert _active(api) == v2
    case = open_case(api, customer_id=world.customers["ACME"].id)
    assert api.get(f"/api/v1/cases/{case['id']}", "supervisor").json["process_version"] == r.json["content_hash"]

    told = _caseflow(database_url, "deploy", "--activate")
    assert told.returncode == 0, told.stderr
    assert f"the files are version {real}, re-activated (was version {v2})" in told.stdout
    assert f"active: version {real} " in told.stdout and _active(api) == real


def test_changed_files_on_disk_are_not_loaded_without_being_told(api, world, database_url, tmp_path,
                                                               restore_active_version):
    real = _active(api)
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir()
    forms.mkdir()
    unique = uuid.uuid4().hex[:8]  # content no other test deployed
    for name, content in ((n, f.read()) for f, n in _files(lambda t: t.replace('name="Intake"', f'name="Intake {unique}"'))):
        (forms if name.endswith(".json") else processes).joinpath(name).write_bytes(content)
    before = api.get("/api/v1/process-versions", "owner").json
    kept = _caseflow(database_url, "deploy", "--processes", str(processes), "--forms", str(forms))
    assert kept.returncode == 0, kept.stderr
    assert "the files are in no version yet (caseflow deploy --activate makes them the active version)" in kept.stdout
    assert api.get("/api/v1/process-versions", "owner").json == before
    told = _caseflow(database_url, "deploy", "--activate", "--processes", str(processes), "--forms", str(forms))
    assert told.returncode == 0, told.stderr
    new = _active(api)
    assert new != real and f"deployed the files as version {new}; it is now active (was version {real})" in told.stdout


@pytest.fixture
def empty_database_url(tmp_path):
    pg = _postgres_url()
    if pg is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"cf_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_an_empty_installation_gets_the_files_once(empty_database_url):
    first = _shell(empty_database_url, _compose_migrate())
    assert first.returncode == 0, first.stderr
    assert "empty installation: the files are version 1 and active" in first.stdout
    again = _caseflow(empty_database_url, "deploy")
    assert again.returncode == 0, again.stderr
    assert "the files are the active version 1; nothing to do" in again.stdout
    assert "active: version 1 " in again.stdout


def test_a_broken_file_set_is_refused_with_its_problems(empty_database_url, tmp_path):
    assert _caseflow(empty_database_url, "db", "upgrade").returncode == 0
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "broken.bpmn").write_text("<definitions")
    refused = _caseflow(empty_database_url, "deploy", "--processes", str(processes), "--forms", str(ROOT / "forms"))
    assert refused.returncode != 0
    assert "broken.bpmn" in refused.stderr and "Traceback" not in refused.stderr
