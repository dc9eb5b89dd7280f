"""The scheduler process: one per installation, separate from the web workers.

Jobs are declared here with stable ids. The timer job polls the ``timers`` table, so a restart
loses nothing: whatever came due while the scheduler was down fires on its first run.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from cases import timers

log = logging.getLogger("caseflow.scheduler")


def _in_app(app: Flask, fn: Callable[[], object]) -> Callable[[], None]:
    def job() -> None:
        with app.app_context():
            result = fn()
            if result:
                log.info("%s: %s", fn.__name__, result)

    job.__name__ = fn.__name__
    return job


def jobs(app: Flask) -> list[dict]:
    """The declarative job list."""
    return [
        {"id": "fire-due-timers", "func": _in_app(app, timers.fire_due), "trigger": "interval",
         "seconds": app.config["TIMER_POLL_SECONDS"]},
    ]


def build(app: Flask, scheduler_class=BlockingScheduler):
    scheduler = scheduler_class(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                              "misfire_grace_time": None})
    for spec in jobs(app):
        spec = dict(spec)
        scheduler.add_job(spec.pop("func"), id=spec.pop("id"), replace_existing=True, **spec)
    return scheduler
