"""The form to open a case (the portal's, and staff's for a customer on the phone): its fields,
the API's own check of them, and opening the case with its files in one transaction."""
from __future__ import annotations

import io
import tempfile
from typing import IO, Any, cast

from flask import Request, request
from flask_babel import gettext as _

from cases.casework import attachments, form_tokens, intake
from cases.core.db import unit_of_work
from cases.core.errors import TooLarge, ValidationFailed
from cases.core.models import Case, User
from gateway.inputs import CaseCreateSchema

#: the form's text fields, in order: (name, input type)
FIELDS = (("title", "text"), ("description", "textarea"), ("environment", "textarea"),
          ("steps_to_reproduce", "textarea"), ("contact_name", "text"), ("contact_phone", "tel"),
          ("contact_email", "email"))
MAX_FILES = 5


def labels() -> dict[str, str]:
    return {"title": _("Subject"), "description": _("What happened?"),
            "environment": _("Environment (version, operating system, database)"),
            "steps_to_reproduce": _("Steps to reproduce"), "contact_name": _("Contact person"),
            "contact_phone": _("Phone"), "contact_email": _("E-mail"), "files": _("Attachments"),
            "customer_id": _("Customer"), "channel": _("Channel")}


def submitted(extra: tuple[str, ...] = ()) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in (*(n for n, _t in FIELDS), *extra)}


def _problems(fields: dict[str, Any]) -> dict[str, str]:
    """The API's own check of a new case (api/resources/case_schemas.py), as messages per field."""
    out = {}
    for name, messages in CaseCreateSchema().validate(fields).items():
        text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        if "required" in text.lower() or not fields.get(name):
            out[name] = _("This field is required.")
        elif "email" in text.lower():
            out[name] = _("Enter an e-mail address.")
        elif "one of" in text.lower() or "integer" in text.lower():
            out[name] = _("Choose one of the options.")
        else:
            out[name] = _("This is too long: at most %(n)d characters (now %(len)d).", n=LIMITS.get(name, 0),
                          len=len(str(fields.get(name) or "")))
    return out


#: the longest text each field takes (gateway/inputs.py CaseCreateSchema), shown beside the field
LIMITS = {"title": 200, "description": 20000, "environment": 10000, "steps_to_reproduce": 10000,
          "contact_name": 200, "contact_phone": 50, "contact_email": 254}


#: a request body up to this size is still read (the form comes back with what was typed and the
#: reason); its files are kept only up to their limit (the rest is counted, not stored). Beyond it the
#: browser gets the 413 page: that much is not worth reading to give a form back.
MAX_READ_BODY = 1024 * 1024 * 1024
#: text fields may be far longer than allowed and still come back to the form to be shortened
MAX_FORM_TEXT = 8 * 1024 * 1024
#: the environ key that makes a request keep at most this many bytes of each uploaded file
FILE_CAP = "caseflow.file_cap"


class CappedFile(io.RawIOBase):
    """An uploaded file kept up to ``cap`` bytes: what comes after is counted and dropped, so a
    file far over the limit costs no disk and still says it was too large (``size``)."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self._kept = tempfile.SpooledTemporaryFile(max_size=512 * 1024, mode="w+b")
        self.cap = cap
        self.size = 0

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        room = max(0, self.cap - self.size)
        if room:
            self._kept.write(bytes(data[:room]))
        self.size += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._kept.read(size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._kept.readline(-1 if size is None else size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._kept.seek(offset, whence)

    def tell(self) -> int:
        return self._kept.tell()

    def close(self) -> None:
        self._kept.close()
        super().close()


class FormRequest(Request):
    """The app's request class: a form marked with FILE_CAP keeps its files up to that many bytes."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        cap = self.environ.get(FILE_CAP)
        if cap:
            return cast(IO[bytes], CappedFile(cap))
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)


def allow_large_bodies() -> None:
    """Read a too-large form rather than refuse it unread: its files are kept up to one byte over
    their limit (then refused one by one), its texts checked against their limits, and the form
    comes back with everything typed (issue 15)."""
    request.max_content_length = MAX_READ_BODY
    request.max_form_memory_size = MAX_FORM_TEXT
    request.environ[FILE_CAP] = attachments.max_bytes() + 1


def limits() -> dict[str, Any]:
    """What the form says of its limits before sending (and its script checks files against)."""
    return {"limits": LIMITS, "max_files": MAX_FILES, "max_bytes": attachments.max_bytes(),
            "max_mb": attachments.max_bytes() // (1024 * 1024)}


def form_token() -> str:
    """The form's one-time token: the one it was sent with (the form shown again keeps it), else new."""
    return form_tokens.valid(request.form.get("form_token")) or form_tokens.new_token()


def open_case(user: User, fields: dict[str, Any]) -> tuple[Case | None, dict[str, str], bool]:
    """Open the case with the request's files (``files``), all or nothing: (the case, no errors,
    False), or (None, the messages per field, False); (the case, {}, True) when this form (its
    one-time token) was sent before and opened that case."""
    token = form_tokens.valid(request.form.get("form_token"))
    earlier = form_tokens.case_of(user, token) if token else None
    if token and earlier is not None and not form_tokens.same_report(earlier, fields):
        # Back, then another problem typed into the same form: a report of its own (sent once too)
        token = form_tokens.derived(token, fields)
        earlier = form_tokens.case_of(user, token)
    if earlier is not None:
        return earlier, {}, True
    errors = _problems(fields)
    same = None if errors or request.form.get("again") else \
        form_tokens.recent_same(user, fields.get("title", ""), fields.get("description", ""))
    if same is not None:
        return None, {"again": _("You opened case %(number)s with this same subject and text %(minutes)d minutes "
                                 "ago (the form was sent again). Nothing new was opened: send the form once more "
                                 "to open another case.", number=same.number,
                                 minutes=form_tokens.minutes_since(same)), "again_case": str(same.id)}, False
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if len(uploads) > MAX_FILES:
        errors["files"] = _("At most %(n)d files.", n=MAX_FILES)
    if errors:
        return None, errors, False
    try:
        with unit_of_work():
            case = intake.open_case(user, fields)
            for upload in uploads:
                data = upload.read(attachments.max_bytes() + 1)
                attachments.check_size(len(data))
                attachments.add(user, case.id, upload.filename, data)
            if token:
                form_tokens.record(user, token, case)
    except form_tokens.AlreadySubmitted:
        return form_tokens.case_of(user, token or ""), {}, True
    except TooLarge:
        return None, {"files": _("A file is too large (at most %(mb)d MB). Nothing was sent.",
                                 mb=attachments.max_bytes() // (1024 * 1024))}, False
    except ValidationFailed as exc:
        if any(e.get("field") == "customer_id" for e in exc.errors):
            return None, {"customer_id": _("Choose one of the options.")}, False
        return None, {"files": _("A file was refused: %(reason)s. Nothing was sent.", reason=exc.message)}, False
    return case, {}, False
