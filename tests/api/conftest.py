"""Fixtures the API tests of more than one file share (the database, the app and the users are in
tests/conftest.py)."""
from __future__ import annotations

from datetime import date

import pytest

from cases.core.db import db
from cases.customers.models import InstalledProduct


@pytest.fixture
def installation(world):
    """ACME's installed product (maintenance schedules and visits are per installation)."""
    row = InstalledProduct(customer_id=world.customers["ACME"].id, product="财务软件", product_version="7.2",
                           installed_on=date(2025, 1, 1))
    db.session.add(row)
    db.session.commit()
    return row
