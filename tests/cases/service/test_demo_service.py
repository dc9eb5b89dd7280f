"""The demo data shows running the service: the catalogue, a repair booked and confirmed, a repair
done with its log and a remote session, internal tasks, maintenance schedules — and its report adds up."""
from __future__ import annotations

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case, User
from cases.demo import load as demo
from cases.service import report
from cases.service.visit_models import CatalogueItem, InternalTask, MaintenanceSchedule, Visit
from tests.conftest import FAST_HASH, PASSWORD


def test_the_demo_data_shows_the_service_work(app_ctx):
    demo.load(PASSWORD, FAST_HASH)
    assert len(db.session.scalars(select(CatalogueItem)).all()) == 4
    statuses = sorted(v.status for v in db.session.scalars(select(Visit)))
    assert statuses == ["confirmed", "done"]
    assert len(db.session.scalars(select(MaintenanceSchedule)).all()) == 2
    assert len(db.session.scalars(select(InternalTask)).all()) == 2
    case = db.session.scalar(select(Case).where(Case.title == "Invoice numbering configuration"))
    customer = db.session.scalar(select(User).where(User.username == "yuanhang"))
    built = report.build(customer, case.id)
    assert built.minutes == {report.ON_SITE: 90, report.REMOTE: 35, report.OTHER: 0}
