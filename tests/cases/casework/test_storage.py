"""The attachment storage's contract, on the filesystem backend."""
from __future__ import annotations

import hashlib

import pytest

from cases.casework import storage


def test_put_open_delete_by_content_key(tmp_path):
    store = storage.from_config({"ATTACHMENT_STORAGE": "filesystem", "ATTACHMENT_DIR": str(tmp_path / "a")})
    data = "日志 log\n".encode()
    key = hashlib.sha256(data).hexdigest()
    assert store.put(key, data) is True and store.put(key, data) is False  # stored once
    with store.open(key) as stored:
        assert stored.read() == data
    assert [p.name for p in (tmp_path / "a").rglob("*") if p.is_file()] == [key]
    store.delete(key)
    store.delete(key)  # forgetting twice is no error
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_keys_cannot_leave_the_directory_and_backends_are_named(tmp_path):
    store = storage.FilesystemStorage(tmp_path)
    with pytest.raises(ValueError):
        store.put("../../etc/passwd", b"x")
    with pytest.raises(ValueError, match="s3"):
        storage.from_config({"ATTACHMENT_STORAGE": "s3", "ATTACHMENT_DIR": str(tmp_path)})
