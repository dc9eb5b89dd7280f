"""What-if benchmark: replay a large history (cases/whatif) and split the time between reading and arithmetic.

A fresh database (SQLite in a temp file, or a throwaway PostgreSQL database on ``--pg-url``) is migrated
and filled with ``--cases`` support cases opened over ``--days`` days before now: customers (one in ten
VIP), a priority and category drawn as the demo data draws them, the built-in SLA policy's first-response
and resolution targets on their calendars (09:00-17:00 China working days, or 24x7 for urgent and high
VIP), a third of them paused a few hours waiting for the customer, one in ten still running. The stored
outcomes are computed with the clock's arithmetic (cases/sla/business_time.py), as the clock banks them.
Bulk inserts, not the use cases: driving 100,000 cases through the process would take hours, and the
replay only reads these rows.

Then, timed:

* ``control``  — ``runs.replay_period`` with no change (the control only), including the KPI report it
  is checked against;
* ``holiday``  — the same with a draft of the default calendar that adds a holiday (control + proposal);
* ``arithmetic`` — the replay of the same facts held in memory (no database): what the replay costs
  without reading, the comparison figure.

    .venv/bin/python bench/whatif.py [--cases 20000] [--days 90] [--backends sqlite,postgresql]

Progress goes to stderr; the last stdout line is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import create_engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cases.core import accounts
from cases.core.db import db
from cases.core.models import Case, CaseEvent, Customer, Task, User, utcnow
from cases.process.models import ProcessInstance, ProcessVersion
from cases.sla import business_time, calendars
from cases.sla import policies as sla_policies
from cases.sla.models import SlaPause, SlaTarget
from cases.whatif import history, runs
from cases.whatif.replay import World, elapsed_seconds, replay
from server import create_app

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SEED = 20261207
PRIORITIES = (("urgent", 1), ("high", 3), ("medium", 5), ("low", 2))
CATEGORIES = ("data_problem", "configuration_problem", "performance_problem", "consultation")
INSERT_CHUNK = 5000
#: every task of the agent lane least loaded, and agent0 off duty on Mondays
ASSIGNMENT = {"assignment": {"strategies": {"agent": "least_loaded"}, "rosters": {"agent0": {
    "timezone": "Asia/Shanghai", "shifts": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 7)]}}}}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pick(rng: random.Random, weighted) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


class Facts:
    """The generated history, row dictionaries ready for bulk inserts."""

    def __init__(self) -> None:
        self.cases: list[dict] = []
        self.targets: list[dict] = []
        self.pauses: list[dict] = []
        self.instances: list[dict] = []
        self.tasks: list[dict] = []
        self.events: list[dict] = []


def add_tasks(facts: Facts, rng: random.Random, i: int, opened: datetime, closed: datetime, version_id: int,
              agents: list[tuple[int, str]]) -> None:
    """Two tasks of the agent lane per case, as the support process opens them: Classify (the lane's pool,
    claimed by an agent an hour later at most) and Answer the consultation (least loaded), each with its
    task_created event. The recorded first holders are drawn at random, not by the strategy: the benchmark
    times the assignment replay; the control's equality is what the tests check."""
    facts.instances.append({"id": i, "case_id": i, "version_id": version_id, "process_id": "support_case",
                            "state": "{}", "serializer_version": "bench", "status": "completed", "lock_version": 1,
                            "created_at": opened, "updated_at": closed})
    classified = opened + timedelta(minutes=rng.randrange(5, 60))
    answered = max(closed, classified + timedelta(minutes=10))
    for element, name, start, end, holder in (
            ("classify", "Classify", opened, classified, None),
            ("answer_consultation", "Answer the consultation", classified, answered, agents[rng.randrange(len(agents))])):
        task_id = str(uuid.UUID(int=rng.getrandbits(128)))
        facts.tasks.append({"id": task_id, "case_id": i, "instance_id": i, "element_id": element, "name": name,
                            "lane": "agent", "also_roles": [], "state": "completed",
                            "assignee_id": holder[0] if holder else None, "created_at": start, "completed_at": end,
                            "version": 1})
        facts.events.append({"case_id": i, "at": start, "kind": "task_created", "public": False,
                             "data": {"task_id": task_id, "element": element, "name": name, "lane": "agent",
                                      "assignee": holder[1] if holder else None}})


