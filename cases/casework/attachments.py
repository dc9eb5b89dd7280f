"""Attachments on a case or one of its tasks: screenshots, logs, documents.

``add`` checks everything before it writes anything — who may attach, the size, the type
(sniffed from the bytes), the per-case count — then writes the file to the storage and, in one
transaction, the row and the ``attachment_added`` case event.

The file is written before the transaction commits (a row must never point to bytes that are
not there). If the transaction then fails, the file stays behind as an orphan: harmless (nothing
refers to it, and since storage is content-addressed the next upload of the same bytes reuses
it) and safer than deleting it, because another upload of identical bytes may have referenced
the same key in the meantime.

Customers' users see only their organisation's cases and, there, only public attachments; what a
customer uploads is always public, staff choose (default: internal).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from cases.casework import filetypes, storage
from cases.casework.models import Attachment
from cases.core import events
from cases.core.access import visible_case, visible_task
from cases.core.db import db, use_case
from cases.core.errors import Conflict, NotFound, TooLarge, ValidationFailed
from cases.core.models import Case, User

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PER_CASE = 100


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_per_case() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_PER_CASE", DEFAULT_MAX_PER_CASE))


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": "file", "message": message}])


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise TooLarge(f"an attachment may have at most {limit} bytes", max_bytes=limit)


def _visible(user: User, case: Case):
    query = select(Attachment).where(Attachment.case_id == case.id)
    if not user.is_staff:
        query = query.where(Attachment.public.is_(True))
    return query


@use_case
def add(user: User, case_id: int, filename: str | None, data: bytes, task_id: str | None = None,
        public: bool | None = None) -> Attachment:
    """Attach ``data`` to the case (and to one of its tasks with ``task_id``) for ``user``:
    customers' users on their organisation's cases (always public), staff anywhere (internal
    unless ``public``)."""
    case = visible_case(user, case_id)
    if task_id is not None:
        task = visible_task(user, task_id)
        if task.case_id != case.id:
            raise ValidationFailed("the task is not one of this case's",
                                   [{"field": "task_id", "message": f"not a task of case {case.id}"}])
    return attach(case, user, filename, data, task_id, public=True if user.is_customer else bool(public))


def attach(case: Case, uploader: User | None, filename: str | None, data: bytes, task_id: str | None = None,
           public: bool = True) -> Attachment:
    """Check and store an attachment of ``case`` in the caller's unit of work, without asking who
    may: for channel integrations that vouched for the sender themselves (a mail's attachments).
    TooLarge, ValidationFailed (on ``file``) or Conflict when it cannot be kept."""
    check_size(len(data))
    try:
        sniffed = filetypes.sniff(data, filename or "")
    except filetypes.Refused as refused:
        raise _refuse(str(refused)) from refused
    count = db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id))
    if count >= max_per_case():
        raise Conflict(f"case {case.number} already has {count} attachments, the most it may have",
                       code="too_many_attachments")
    digest = hashlib.sha256(data).hexdigest()
    store = storage.current()
    store.put(digest, data)
    attachment = Attachment(case_id=case.id, task_id=task_id, filename=filetypes.clean_filename(filename, sniffed),
                            content_type=sniffed.content_type, size=len(data), sha256=digest, storage=store.name,
                            storage_key=digest, public=public, uploaded_by_id=uploader.id if uploader else None,
                            uploaded_by=uploader)
    db.session.add(attachment)
    db.session.flush()
    events.record(case, "attachment_added", uploader, public=public, attachment_id=attachment.id,
                  filename=attachment.filename, content_type=attachment.content_type, size=attachment.size,
                  task_id=task_id)
    return attachment


def list_for_case(user: User, case_id: int) -> list[Attachment]:
    case = visible_case(user, case_id)
    return list(db.session.scalars(_visible(user, case).order_by(Attachment.id)))


@dataclass
class Download:
    attachment: Attachment
    content: bytes

    @property
    def inline(self) -> bool:
        return self.attachment.content_type in filetypes.INLINE_TYPES


def open_download(user: User, attachment_id: int) -> Download:
    """The attachment and its bytes, if ``user`` may see it (else NotFound, as if it did not exist)."""
    attachment = db.session.get(Attachment, attachment_id)
    missing = NotFound(f"attachment {attachment_id} not found", resource="attachment", id=attachment_id)
    if attachment is None:
        raise missing
    try:
        case = visible_case(user, attachment.case_id)
    except NotFound:
        raise missing from None
    if db.session.scalar(_visible(user, case).where(Attachment.id == attachment.id)) is None:
        raise missing
    store = storage.from_config({**current_app.config, "ATTACHMENT_STORAGE": attachment.storage})
    try:  # attachments are small (ATTACHMENT_MAX_BYTES): read at once, nothing left open
        with store.open(attachment.storage_key) as stored:
            return Download(attachment, stored.read())
    except FileNotFoundError:
        raise Conflict(f"the content of attachment {attachment_id} is missing from the storage",
                       code="attachment_content_missing") from None
