"""Attachments kept in the database (ATTACHMENT_STORAGE=database): the same checks and limits, the
bytes written in the attachment's own transaction, read by any replica; and the move of existing
files from the filesystem."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from cases.casework.models import Attachment
from cases.casework.storage import AttachmentBlob
from cases.core.db import db
from server.cli import main
from tests.api.dbstate import db_snapshot
from tests.api.test_attachments import PNG, _stored_files, upload
from tests.helpers import open_case


@pytest.fixture
def storage_dir(app, tmp_path, monkeypatch):
    root = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(root))
    return root


@pytest.fixture
def in_database(app, storage_dir, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "database")


@pytest.fixture
def case(api, world) -> dict:
    return open_case(api, customer_id=world.customers["ACME"].id)


def _blobs() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AttachmentBlob))


def test_an_attachment_in_the_database_is_stored_once_and_read_back(api, world, case, storage_dir, in_database):
    other = open_case(api, customer_id=world.customers["ACME"].id)
    first = upload(api, case["id"], PNG, "a.png")
    second = upload(api, other["id"], PNG, "b.png")
    assert first.status_code == 201 and second.status_code == 201
    assert _blobs() == 1 and _stored_files(storage_dir) == []  # nothing on the disk, content stored once
    assert {a.storage for a in db.session.scalars(select(Attachment))} == {"database"}
    assert api.get(second.json["url"], "agent1").data == PNG


def test_the_same_limits_and_checks_hold_and_a_refusal_leaves_no_bytes(app, api, case, in_database, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    before = db_snapshot()
    assert upload(api, case["id"], b"x" * 1001, "big.log").json["code"] == "too_large"
    assert upload(api, case["id"], b"MZ\x90\x00" + b"\x00" * 60, "tool.exe").status_code == 422
    assert db_snapshot() == before and _blobs() == 0


def test_files_move_to_the_database_and_stay_readable_without_the_disk(app, api, case, storage_dir, monkeypatch):
    log = "2026-11-02 错误: 报表打开失败\n".encode()
    ids = [upload(api, case["id"], PNG, "a.png").json, upload(api, case["id"], log, "a.log").json]
    assert len(_stored_files(storage_dir)) == 2
    runner = app.test_cli_runner()
    result = runner.invoke(main, args=["attachments", "move-to-database", "--batch-size", "1"])
    assert result.exit_code == 0 and "moved 2" in result.output, result.output
    shutil.rmtree(storage_dir)  # the files are gone: the database holds the bytes
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "database")
    assert api.get(ids[0]["url"], "agent1").data == PNG
    assert api.get(ids[1]["url"], "agent1").data == log
    again = runner.invoke(main, args=["attachments", "move-to-database"])
    assert again.exit_code == 0 and "moved 0" in again.output  # nothing moves twice


def test_a_file_missing_from_the_disk_is_named_and_left_as_it_was(app, api, case, storage_dir):
    kept = upload(api, case["id"], PNG, "a.png").json
    shutil.rmtree(storage_dir)
    result = app.test_cli_runner().invoke(main, args=["attachments", "move-to-database"])
    assert result.exit_code == 1 and str(kept["id"]) in result.output
    db.session.rollback()
    assert db.session.get(Attachment, kept["id"]).storage == "filesystem" and _blobs() == 0
