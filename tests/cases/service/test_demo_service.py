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


def test_the_demos_visits_and_schedules_run_their_processes_and_the_first_scheduler_run_fires_nothing(app_ctx):
    """Loaded consistent: the confirmed visit and the schedules wait for future moments; the visit done
    last week has no process (nothing of it is due); so the first run sends no reminder, opens no task."""
    from cases.core.models import CaseEvent, utcnow
    from cases.process import timers
    from cases.process.models import Timer
    from cases.service import due

    demo.load(PASSWORD, FAST_HASH)
    visits = {v.status: v for v in db.session.scalars(select(Visit))}
    assert visits["done"].process_case_id is None
    assert visits["confirmed"].process_case.kind == "visit"
    schedules = db.session.scalars(select(MaintenanceSchedule)).all()
    assert {s.process_case.kind for s in schedules} == {"maintenance"}
    waiting = db.session.scalars(select(Timer.due_at).where(Timer.case_id.in_(
        [visits["confirmed"].process_case_id, *(s.process_case_id for s in schedules)]))).all()
    assert len(waiting) == 3 and min(waiting) > utcnow()
    db.session.commit()
    report = due.run()
    assert (report.visits_started, report.schedules_started) == ([], [])
    timers.fire_due()
    assert db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "visit_reminder")) is None
    assert len(db.session.scalars(select(InternalTask)).all()) == 2  # the demo's own, none opened
