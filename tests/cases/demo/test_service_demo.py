"""The demo data shows a major incident with its linked cases and update, and a known problem."""
from __future__ import annotations

from sqlalchemy import func, select

from cases.core.db import db
from cases.process.models import Timer
from cases.service import major_incidents
from cases.service.models import KnownProblem, MajorIncident
from server.cli import main


def test_the_demo_has_a_major_incident_and_a_known_problem(app, app_ctx):
    result = app.test_cli_runner().invoke(main, args=["demo-data", "--password", "pw"])
    assert result.exit_code == 0, result.output
    [incident] = db.session.scalars(select(MajorIncident)).all()
    assert incident.is_open and len(major_incidents.linked(incident)) == 2
    assert {u.username for u in major_incidents.team(incident)} == {"consultant1", "consultant2", "supervisor"}
    [update] = major_incidents.updates(incident)
    assert sorted(r["customer"] for r in update.reached) == ["HUAXIN", "YUANHANG"]
    # its process runs: its own internal case, the lead's task open, the ladder waiting, the first response met
    own = incident.process_case
    assert (own.kind, own.status, own.owner.username) == ("major_incident", "open", "supervisor")
    task = major_incidents.work_task(incident)
    assert task is not None and task.assignee.username == "supervisor"
    assert db.session.scalar(select(func.count()).select_from(Timer).where(Timer.case_id == own.id)) == 6
    assert {t["kind"]: t["met_at"] is not None for t in incident.sla} == {"first_response": True, "resolution": False}
    assert incident.escalations == []
    known = db.session.scalar(select(KnownProblem))
    assert known is not None and known.article is not None and known.article.status == "published"
