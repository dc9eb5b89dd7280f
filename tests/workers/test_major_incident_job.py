"""A major incident's ladder is its process's timers (processes/major_incident.bpmn), fired by the
timer job like any other: the scheduler has no job of its own for it any more (one mechanism); the
service job starts the process of incidents declared before it was deployed."""
from __future__ import annotations

from workers import scheduler as scheduling


def test_the_ladder_has_no_scheduler_job_of_its_own(app):
    built = scheduling.build(app)
    ids = {j.id for j in built.aps.get_jobs()}
    assert "escalate-major-incidents" not in ids
    assert {scheduling.TIMER_JOB, scheduling.SERVICE_JOB} <= ids