def generate(n: int, days: int, now: datetime, customers: list[tuple[int, str]], owners: list[int],
             version_id: int, agents: list[tuple[int, str]]) -> Facts:
    rng, facts = random.Random(SEED), Facts()
    policy = sla_policies.BUILTIN
    start = now - timedelta(days=days)
    for i in range(1, n + 1):
        customer_id, tier = customers[rng.randrange(len(customers))]
        priority = _pick(rng, PRIORITIES)
        opened = start + timedelta(seconds=rng.randrange(days * 86400 - 86400))
        opened = opened.replace(microsecond=0)
        facts.cases.append({"id": i, "number": f"CF-B-{i:07d}", "customer_id": customer_id, "channel": "web",
                            "title": "bench", "description": "bench", "category": rng.choice(CATEGORIES),
                            "priority": priority, "owner_id": rng.choice(owners), "stage": "closed",
                            "status": "closed", "kind": "support", "created_at": opened, "updated_at": opened,
                            "tier_at_open": tier, "reopen_count": 0})
        pauses = []
        running = rng.random() < 0.1  # a running target's stored due time assumes no pause (the clock's would move)
        if not running and rng.random() < 0.37:
            p_start = opened + timedelta(hours=rng.uniform(2, 30))
            p_end = p_start + timedelta(hours=rng.uniform(1, 40))
            pauses.append((p_start.replace(microsecond=0), p_end.replace(microsecond=0)))
            facts.pauses.append({"case_id": i, "reason": "waiting:customer_reply", "started_at": pauses[0][0],
                                 "ended_at": pauses[0][1]})
        for spec in policy.targets_for(priority, tier, opened):
            if spec.kind == "next_update":
                continue
            calendar = calendars.BUILTIN[spec.calendar]
            factor = rng.uniform(0.1, 1.4) if spec.kind == "first_response" else rng.uniform(0.2, 1.3)
            met = business_time.add(calendar, opened, timedelta(minutes=spec.minutes * factor)).replace(microsecond=0)
            if spec.kind == "resolution" and pauses:
                met = max(met, pauses[0][1] + timedelta(hours=1))
            total = spec.minutes * 60
            row = {"case_id": i, "kind": spec.kind, "cycle": 1, "policy_version": 0, "calendar": spec.calendar,
                   "target_minutes": spec.minutes, "extended_minutes": 0, "warning_percent": policy.warning_percent,
                   "manager_after_minutes": policy.manager_after_minutes, "started_at": opened}
            if running and spec.kind == "resolution" and met > now:
                row.update(state="running", elapsed_seconds=0, running_since=opened, met_at=None, breached_at=None,
                           due_at=business_time.add(calendar, opened, timedelta(seconds=total)))
            else:
                from_pauses = [history.PauseFacts("x", s, e) for s, e in pauses]
                spent = elapsed_seconds(calendar, opened, met, from_pauses)
                row.update(state="met", elapsed_seconds=spent, running_since=None, met_at=met,
                           breached_at=met if spent > total else None, due_at=None)
            facts.targets.append(row)
        closed = max((t["met_at"] for t in facts.targets[-2:] if t["case_id"] == i and t["met_at"]), default=now)
        add_tasks(facts, rng, i, opened, min(closed, now), version_id, agents)
    return facts


def _bulk(table, rows: list[dict]) -> None:
    for i in range(0, len(rows), INSERT_CHUNK):
        db.session.execute(insert(table), rows[i:i + INSERT_CHUNK])


