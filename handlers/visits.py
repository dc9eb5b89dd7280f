"""The steps of the visit and maintenance processes (processes/service_visit.bpmn,
processes/maintenance_schedule.bpmn): reading where an appointment or a schedule stands, reminding
the customer the day before, writing the repair log, opening a maintenance date's internal task. The
visits and the schedules (cases/service/visits.py, visits_due.py, maintenance.py) do them."""
from __future__ import annotations

from typing import Any

from engine.errors import HandlerError
from handlers import Services, operation


def _id(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise HandlerError("bad_parameter", f"this step needs the process variable {name!r} (a number)")
    return value


@operation("visit_state")
def visit_state(ctx: Services, visit_id: Any = None) -> dict[str, Any]:
    """Where the appointment stands: ``status``, whether the reminder is still to be sent (``remind``)
    and when (``reminder_at``), and the end of the window (``window_end``)."""
    return ctx.visit_state(_id("visit_id", visit_id))


@operation("visit_reminder")
def visit_reminder(ctx: Services, visit_id: Any = None) -> dict[str, Any]:
    """Remind the customer (and the technician) of tomorrow's visit, once: ``sent``."""
    return ctx.visit_reminder(_id("visit_id", visit_id))


@operation("write_repair_log")
def write_repair_log(ctx: Services, visit_id: Any = None, arrived_at: Any = None, minutes: Any = None, parts: Any = None,
                  result: Any = None, notes: Any = None) -> dict[str, Any]:
    """Write the "Record the repair" form into the visit's repair log (the visit is done): ``log_id``."""
    return ctx.write_repair_log(_id("visit_id", visit_id), arrived_at, minutes, parts, result, notes)


@operation("maintenance_state")
def maintenance_state(ctx: Services, schedule_id: Any = None) -> dict[str, Any]:
    """Whether the schedule is ``active`` and the moment of its next date (``due_at``)."""
    return ctx.maintenance_state(_id("schedule_id", schedule_id))


@operation("open_maintenance_task")
def open_maintenance_task(ctx: Services, schedule_id: Any = None) -> dict[str, Any]:
    """Open the internal task of each schedule date come (``opened``) and move ``next_due`` on."""
    return ctx.open_maintenance_task(_id("schedule_id", schedule_id))
