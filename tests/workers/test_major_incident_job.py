"""The scheduler escalates open major incidents every minute (cases/service/major_incidents.py)."""
from __future__ import annotations

from workers import scheduler as scheduling


def test_the_scheduler_runs_the_major_incident_ladder(app):
    built = scheduling.build(app)
    [job] = [j for j in built.aps.get_jobs() if j.id == scheduling.INCIDENT_JOB]
    assert job.trigger.interval.total_seconds() == 60
