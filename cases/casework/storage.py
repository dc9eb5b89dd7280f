"""Where attachment bytes live, behind one small interface: ``put(key, data)``, ``open(key)``,
``delete(key)``.

``ATTACHMENT_STORAGE`` names the backend for new attachments (each row remembers its own, so
both kinds can be read side by side):

- ``filesystem`` keeps each file under ``ATTACHMENT_DIR`` by its key — one machine's disk (or a
  shared volume);
- ``database`` keeps the bytes in the ``attachment_blobs`` table of the application's database,
  written in the same transaction as the attachment's row (no orphan, no missing file): every
  replica on every machine sees them, and the database's backup holds them.

Attachments use the SHA-256 of the content as the key, so identical files are stored once.
``move_to_database`` moves existing files over (``caseflow attachments move-to-database``).
Object storage (S3 and the like) would be another class with the same three methods, added to
``BACKENDS`` under its name.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from flask import current_app
from sqlalchemy import Integer, LargeBinary, String, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from cases.casework.models import Attachment
from cases.core.db import db, unit_of_work
from cases.core.models import UTCDateTime, utcnow

KEY = re.compile(r"^[0-9a-f]{64}$")


class Storage(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key``; False when the key already held it (nothing written)."""

    def open(self, key: str) -> IO[bytes]:
        """The stored bytes, to read (FileNotFoundError when there are none)."""

    def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is not stored)."""


class FilesystemStorage:
    """Files under ``root``, two directory levels by key (``ab/cd/abcd…``) to keep directories
    small. A write goes to a temporary file first and is renamed into place, so a reader never
    sees half a file and two writers of the same content do not disturb each other."""

    name = "filesystem"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY.match(key):  # keys are ours, never a client's; still, no path can escape root
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class AttachmentBlob(db.Model):
    __tablename__ = "attachment_blobs"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatabaseStorage:
    """Bytes in ``attachment_blobs``, in the caller's transaction (PostgreSQL ``bytea``, SQLite
    ``BLOB``). Two uploads of the same content at once: the second insert is skipped, not an
    error (``ON CONFLICT DO NOTHING``)."""

    name = "database"

    def put(self, key: str, data: bytes) -> bool:
        if not KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        dialect = db.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(AttachmentBlob).values(key=key, data=data, size=len(data), created_at=utcnow())
        return db.session.execute(statement.on_conflict_do_nothing(index_elements=["key"])).rowcount == 1

    def open(self, key: str) -> IO[bytes]:
        data = db.session.scalar(select(AttachmentBlob.data).where(AttachmentBlob.key == key))
        if data is None:
            raise FileNotFoundError(key)
        return io.BytesIO(data)

    def delete(self, key: str) -> None:
        db.session.execute(delete(AttachmentBlob).where(AttachmentBlob.key == key))


#: backend name -> how to build it from the application's configuration
BACKENDS: dict[str, Callable[[Mapping[str, Any]], Storage]] = {
    "filesystem": lambda config: FilesystemStorage(config["ATTACHMENT_DIR"]),
    "database": lambda config: DatabaseStorage(),
}


def from_config(config: Mapping[str, Any]) -> Storage:
    name = config.get("ATTACHMENT_STORAGE", "filesystem")
    if name not in BACKENDS:
        raise ValueError(f"ATTACHMENT_STORAGE={name!r} is not one of: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[name](config)


def current() -> Storage:
    """The storage the running application is configured with."""
    return from_config(current_app.config)


def move_to_database(config: Mapping[str, Any], batch_size: int = 50) -> tuple[int, list[int]]:
    """Copy every filesystem attachment's bytes into the database and point its row there, one
    transaction per batch (safe to stop and run again: what moved is not moved twice). The files
    stay where they are (delete them once the database's backup holds the bytes). Returns how many
    moved, and the ids whose file is missing (left as they were)."""
    files = FilesystemStorage(config["ATTACHMENT_DIR"])
    target = DatabaseStorage()
    moved, missing = 0, []
    last_id = 0
    while True:
        with unit_of_work():
            rows = list(db.session.scalars(select(Attachment).where(Attachment.storage == files.name,
                                                                    Attachment.id > last_id)
                                           .order_by(Attachment.id).limit(batch_size).with_for_update(of=Attachment)))
            if not rows:
                return moved, missing
            for attachment in rows:
                last_id = attachment.id
                try:
                    with files.open(attachment.storage_key) as stored:
                        target.put(attachment.storage_key, stored.read())
                except FileNotFoundError:
                    missing.append(attachment.id)
                    continue
                attachment.storage = target.name
                moved += 1
