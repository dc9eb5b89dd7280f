"""The case search finds the same cases on SQLite (LIKE over the columns) and PostgreSQL (the same
conditions, narrowed first by the trigram index of migration 0019_h16v): by number, title,
description, environment, contact, customer name or code, Chinese text, with ``%``, ``_`` and
``\\`` in the query taken literally. The expected sets are computed here in Python, so both
databases are held to the same answer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from cases.casework import queries
from cases.core.db import db
from cases.core.models import Case, utcnow

ROWS = [
    # number, customer code, title, description, environment, contact name, phone, mail
    ("CF-2026-000101", "ACME", "Printer jams", "The tray jams after 100 pages", None, "王磊", "021-6666", None),
    ("CF-2026-000102", "ACME", "Invoice totals off", "100% of the totals are wrong", "ERP 7.2", None, None, None),
    ("CF-2026-000103", "VIPCO", "登录失败", "财务软件无法登录，提示密码错误", "财务软件 7.2 on Windows", None, None,
     "li@vip.example"),
    ("CF-2026-000104", "VIPCO", "Export fails", "file_name too long in C:\\data\\export", None, None, None, None),
    ("CF-2026-000105", "OTHER", "Slow month-end", "month end close takes hours", None, "Zhang", None, None),
    ("CF-2026-001010", "OTHER", "Ledger mismatch", "ledger off by 1_000", "Linux", None, "0755-1234", None),
]


@pytest.fixture
def cases(world):
    now = utcnow()
    made = {}
    for i, (number, code, title, description, environment, name, phone, mail) in enumerate(ROWS):
        case = Case(number=number, customer_id=world.customers[code].id, channel="web", title=title,
                    description=description, environment=environment, contact_name=name, contact_phone=phone,
                    contact_email=mail, created_at=now - timedelta(minutes=i))
        db.session.add(case)
        made[number] = case
    db.session.commit()
    return made


def _expected(text: str, customers: dict[str, tuple[str, str]]) -> set[str]:
    """What the search promises, in Python: a substring, case-insensitive, of a column or of the
    customer's name or code."""
    needle = text.strip().lower()
    found = set()
    for number, code, *columns in ROWS:
        values = [number, *columns, *customers[code]]
        if any(v is not None and needle in v.lower() for v in values):
            found.add(number)
    return found


QUERIES = ["CF-2026-000103", "cf-2026-0001", "000101", "printer", "JAMS", "tray jams after", "ERP 7.2",
           "登录", "财务软件", "无法登录，提示", "王磊", "021-6666", "li@vip", "acme", "Acme Ltd", "VIP", "other inc",
           "100%", "100%_", "%", "_", "1_000", "file_name", "file%name", "C:\\data", "\\", "month-end", "month end",
           "zeppelin", "a", "  Ledger  ", "of the totals"]


@pytest.mark.parametrize("text", QUERIES)
def test_search_finds_what_the_columns_contain(world, cases, text):
    customers = {code: (c.name, c.code) for code, c in world.customers.items()}
    user = world.user("agent1")
    found = {c.number for c in queries.list_cases(user, {"q": text}, 1, 100).items}
    assert found == _expected(text, customers)
    assert queries.list_cases(user, {"q": text}, 1, 100).total == len(found)


def test_the_expected_sets_are_not_trivial(world, cases):
    """The queries above do find something (and the wildcards alone find exactly what contains them)."""
    customers = {code: (c.name, c.code) for code, c in world.customers.items()}
    assert _expected("100%", customers) == {"CF-2026-000102"}
    assert _expected("file%name", customers) == set()
    assert _expected("1_000", customers) == {"CF-2026-001010"}
    assert _expected("登录", customers) == {"CF-2026-000103"}
    assert _expected("acme", customers) == {"CF-2026-000101", "CF-2026-000102"}


def test_a_customer_sees_only_their_cases_in_a_search(world, cases):
    customer = world.user("acme_user")
    assert {c.number for c in queries.list_cases(customer, {"q": "CF-2026"}, 1, 100).items} == \
        {"CF-2026-000101", "CF-2026-000102"}


def test_inbox_search_uses_the_same_conditions(world, cases):
    """The inbox filters tasks by the same text conditions (no task here: nothing matches, no error)."""
    user = world.user("supervisor")
    assert queries.list_tasks(user, "all", {"q": "登录"}, 1, 50).total == 0
