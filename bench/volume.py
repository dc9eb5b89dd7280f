"""Reading at volume: inboxes, case search, the escalation queue and the KPIs with many cases.

A throwaway PostgreSQL database (``cf_bench_<random>`` on ``--pg-url``) is migrated, the processes
deployed and the demo data loaded with the real ``caseflow`` commands; then ``--cases`` open and as
many closed support cases are added in bulk through the model's tables (``Case.__table__`` …): each
with its process instance row, its task rows (an open case: classify and assign completed, one open
task — the owner's resolve, an agent's pooled or assigned step, or a customer's confirmation;
a closed case: five completed), its history (6 events open, 12 closed) and its SLA targets (first
response met; the resolution running — one in ten breached, one in ten at risk — or met). Cases are
spread over the last 200 days, over the demo customers, priorities, categories and channels.
After loading, ``VACUUM ANALYZE`` (what autovacuum does to a database in service: statistics, and
the visibility map that index-only scans need).

Then every read is timed through the Flask app (the WSGI stack gunicorn runs, in this process, one
thread), ``--repeat`` times each after a warm-up, with the statements it sends:

    inbox_mine, inbox_claimable, inbox_all   GET /api/v1/tasks?scope=…&per_page=50 (agent1; all: supervisor)
    search_number, search_customer, search_text   GET /api/v1/cases?q=<number> | ?customer_id= | ?q=<word>
    escalations                               GET /api/v1/escalations (supervisor)
    kpis_quarter                              GET /api/v1/kpis?from=…&to=… (a quarter, manager)

``--sizes 1000,100000`` loads up to each size in turn and measures at each, so the growth from the
first size to the last is one run. Each read's SELECTs are then run again under ``EXPLAIN (ANALYZE,
BUFFERS)``: ``pages`` is the shared buffers they touched (hit + read; what the load of a shared
machine does not change, so its growth is the figure to compare), ``server_ms`` their execution time
in the server; ``--explain FILE`` writes the plans at the last size. The machine is shared: besides
wall-clock p50/p99 each read reports its CPU time (this thread) and statement count.

    .venv/bin/python bench/volume.py --sizes 1000                 # quick (under a minute)
    .venv/bin/python bench/volume.py --sizes 1000,100000 --explain bench/volume-explain.txt
    .venv/bin/python bench/volume.py --sizes 100000 --database cf_volume   # keep the load for the next run

``--database NAME`` keeps the cases in that database on ``--pg-url``'s server instead of a throwaway
one: the first run creates and loads it, a later run only migrates it (``caseflow db upgrade`` of the
tree this file is in) and loads what is missing, so a before/after pair reads the same rows (copy it
with ``CREATE DATABASE b TEMPLATE a`` to give each tree its own).

The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import lifecycle as lc  # the sibling benchmark: databases, demo users

WORDS = ("report", "invoice", "login", "export", "printer", "backup", "ledger", "payroll", "sync", "license",
         "timeout", "database", "upgrade", "month-end", "tax", "inventory", "crash", "slow", "error", "screen")
CATEGORIES = ("data_problem", "bug", "consultation", "installation", "hardware", "account")
PRIORITIES = ("low", "medium", "medium", "high", "urgent")
CHANNELS = ("web", "phone", "mail", "chat")
RARE_WORD = "zeppelin"  # in one case in 500: the text search has something to find
DAYS = 200


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))], 2)


class Recorder:
    """The statements this thread sends (with their parameters, for EXPLAIN)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def on_execute(self, _conn, _cursor, statement, params, _context, _many) -> None:
        log = getattr(self.local, "log", None)
        if log is not None:
            log.append((statement, params))

    def start(self) -> None:
        self.local.log = []

    def stop(self) -> list[tuple[str, Any]]:
        log, self.local.log = self.local.log, None
        return log


# -- the data ------------------------------------------------------------------------------------

