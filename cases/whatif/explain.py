"""Why one case's outcome differs under a proposal: per target, the promise, the calendar, the
business time used, the pauses and the days whose working hours differ, as structured reasons
(``code`` + values, which the pages translate) and an English sentence."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cases.whatif.history import CaseFacts, TargetFacts
from cases.whatif.replay import World, outcome, stretches
from cases.whatif.results import TIMEZONE, verdict

MAX_DAYS = 14  # differing days listed per target


def _days(world_a: World, cal_a: str, world_b: World, cal_b: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    a, b = world_a.calendar(cal_a), world_b.calendar(cal_b)
    day, last = start.astimezone(TIMEZONE).date(), end.astimezone(TIMEZONE).date()
    found: list[dict[str, Any]] = []
    while day <= last and len(found) < MAX_DAYS:
        hours_a, hours_b = a.hours_on(day), b.hours_on(day)
        if hours_a != hours_b:
            minutes = [sum(((e - s) for s, e in cal.intervals_on(day)), timedelta()) // timedelta(minutes=1)
                       for cal in (a, b)]
            found.append({"date": day.isoformat(), "before_minutes": minutes[0], "after_minutes": minutes[1],
                          "holiday": b.is_holiday(day) and not a.is_holiday(day)})
        day += timedelta(days=1)
    return found


def _target(case: CaseFacts, target: TargetFacts, control: World, proposal: World, now: datetime) -> dict[str, Any]:
    before, after = outcome(control, case, target, now), outcome(proposal, case, target, now)
    end = target.met_at if target.state == "met" and target.met_at else now
    reasons: list[dict[str, Any]] = []
    if before.minutes != after.minutes:
        reasons.append({"code": "target_changed", "before": before.minutes, "after": after.minutes})
    if before.calendar != after.calendar:
        reasons.append({"code": "calendar_changed", "before": before.calendar, "after": after.calendar})
    if after.state != "not_replayed":
        days = _days(control, before.calendar, proposal, after.calendar, target.started_at, end)
        if days:
            reasons.append({"code": "hours_differ", "days": days})
    if before.elapsed_seconds != after.elapsed_seconds:
        reasons.append({"code": "business_time", "before_minutes": round(before.elapsed_seconds / 60, 1),
                        "after_minutes": round(after.elapsed_seconds / 60, 1)})
    running = stretches(target.started_at, end, case.pauses)
    for pause in case.pauses:
        p_start, p_end = max(pause.started_at, target.started_at), min(pause.ended_at or end, end)
        if p_end > p_start:
            reasons.append({"code": "paused", "reason": pause.reason,
                            "minutes": round((p_end - p_start) / timedelta(minutes=1), 1)})
    if after.state == "not_replayed":
        reasons.append({"code": "promise_not_made"})
    return {"kind": target.kind, "cycle": target.cycle, "started_at": target.started_at.isoformat(),
            "ended_at": end.isoformat() if target.state == "met" else None, "state": target.state,
            "before": verdict(before), "after": verdict(after), "changed": verdict(before) != verdict(after),
            "before_minutes": before.minutes, "after_minutes": after.minutes,
            "before_calendar": before.calendar, "after_calendar": after.calendar,
            "running_stretches": len(running), "reasons": reasons, "text": sentence(target.kind, before, after,
                                                                                   reasons)}


def sentence(kind: str, before: Any, after: Any, reasons: list[dict[str, Any]]) -> str:
    a, b = verdict(before), verdict(after)
    head = f"{kind.replace('_', ' ')}: {a.replace('_', ' ')}" + (
        f", {b.replace('_', ' ')} under the proposal" if a != b else ", the same under the proposal")
    parts = []
    for r in reasons:
        code = r["code"]
        if code == "target_changed":
            parts.append(f"the target is {r['after']} minutes instead of {r['before']}")
        elif code == "calendar_changed":
            parts.append(f"it counts on the calendar {r['after']} instead of {r['before']}")
        elif code == "hours_differ":
            days = ", ".join(f"{d['date']} ({d['before_minutes']} → {d['after_minutes']} working minutes"
                             f"{'; a holiday' if d['holiday'] else ''})" for d in r["days"])
            parts.append(f"the proposed calendar's hours differ on {days}")
        elif code == "business_time":
            parts.append(f"{r['after_minutes']} business minutes used instead of {r['before_minutes']}")
        elif code == "paused":
            parts.append(f"paused {r['minutes']} min ({r['reason']})")
        elif code == "promise_not_made":
            parts.append("the proposal makes no such promise")
    return head + (" because " + "; ".join(parts) if parts else "") + "."


def explain(case: CaseFacts, control: World, proposal: World, now: datetime) -> dict[str, Any]:
    targets = [_target(case, t, control, proposal, now) for t in case.targets]
    return {"case": case.number, "opened_at": case.created_at.isoformat(), "priority": case.priority,
            "category": case.category, "tier": case.tier, "tier_source": case.tier_source, "agent": case.owner,
            "team": case.team, "computed_at": now.isoformat(),
            "pauses": [{"reason": p.reason, "started_at": p.started_at.isoformat(),
                        "ended_at": p.ended_at.isoformat() if p.ended_at else None} for p in case.pauses],
            "targets": targets, "changed": any(t["changed"] for t in targets)}
