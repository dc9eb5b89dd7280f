"""Where attachment bytes live, behind one small interface: ``put(key, data)``, ``open(key)``,
``delete(key)``.

``ATTACHMENT_STORAGE`` names the backend. ``filesystem`` (the only one so far) keeps each file
under ``ATTACHMENT_DIR`` by its key; attachments use the SHA-256 of the content as the key, so
identical files are stored once. Object storage (S3 and the like) is another class with the same
three methods, added to ``BACKENDS`` under its name and built from the configuration.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

from flask import current_app

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


#: backend name -> how to build it from the application's configuration
BACKENDS: dict[str, Callable[[Mapping[str, Any]], Storage]] = {
    "filesystem": lambda config: FilesystemStorage(config["ATTACHMENT_DIR"]),
}


def from_config(config: Mapping[str, Any]) -> Storage:
    name = config.get("ATTACHMENT_STORAGE", "filesystem")
    if name not in BACKENDS:
        raise ValueError(f"ATTACHMENT_STORAGE={name!r} is not one of: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[name](config)


def current() -> Storage:
    """The storage the running application is configured with."""
    return from_config(current_app.config)
