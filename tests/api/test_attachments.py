"""Attachments through real multipart uploads: types sniffed from the bytes, limits, download
headers, who sees what."""
from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from cases.casework import attachments
from cases.casework.models import Attachment
from cases.core.db import db, unit_of_work
from cases.core.models import Case
from tests.api.dbstate import db_snapshot
from tests.helpers import get_case, only_task, open_case


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


PNG = _png()
LOG_ZH = "2026-11-02 09:15:01 错误: 月末报表打开失败\n2026-11-02 09:15:02 详细信息: 数据库连接超时\n"


@pytest.fixture(autouse=True)
def storage_dir(app, tmp_path, monkeypatch):
    root = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(root))
    return root


@pytest.fixture
def case(api, world) -> dict:
    return open_case(api, customer_id=world.customers["ACME"].id)


def upload(api, case_id, content: bytes, filename: str, as_user="acme_user", **form):
    """A real multipart/form-data upload, encoded in memory (the test client would spool a large body
    to a temporary file it never closes)."""
    values = {"file": FileStorage(io.BytesIO(content), filename), **{k: str(v).lower() for k, v in form.items()}}
    boundary, body = encode_multipart(values)
    return api.post(f"/api/v1/cases/{case_id}/attachments", as_user, data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")


def _stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _attachment_rows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Attachment))


def test_a_png_screenshot_is_stored_and_shown_inline(api, case, storage_dir):
    r = upload(api, case["id"], PNG, "屏幕截图.png")
    assert r.status_code == 201, r.json
    item = r.json
    assert item["content_type"] == "image/png" and item["filename"] == "屏幕截图.png"
    assert item["size"] == len(PNG) and item["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert item["public"] is True and item["uploaded_by"] == "acme_user"
    assert [p.name for p in _stored_files(storage_dir)] == [item["sha256"]]

    d = api.get(item["url"], "acme_user")
    assert d.status_code == 200 and d.data == PNG and d.mimetype == "image/png"
    assert d.headers["X-Content-Type-Options"] == "nosniff"
    assert d.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert d.headers["Content-Disposition"].startswith("inline;")
    assert f"filename*=UTF-8''{quote('屏幕截图.png')}" in d.headers["Content-Disposition"]

    history = get_case(api, case["id"], "acme_user")["history"]
    added = [e for e in history if e["kind"] == "attachment_added"]
    assert len(added) == 1 and added[0]["data"]["attachment_id"] == item["id"]


def test_a_chinese_log_is_text_and_is_offered_as_a_download(api, case):
    for encoding in ("gb18030", "utf-8"):
        r = upload(api, case["id"], LOG_ZH.encode(encoding), "错误日志.log")
        assert r.status_code == 201, r.json
        assert r.json["content_type"] == f"text/plain; charset={encoding}"
        d = api.get(r.json["url"], "agent1")
        assert d.status_code == 200 and d.data.decode(encoding) == LOG_ZH
        assert d.headers["Content-Type"] == f"text/plain; charset={encoding}"
        disposition = d.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('错误日志.log')}" in disposition
        assert d.headers["X-Content-Type-Options"] == "nosniff"


def test_office_documents_and_csv_are_recognised(api, case):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    r = upload(api, case["id"], buffer.getvalue(), "需求说明.docx")
    assert r.status_code == 201 and r.json["content_type"].endswith("wordprocessingml.document")
    assert api.get(r.json["url"], "agent1").headers["Content-Disposition"].startswith("attachment;")
    r = upload(api, case["id"], "月份,金额\n10,1200\n".encode(), "报表.csv")
    assert r.status_code == 201 and r.json["content_type"] == "text/csv; charset=utf-8"
    r = upload(api, case["id"], b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "manual.pdf")
    assert r.status_code == 201 and r.json["content_type"] == "application/pdf"
    assert api.get(r.json["url"], "agent1").headers["Content-Disposition"].startswith("inline;")


