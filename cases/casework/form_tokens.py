"""One-time tokens of the page forms that open a case: a form sent twice (a double click, Back and
Send again, a retry after a lost answer) opens one case. The token is the form's (a random hex
string the page put in it); the first sending records it with the case in the same transaction,
a later one finds that case. Two sendings racing: the token's primary key lets one commit, the
other fails on it and then finds the first's case. (The API's Idempotency-Key is not this.)"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cases.casework.models import FormSubmission
from cases.core.db import db
from cases.core.errors import Conflict
from cases.core.models import Case, User

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


class AlreadySubmitted(Conflict):
    code = "form_already_sent"


def new_token() -> str:
    return secrets.token_hex(16)


def valid(token: str | None) -> str | None:
    """The token when it is one of ours (else None: the form is sent without the protection)."""
    return token if token and _TOKEN.match(token) else None


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