def fill(n: int, days: int, now: datetime) -> None:
    for i in range(40):
        db.session.add(Customer(code=f"C{i:03d}", name=f"Customer {i}", tier="vip" if i % 10 == 0 else "standard"))
    db.session.commit()
    accounts.create_user("manager", "bench", ["manager"], hash_method="pbkdf2:sha256:1000")
    owners = []
    for i in range(12):
        owners.append(accounts.create_user(f"consultant{i}", "bench", ["service_consultant"],
                                           hash_method="pbkdf2:sha256:1000").id)
    agents = [(accounts.create_user(f"agent{i}", "bench", ["agent"], hash_method="pbkdf2:sha256:1000").id, f"agent{i}")
              for i in range(8)]
    files = {p.name: p.read_text() for p in sorted((ROOT / "processes").iterdir()) if p.suffix in (".bpmn", ".dmn")}
    version = ProcessVersion(content_hash="bench", process_ids=["support_case"], files=files, forms={}, spec_json="",
                             serializer_version="bench")
    db.session.add(version)
    db.session.commit()
    customers = [(c.id, c.tier) for c in db.session.scalars(select(Customer))]
    t = time.perf_counter()
    facts = generate(n, days, now, customers, owners, version.id, agents)
    log(f"  generated {n} cases, {len(facts.targets)} targets, {len(facts.pauses)} pauses "
        f"in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    _bulk(Case.__table__, facts.cases)
    _bulk(SlaTarget.__table__, facts.targets)
    _bulk(SlaPause.__table__, facts.pauses)
    _bulk(ProcessInstance.__table__, facts.instances)
    _bulk(Task.__table__, facts.tasks)
    _bulk(CaseEvent.__table__, facts.events)
    db.session.commit()
    with db.engine.connect() as conn:  # the statistics a live database has (autovacuum would gather them later)
        conn.execute(text("ANALYZE"))
        conn.commit()
    log(f"  inserted in {time.perf_counter() - t:.1f} s")


CPU: dict[str, float] = {}


def timed(label: str, fn) -> tuple[float, Any]:
    """Wall seconds (and, in CPU, this process's CPU seconds: on a shared machine the wall time also
    counts the time other processes had the cores)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    CPU[label] = round(cpu, 2)
    log(f"  {label}: {seconds:.2f} s (CPU {cpu:.2f} s; load {os.getloadavg()[0]:.2f})")
    return seconds, out


def run_backend(name: str, url: str, n: int, days: int) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        now = utcnow().replace(microsecond=0)
        fill(n, days, now)
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        today = now.astimezone(calendars.BUILTIN[calendars.DEFAULT].tz).date()
        first, last = today - timedelta(days=days + 1), today
        holiday = (today - timedelta(days=days // 2))
        while holiday.weekday() >= 5:
            holiday -= timedelta(days=1)
        proposal = {"calendars": {"default": {"extra_holidays": [holiday.isoformat()]}}}
        control_s, control = timed("control", lambda: runs.replay_period(manager, first, last, {}, now=now))
        holiday_s, result = timed("holiday", lambda: runs.replay_period(manager, first, last, proposal, now=now))
        assert control["cases"] == n and control["control"]["equal"], control["control"]["mismatches"][:3]
        assert result["control"]["equal"]
        assignment_s, assigned = timed("assignment", lambda: runs.replay_period(manager, first, last, ASSIGNMENT,
                                                                                now=now))
        moved = assigned["assignment"]["moved"]["tasks"]
        with history.reading(app.config) as conn:
            read_s, cases = timed("read only", lambda: [c for b in history.batches(
                conn, *(datetime.combine(d, datetime.min.time(), calendars.BUILTIN["default"].tz)
                        for d in (first, last + timedelta(days=1)))) for c in b])
            known = history.stored_calendars(conn)
        world = World(known)
        arithmetic_s, _ = timed("arithmetic (in memory)", lambda: [replay(world, c, now) for c in cases])
        db.session.remove()
        db.engine.dispose()
    return {"backend": name, "cases": n, "targets": sum(len(c.targets) for c in cases),
            "control_seconds": round(control_s, 2), "holiday_seconds": round(holiday_s, 2),
            "read_seconds": round(read_s, 2), "arithmetic_seconds": round(arithmetic_s, 2),
            "control_cases_per_second": round(n / control_s), "holiday_cases_per_second": round(n / holiday_s),
            "holiday_changed_cases": result["changed"]["cases"],
            "assignment_seconds": round(assignment_s, 2), "assignment_tasks": assigned["assignment"]["tasks"],
            "assignment_moved_tasks": moved, "cpu_seconds": dict(CPU),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "extrapolated_100k_holiday_seconds": round(holiday_s * 100_000 / n, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    figures: dict[str, Any] = {"cases": args.cases, "days": args.days, "backends": {}}
    status = 0
    for backend in args.backends.split(","):
        log(f"{backend}: {args.cases} cases over {args.days} days")
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                figures["backends"]["sqlite"] = run_backend("sqlite", f"sqlite:///{tmp}/bench.db", args.cases, args.days)
        elif backend == "postgresql":
            pg = args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
            name = f"cf_bench_{uuid.uuid4().hex[:8]}"
            try:
                admin = create_engine(pg, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception as exc:
                log(f"  postgresql skipped: {type(exc).__name__}")
                figures["backends"]["postgresql"] = {"skipped": type(exc).__name__}
                continue
            try:
                figures["backends"]["postgresql"] = run_backend("postgresql", pg.rsplit("/", 1)[0] + f"/{name}",
                                                                args.cases, args.days)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            log(f"unknown backend {backend}")
            status = 1
    for name, f in figures["backends"].items():
        if "skipped" not in f:
            print(f"{name}: {f['cases']} cases: control {f['control_seconds']} s ({f['control_cases_per_second']}/s), "
                  f"holiday {f['holiday_seconds']} s ({f['holiday_cases_per_second']}/s; read {f['read_seconds']} s, "
                  f"arithmetic {f['arithmetic_seconds']} s); assignment {f['assignment_seconds']} s "
                  f"({f['assignment_tasks']} tasks); 100,000 cases ≈ {f['extrapolated_100k_holiday_seconds']} s")
    print(json.dumps(figures))
    return status


if __name__ == "__main__":
    sys.exit(main())