REFUSED = [
    (b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>", "notes.txt"),
    (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "diagram.txt"),
    (b"<?xml version='1.0'?><data/>", "export.txt"),
    (b"function steal() { fetch('/api/v1/me') }\nsteal();\n", "readme.txt"),
    (b"error log\nthen <script src=x></script>\n", "server.log"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64, "setup.exe"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64, "screenshot.png"),
    (PNG, "image.html"),
    (b"", "empty.txt"),
]


@pytest.mark.parametrize("content,filename", REFUSED)
def test_markup_scripts_and_binaries_are_refused_and_nothing_changes(api, case, storage_dir, content, filename):
    before = db_snapshot()
    r = upload(api, case["id"], content, filename)
    assert r.status_code == 422, r.json
    assert r.json["code"] == "validation_failed" and r.json["errors"][0]["field"] == "file"
    assert db_snapshot() == before and _attachment_rows() == 0 and _stored_files(storage_dir) == []


def test_logs_that_merely_mention_code_words_are_text(api, case):
    log = b"import failed: disk full\nlet me know when the function key F1 works again\nvar/log/app.log rotated\n"
    r = upload(api, case["id"], log, "import.log")
    assert r.status_code == 201 and r.json["content_type"] == "text/plain; charset=utf-8"


def test_attachments_may_exceed_the_limit_of_other_request_bodies(app, api, case):
    size = app.config["MAX_CONTENT_LENGTH"] * 2  # the 10 MiB attachment limit applies, not the 1 MiB one
    r = upload(api, case["id"], b"0123456789abcde\n" * (size // 16), "big.log")
    assert r.status_code == 201 and r.json["size"] == size


def test_the_size_limit_is_named_and_holds_for_large_bodies_too(app, api, case, storage_dir, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    before = db_snapshot()
    for size in (1001, 300_000):  # just over the limit; a body over the limit of the whole request
        r = upload(api, case["id"], b"x" * size, "big.log")
        assert r.status_code == 413, r.json
        assert r.json["code"] == "too_large" and r.json["max_bytes"] == 1000 and "1000 bytes" in r.json["title"]
    assert db_snapshot() == before and _stored_files(storage_dir) == []
    assert upload(api, case["id"], b"x" * 1000, "exact.log").status_code == 201


def test_identical_files_are_stored_once(api, world, case, storage_dir):
    other = open_case(api, customer_id=world.customers["ACME"].id)
    first = upload(api, case["id"], PNG, "a.png").json
    second = upload(api, other["id"], PNG, "b.png").json
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert len(_stored_files(storage_dir)) == 1
    assert api.get(second["url"], "agent1").data == PNG


def test_file_names_lose_paths_and_control_characters_but_keep_chinese(api, case):
    r = upload(api, case["id"], PNG, "..\\..\\windows/报表\u202e错误\x07截图?.png")
    assert r.status_code == 201 and r.json["filename"] == "报表错误截图_.png"
    r = upload(api, case["id"], LOG_ZH.encode(), "../..")
    assert r.status_code == 201 and r.json["filename"] == "attachment.txt"


def test_another_customer_sees_nothing(api, case):
    item = upload(api, case["id"], PNG, "a.png").json
    assert api.get(f"/api/v1/cases/{case['id']}/attachments", "other_user").status_code == 404
    r = api.get(item["url"], "other_user")
    assert r.status_code == 404 and r.json["resource"] == "attachment"
    assert upload(api, case["id"], PNG, "b.png", as_user="other_user").status_code == 404
    assert api.get("/api/v1/attachments/999999", "agent1").status_code == 404


def test_customers_see_public_attachments_only_and_staff_choose(api, case):
    internal = upload(api, case["id"], LOG_ZH.encode(), "internal.log", as_user="agent1").json
    shared = upload(api, case["id"], PNG, "for-customer.png", as_user="agent1", public=True).json
    own = upload(api, case["id"], PNG, "mine.png", as_user="acme_user", public=False).json
    assert (internal["public"], shared["public"], own["public"]) == (False, True, True)

    seen = api.get(f"/api/v1/cases/{case['id']}/attachments", "acme_user").json
    assert [a["id"] for a in seen] == [shared["id"], own["id"]]
    assert api.get(internal["url"], "acme_user").status_code == 404
    staff = api.get(f"/api/v1/cases/{case['id']}/attachments", "consultant1").json
    assert [a["id"] for a in staff] == [internal["id"], shared["id"], own["id"]]
    history = get_case(api, case["id"], "acme_user")["history"]
    assert {e["data"]["attachment_id"] for e in history if e["kind"] == "attachment_added"} == {
        shared["id"], own["id"]}


def test_attachments_on_a_task(api, world, case):
    task = only_task(api, case["id"])  # classification: an agents' task
    r = upload(api, case["id"], PNG, "a.png", as_user="agent1", task_id=task["id"])
    assert r.status_code == 201 and r.json["task_id"] == task["id"]
    r = upload(api, case["id"], PNG, "a.png", as_user="acme_user", task_id=task["id"])
    assert r.status_code == 404 and r.json["resource"] == "task"  # not a task the customer may see
    other = open_case(api, customer_id=world.customers["ACME"].id)
    r = upload(api, other["id"], PNG, "a.png", as_user="agent1", task_id=task["id"])
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "task_id"


def test_a_case_holds_a_limited_number_of_attachments(app, api, case, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_PER_CASE", 2)
    assert upload(api, case["id"], PNG, "1.png").status_code == 201
    assert upload(api, case["id"], LOG_ZH.encode(), "2.log").status_code == 201
    r = upload(api, case["id"], PNG, "3.png")
    assert r.status_code == 409 and r.json["code"] == "too_many_attachments"


def test_uploads_need_a_file_a_token_and_a_visible_case(api, case):
    r = api.post(f"/api/v1/cases/{case['id']}/attachments", "agent1", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "file"
    r = api.post(f"/api/v1/cases/{case['id']}/attachments", "agent1", data={"file": "not a file"},
                 content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "file"
    assert api.post(f"/api/v1/cases/{case['id']}/attachments", data={"file": (io.BytesIO(PNG), "a.png")},
                    content_type="multipart/form-data").status_code == 401
    assert upload(api, 999999, PNG, "a.png", as_user="agent1").status_code == 404
    r = upload(api, case["id"], PNG, "a.png", as_user="agent1", public="maybe")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "public"


def test_channels_attach_files_without_a_user(api, case):
    db.session.rollback()
    with unit_of_work():
        kept = attachments.attach(db.session.get(Case, case["id"]), None, "邮件附件.log", LOG_ZH.encode("gb18030"))
    assert kept.public is True and kept.uploaded_by_id is None
    seen = api.get(f"/api/v1/cases/{case['id']}/attachments", "acme_user").json
    assert [(a["filename"], a["uploaded_by"]) for a in seen] == [("邮件附件.log", None)]