class Loader:
    """Bulk rows through the model's tables, continuing from what is there."""

    def __init__(self, db, seed: int = 16):
        from cases.core.models import Customer, Role, User, UserRole
        from cases.process.models import ProcessInstance, ProcessVersion

        self.db, self.rng = db, random.Random(seed)
        session = db.session
        self.customers = [c.id for c in session.scalars(db.select(Customer).order_by(Customer.id))]
        self.users = {u.username: u.id for u in session.scalars(db.select(User))}
        by_role: dict[str, list[int]] = {}
        for user_id, role in session.execute(db.select(UserRole.user_id, UserRole.role)):
            by_role.setdefault(role, []).append(user_id)
        self.agents = sorted(by_role.get(Role.AGENT.value, []))
        self.consultants = sorted(by_role.get(Role.SERVICE_CONSULTANT.value, []))
        version = session.scalars(db.select(ProcessVersion).order_by(ProcessVersion.activated_at.desc())).first()
        self.version_id = version.id
        # pairs already there (a kept database): bulk instances are marked by their serializer
        bulk = session.scalar(db.select(db.func.count()).select_from(ProcessInstance)
                              .where(ProcessInstance.serializer_version == "bulk"))
        self.loaded = (bulk or 0) // 2

    def _next_ids(self) -> dict[str, int]:
        from sqlalchemy import func

        from cases.core.models import Case, CaseEvent
        from cases.process.models import ProcessInstance
        from cases.sla.models import SlaTarget

        session = self.db.session
        return {name: (session.scalar(self.db.select(func.max(model.id))) or 0) + 1
                for name, model in (("case", Case), ("instance", ProcessInstance), ("event", CaseEvent),
                                    ("target", SlaTarget))}

    def load(self, pairs: int, now: datetime, chunk: int = 2000) -> float:
        """``pairs`` open and ``pairs`` closed cases more; returns the seconds it took."""
        started = time.perf_counter()
        done = 0
        while done < pairs:
            n = min(chunk, pairs - done)
            self._load_chunk(n, now)
            done += n
        self.loaded += pairs
        self._reset_sequences()
        # VACUUM as well as ANALYZE: a database in service has its tables vacuumed by autovacuum
        # (inserts too, PostgreSQL 13+), which sets the visibility map that index-only scans (the
        # inbox totals, the escalation queue's) rely on; 200,000 cases bulk-loaded in minutes have
        # not been yet
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        return time.perf_counter() - started

    def _load_chunk(self, pairs: int, now: datetime) -> None:
        from cases.core.models import Case, CaseEvent, Task
        from cases.process.models import ProcessInstance
        from cases.sla.models import SlaTarget

        ids = self._next_ids()
        rows: dict[str, list[dict]] = {"cases": [], "instances": [], "tasks": [], "events": [], "targets": []}
        for i in range(2 * pairs):
            self._one_case(ids, i % 2 == 1, now, rows)
        with self.db.engine.begin() as conn:
            for table, key in ((Case.__table__, "cases"), (ProcessInstance.__table__, "instances"),
                               (Task.__table__, "tasks"), (CaseEvent.__table__, "events"),
                               (SlaTarget.__table__, "targets")):
                conn.execute(table.insert(), rows[key])

    def _one_case(self, ids: dict[str, int], closed: bool, now: datetime, rows: dict[str, list[dict]]) -> None:
        rng = self.rng
        case_id = ids["case"]
        ids["case"] += 1
        instance_id = ids["instance"]
        ids["instance"] += 1
        created = now - timedelta(days=rng.uniform(0.2, DAYS))
        closed_at = min(now, created + timedelta(hours=rng.uniform(2, 120))) if closed else None
        words = rng.sample(WORDS, 3) + ([RARE_WORD] if rng.random() < 0.002 else [])
        owner = rng.choice(self.consultants) if self.consultants else None
        priority, category = rng.choice(PRIORITIES), rng.choice(CATEGORIES)
        stage = "closed" if closed else rng.choice(("resolution", "assignment", "classification"))
        rows["cases"].append({
            "id": case_id, "number": f"CF-{created:%Y}-{case_id:06d}", "customer_id": rng.choice(self.customers),
            "channel": rng.choice(CHANNELS), "title": " ".join(words).capitalize(),
            "description": f"The {words[0]} fails with {words[1]} after the {words[2]} step. " * 3,
            "environment": "Windows 10, SQL Server 2017", "category": category, "priority": priority,
            "owner_id": owner, "due_at": created + timedelta(days=3), "stage": stage,
            "status": "closed" if closed else "open", "created_at": created, "updated_at": closed_at or created,
            "closed_at": closed_at, "kind": "support", "reopen_count": 0, "tier_at_open": "standard",
            "satisfaction": rng.choice((None, 3, 4, 5)) if closed else None,
            "solution": "fixed" if closed else None})
        rows["instances"].append({
            "id": instance_id, "case_id": case_id, "version_id": self.version_id, "process_id": "support_case",
            "state": "{}", "serializer_version": "bulk", "status": "completed" if closed else "running",
            "lock_version": 1, "created_at": created, "updated_at": closed_at or created})
        steps = ["classify", "assign", "resolve", "confirm", "callback"] if closed else ["classify", "assign"]
        at = created
        events = [("case_opened", True, {"number": f"CF-{created:%Y}-{case_id:06d}"})]
        for element in steps:
            done_at = at + timedelta(minutes=rng.uniform(5, 600))
            worker = rng.choice(self.agents) if self.agents else None
            rows["tasks"].append(self._task(case_id, instance_id, element, "completed", worker, at, done_at))
            events += [("task_created", False, {"element": element}), ("task_completed", False, {"element": element})]
            at = done_at
        if not closed:
            kind = rng.random()
            if kind < 0.5:
                element, lane, assignee = "resolve", "service_consultant", owner
            elif kind < 0.8:
                element, lane, assignee = "assign", "agent", None  # pooled: claimable by agents
            elif kind < 0.9:
                element, lane, assignee = "classify", "agent", rng.choice(self.agents) if self.agents else None
            else:
                element, lane, assignee = "confirm", "customer", None
            rows["tasks"].append(self._task(case_id, instance_id, element, "open", assignee, at, None, lane))
            events.append(("task_created", False, {"element": element}))
        events.append(("stage_changed", True, {"new": stage}))
        if closed:
            events.append(("case_closed", True, {}))
        for kind, public, data in events:
            rows["events"].append({"id": ids["event"], "case_id": case_id, "at": at, "actor_id": None,
                                   "kind": kind, "public": public, "data": data})
            ids["event"] += 1
        first_met = created + timedelta(minutes=rng.uniform(5, 300))
        rows["targets"].append(self._target(ids, case_id, "first_response", created, 240, "met", first_met, None))
        if closed:
            rows["targets"].append(self._target(ids, case_id, "resolution", created, 960, "met", closed_at, None))
        else:
            roll = rng.random()
            due = now - timedelta(hours=rng.uniform(1, 48)) if roll < 0.1 else \
                now + timedelta(minutes=rng.uniform(5, 100)) if roll < 0.2 else now + timedelta(days=rng.uniform(1, 9))
            rows["targets"].append(self._target(ids, case_id, "resolution", created, 960, "running", None, due))

    def _task(self, case_id: int, instance_id: int, element: str, state: str, assignee: int | None,
              created: datetime, completed: datetime | None, lane: str | None = None) -> dict:
        lanes = {"classify": "agent", "assign": "agent", "resolve": "service_consultant", "confirm": "customer",
                 "callback": "agent"}
        return {"id": str(uuid.UUID(int=self.rng.getrandbits(128))), "case_id": case_id, "instance_id": instance_id,
                "element_id": element, "name": element.capitalize(), "lane": lane or lanes[element],
                "form": f"{element}.json", "also_roles": [], "state": state, "assignee_id": assignee,
                "created_at": created, "completed_at": completed,
                "completed_by_id": assignee if completed else None, "version": 1}

    @staticmethod
    def _target(ids: dict[str, int], case_id: int, kind: str, started: datetime, minutes: int, state: str,
                met_at: datetime | None, due: datetime | None) -> dict:
        target_id = ids["target"]
        ids["target"] += 1
        due = due or started + timedelta(minutes=minutes * 2)
        return {"id": target_id, "case_id": case_id, "kind": kind, "cycle": 1, "policy_version": 0,
                "calendar": "default", "target_minutes": minutes, "extended_minutes": 0, "warning_percent": 75,
                "manager_after_minutes": 120, "started_at": started, "elapsed_seconds": 0,
                "running_since": started if state == "running" else None, "state": state,
                "warning_at": due - timedelta(minutes=minutes // 4), "due_at": due,
                "manager_at": due + timedelta(minutes=120), "met_at": met_at,
                "breached_at": due if state == "running" and due < datetime.now(timezone.utc) else None}

    def _reset_sequences(self) -> None:
        with self.db.engine.begin() as conn:
            for table in ("cases", "process_instances", "case_events", "sla_targets"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")


# -- the reads -----------------------------------------------------------------------------------

def quarter_before(today: date) -> tuple[date, date]:
    first_month = ((today.month - 1) // 3) * 3 + 1
    start = date(today.year, first_month, 1)
    last = start - timedelta(days=1)
    return date(last.year, ((last.month - 1) // 3) * 3 + 1, 1), last


def reads(sample_number: str, customer_id: int) -> dict[str, tuple[str, str]]:
    first, last = quarter_before(date.today())
    return {
        "inbox_mine": ("agent1", "/api/v1/tasks?scope=mine&per_page=50"),
        "inbox_claimable": ("agent1", "/api/v1/tasks?scope=claimable&per_page=50"),
        "inbox_all": ("supervisor", "/api/v1/tasks?scope=all&per_page=50"),
        "search_number": ("agent1", f"/api/v1/cases?q={sample_number}"),
        "search_customer": ("agent1", f"/api/v1/cases?customer_id={customer_id}"),
        "search_text": ("agent1", f"/api/v1/cases?q={RARE_WORD}"),
        "escalations": ("supervisor", "/api/v1/escalations"),
        "kpis_quarter": ("manager", f"/api/v1/kpis?from={first}&to={last}"),
    }


def measure(client, tokens: dict[str, str], recorder: Recorder, paths: dict[str, tuple[str, str]],
            repeat: int) -> tuple[dict[str, Any], dict[str, list[tuple[str, Any]]]]:
    figures, statements = {}, {}
    for name, (user, path) in paths.items():
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        for _ in range(2):  # warm-up
            answer = client.get(path, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path} as {user} -> {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
        wall, cpu = [], []
        for _ in range(repeat):
            recorder.start()
            started, cpu_started = time.perf_counter(), time.thread_time()
            answer = client.get(path, headers=headers)
            cpu.append((time.thread_time() - cpu_started) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
            statements[name] = recorder.stop()
        body = answer.get_json()
        figures[name] = {"p50_ms": percentile(wall, 50), "p99_ms": percentile(wall, 99),
                         "cpu_ms_median": round(statistics.median(cpu), 2), "statements": len(statements[name]),
                         "total": body.get("total") if isinstance(body, dict) else None}
    return figures, statements


def _root_buffers(plan_lines: list[str]) -> int:
    """Shared buffers (hit + read) of the plan's root node: every page the query touched."""
    for line in plan_lines:
        if line.startswith("Planning"):
            break
        if "Buffers:" in line:
            return sum(int(n) for key, n in re.findall(r"(hit|read)=(\d+)", line.split("Buffers:", 1)[1])
                       if key in ("hit", "read"))
    return 0


def explain(db, statements: dict[str, list[tuple[str, Any]]]) -> tuple[str, dict[str, dict[str, float]]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each read's SELECTs (authentication left out): the plans as
    text, and per read the pages its statements touched and their execution time in the server.
    Pages touched do not depend on the machine's load, so their growth is the figure to compare."""
    out, figures = [], {}
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for name, log in statements.items():
            pages, server_ms = 0, 0.0
            for statement, params in log:
                if not statement.lstrip().upper().startswith("SELECT") or "api_tokens" in statement:
                    continue  # authentication is not the read under test
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    lines = [row[0] for row in cursor.fetchall()]
                pages += _root_buffers(lines)
                server_ms += sum(float(m) for m in re.findall(r"Execution Time: ([\d.]+) ms", "\n".join(lines)))
                out.append(f"### {name}\n{' '.join(statement.split())}\n" + "\n".join(lines) + "\n")
            figures[name] = {"pages": pages, "server_ms": round(server_ms, 2)}
        raw.rollback()
    return "\n".join(out), figures


def run(url: str, sizes: list[int], repeat: int, explain_path: str | None, fresh: bool = True) -> dict[str, Any]:
    os.environ.update(lc.server_env(url))
    if fresh:
        lc.prepare_database(url)
    else:  # a kept database: only this tree's migrations
        done = subprocess.run([str(lc.BIN / "caseflow"), "db", "upgrade"], cwd=lc.ROOT, env=lc.server_env(url),
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"caseflow db upgrade failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    from server import create_app

    app = create_app()
    recorder = Recorder()
    results: dict[str, Any] = {"sizes": {}}
    with app.app_context():
        from sqlalchemy import event

        from cases.core.db import db

        event.listen(db.engine, "before_cursor_execute", recorder.on_execute)
        loader = Loader(db)
        client = app.test_client()
        tokens = {}
        for user in ("agent1", "supervisor", "manager"):
            answer = client.post("/api/v1/auth/token", json={"username": user, "password": lc.PASSWORD})
            tokens[user] = answer.get_json()["token"]
        now = datetime.now(timezone.utc)
        statements: dict[str, list] = {}
        for size in sizes:
            if size < loader.loaded:
                raise RuntimeError(f"the database already holds {loader.loaded} pairs, more than {size}")
            seconds = loader.load(size - loader.loaded, now) if size > loader.loaded else 0.0
            db.session.remove()
            from cases.core.models import Case

            sample = db.session.scalars(db.select(Case.number).where(Case.status == "open")
                                        .order_by(Case.id.desc()).limit(1)).one()
            figures, statements = measure(client, tokens, recorder, reads(sample, loader.customers[0]), repeat)
            plans, plan_figures = explain(db, statements)
            for name, extra in plan_figures.items():
                figures[name].update(extra)
            results["sizes"][str(size)] = {"load_seconds": round(seconds, 1), "reads": figures,
                                           "loadavg_1m": round(os.getloadavg()[0], 2)}
            print(f"{size} open + {size} closed cases (loaded in {seconds:.1f} s):", flush=True)
            for name, f in figures.items():
                print(f"  {name:16s} p50 {f['p50_ms']:8.1f} ms  p99 {f['p99_ms']:8.1f} ms  cpu {f['cpu_ms_median']:7.1f} ms"
                      f"  statements {f['statements']:3d}  pages {f['pages']:6d}  server {f['server_ms']:7.1f} ms"
                      f"  total {f['total']}", flush=True)
        if len(sizes) > 1:
            first, last = results["sizes"][str(sizes[0])]["reads"], results["sizes"][str(sizes[-1])]["reads"]
            results["growth_p50"] = {k: round(last[k]["p50_ms"] / first[k]["p50_ms"], 2) for k in first}
            results["growth_cpu"] = {k: round(last[k]["cpu_ms_median"] / first[k]["cpu_ms_median"], 2) for k in first}
            results["growth_pages"] = {k: round(last[k]["pages"] / max(1, first[k]["pages"]), 2) for k in first}
            print("growth p50 " + json.dumps(results["growth_p50"]), flush=True)
            print("growth pages " + json.dumps(results["growth_pages"]), flush=True)
        if explain_path:
            Path(explain_path).write_text(plans)
            print(f"EXPLAIN ANALYZE written to {explain_path}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return results


def kept_database(pg_url: str, name: str) -> tuple[str, bool]:
    """The URL of database ``name`` on ``pg_url``'s server, created if missing; and whether it was."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"--database {name!r}: lower-case letters, digits and _ only")
    url = make_url(pg_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            fresh = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None
            if fresh:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name, drivername="postgresql").render_as_string(hide_password=False), fresh


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("CASEFLOW_ENV", "development")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000", help="open (and as many closed) cases, comma-separated, "
                                                   "growing (default 1000; the issue's full run: 1000,100000)")
    p.add_argument("--repeat", type=int, default=30, help="timed requests per read (default 30)")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", lc.DEFAULT_PG_URL))
    p.add_argument("--database", help="keep the cases in this database on --pg-url's server (created and loaded "
                                      "the first time; later runs migrate it and load only what is missing)")
    p.add_argument("--explain", help="write EXPLAIN (ANALYZE, BUFFERS) of each read's SELECTs at the last size here")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    report: dict[str, Any] = {"config": {"sizes": sizes, "repeat": args.repeat, "cpus": os.cpu_count(),
                                         "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}}
    if args.database:
        url, fresh = kept_database(args.pg_url, args.database)
        report["config"]["database"] = args.database
        report.update(run(url, sizes, args.repeat, args.explain, fresh))
    else:
        with tempfile.TemporaryDirectory(prefix="cf_bench_volume_") as tmp, \
                lc.database_for("postgresql", Path(tmp), args.pg_url) as backend:
            if backend.skipped:
                print(json.dumps({**report, "skipped": backend.skipped}))
                return 1
            report.update(run(backend.url, sizes, args.repeat, args.explain))
    report["config"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
