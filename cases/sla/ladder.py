"""An escalation ladder of any number of rungs.

A policy may draw its own ladder: rungs at a percentage of the target (``at_percent``, 1-100) or
an offset after the breach (``after_breach_minutes``, business minutes on the target's calendar),
each naming who is told (``notify``: ``case_owner``, ``supervisor``, ``manager`` or any role):

    [{"name": "half", "at_percent": 50, "notify": "case_owner"},
     {"name": "three_quarters", "at_percent": 75, "notify": "supervisor"},
     {"name": "breach", "at_percent": 100, "notify": "supervisor"},
     {"name": "manager", "after_breach_minutes": 120, "notify": "manager"},
     {"name": "director", "after_breach_minutes": 480, "notify": "admin"}]

Without one, the ladder is warning (``warning_percent``), breach (100 %) and manager
(``manager_after_minutes`` after the breach), told as the diagram's ``sla_escalate`` says.
A rung before 100 % is a warning (mail template and event ``sla_warning``), the 100 % rung the
breach (``sla_breach``), a rung after it a further escalation (``sla_manager``); rungs after the
breach are skipped once a supervisor handled the breach.
"""
from __future__ import annotations

import re
from typing import Any

from cases.core.models import Role

NAME = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
MAX_RUNGS = 12
MAX_MINUTES = 365 * 24 * 60
NOTIFY = ("case_owner", "supervisor", "manager", *(r.value for r in Role if r != Role.CUSTOMER))
WARNING, BREACH, AFTER = "warning", "breach", "manager"


def check(value: Any, problems: list[dict]) -> list[dict] | None:
    """The ladder as stored (rungs in order: by percentage, then by offset after the breach), or
    None; each problem is added as {field, message}, e.g. ``ladder.2.at_percent``."""
    if value is None:
        return None
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RUNGS:
        problems.append({"field": "ladder", "message": f"a list of 1 to {MAX_RUNGS} rungs"})
        return None
    rungs, names = [], set()
    for i, rung in enumerate(value):
        where = f"ladder.{i}"
        if not isinstance(rung, dict):
            problems.append({"field": where, "message": 'a rung is {"name", "at_percent" or "after_breach_minutes", '
                                                        '"notify"}'})
            continue
        for key in sorted(set(rung) - {"name", "at_percent", "after_breach_minutes", "notify"}):
            problems.append({"field": f"{where}.{key}", "message": "unknown field"})
        name = rung.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            problems.append({"field": f"{where}.name", "message": "1-20 lower-case letters, digits, '_'"})
        elif name in names:
            problems.append({"field": f"{where}.name", "message": f"a second rung named {name}"})
        names.add(name)
        percent, minutes = rung.get("at_percent"), rung.get("after_breach_minutes")
        if (percent is None) == (minutes is None):
            problems.append({"field": where, "message": "give either at_percent or after_breach_minutes"})
        elif percent is not None and not (type(percent) is int and 1 <= percent <= 100):
            problems.append({"field": f"{where}.at_percent", "message": "a whole percentage from 1 to 100"})
        elif minutes is not None and not (type(minutes) is int and 1 <= minutes <= MAX_MINUTES):
            problems.append({"field": f"{where}.after_breach_minutes",
                             "message": f"a whole number of business minutes from 1 to {MAX_MINUTES}"})
        if rung.get("notify") not in NOTIFY:
            problems.append({"field": f"{where}.notify", "message": f"one of: {', '.join(NOTIFY)}"})
        rungs.append({"name": name, "notify": rung.get("notify"),
                      **({"at_percent": percent} if percent is not None else {"after_breach_minutes": minutes})})
    for key in ("at_percent", "after_breach_minutes"):
        moments = [r[key] for r in rungs if key in r]
        if len(moments) != len(set(moments)):
            problems.append({"field": "ladder", "message": f"two rungs at the same {key.replace('_', ' ')}"})
    return sorted(rungs, key=order)


def order(rung: dict) -> tuple:
    return ("at_percent" not in rung, rung.get("at_percent") or rung.get("after_breach_minutes") or 0)


def kind_of(rung: dict) -> str:
    """warning (before 100 %), breach (at 100 %) or manager (after the breach)."""
    if "after_breach_minutes" in rung:
        return AFTER
    return BREACH if rung["at_percent"] >= 100 else WARNING


def default(warning_percent: int, manager_after_minutes: int) -> list[dict]:
    """The ladder of a policy that draws none (who is told: the diagram's sla_escalate parameters)."""
    return [{"name": WARNING, "at_percent": warning_percent}, {"name": BREACH, "at_percent": 100},
            {"name": AFTER, "after_breach_minutes": manager_after_minutes}]
