"""One-time tokens of the page forms that open a case: a form sent twice (a double click, Back and
Send again, a retry after a lost answer) opens one case. The token is the form's (a random hex
string the page put in it); the first sending records it with the case in the same transaction,
a later one finds that case. Two sendings racing: the token's primary key lets one commit, the
other fails on it and then finds the first's case. (The API's Idempotency-Key is not this.)"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cases.casework.models import FormSubmission
from cases.core.db import db
from cases.core.errors import Conflict
from cases.core.models import Case, User, utcnow

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


class AlreadySubmitted(Conflict):
    code = "form_already_sent"


def new_token() -> str:
    return secrets.token_hex(16)


def valid(token: str | None) -> str | None:
    """The token when it is one of ours (else None: the form is sent without the protection)."""
    return token if token and _TOKEN.match(token) else None


def same_report(case: Case, fields: dict[str, Any]) -> bool:
    """Whether ``fields`` are what opened ``case`` (the same form sent again, not another report)."""
    return (case.title, case.description) == ((fields.get("title") or ""), (fields.get("description") or ""))


def derived(token: str, fields: dict[str, Any]) -> str:
    """The token of another report sent from a form whose token opened a case already (Back, then a
    different problem typed in): the same for the same text, so that report too is opened once."""
    text = f"{token}\n{fields.get('title') or ''}\n{fields.get('description') or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def case_of(user: User, token: str) -> Case | None:
    """The case this user's form with ``token`` opened, if it was sent before."""
    row = db.session.scalar(select(FormSubmission).where(FormSubmission.token == token,
                                                         FormSubmission.user_id == user.id))
    return db.session.get(Case, row.case_id) if row is not None else None


def record(user: User, token: str, case: Case) -> None:
    """Use the token for ``case`` in the caller's unit of work; AlreadySubmitted when another sending
    of the same form got there first (the caller's transaction is then rolled back)."""
    db.session.add(FormSubmission(token=token, user_id=user.id, case_id=case.id))
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise AlreadySubmitted("this form was sent already", code="form_already_sent") from exc


#: how long a case opened by a page form counts as "just sent" for the same text sent again
RECENT = timedelta(minutes=30)


def recent_same(user: User, title: str, description: str) -> Case | None:
    """A case this user opened through a page form in the last RECENT with the same title and
    description: the same form sent again under a new token (a browser that fetched the form anew
    on Back, without our script to keep the token), which the page asks about before opening it."""
    since = utcnow() - RECENT
    return db.session.scalar(select(Case).join(FormSubmission, FormSubmission.case_id == Case.id)
                             .where(FormSubmission.user_id == user.id, FormSubmission.created_at >= since,
                                    Case.title == title, Case.description == description)
                             .order_by(FormSubmission.created_at.desc()).limit(1))


def minutes_since(case: Case) -> int:
    return max(0, int((utcnow() - case.created_at).total_seconds() // 60))
