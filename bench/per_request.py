"""What one request costs: SQL statements and CPU per case creation and per task completion,
through the real Flask app (the WSGI stack gunicorn runs, driven by Flask's test client in this
process, one thread), on a throwaway database. Figures that survive a loaded machine: statement
counts are exact, CPU is this thread's CPU time (not wall time).

    .venv/bin/python bench/per_request.py [--cases 20] [--backend postgresql|sqlite]
                                          [--profile complete|open] [--sql complete|open]

``--profile KIND`` prints a pyinstrument profile (wall time) of every request of that kind
(pyinstrument must be installed: ``.venv/bin/pip install pyinstrument``), with ``--cpu-profile``
a cProfile of this thread's CPU time instead (``PER_REQUEST_PROFILE_OUT=file`` also writes it for
pstats); ``--sql KIND`` prints the statements of one such request. ``--long-lived`` adds a case
reopened 50 times and one with 1,000 more history events (see ``long_lived_cases``), each read
three times (``GET /api/v1/cases/{id}`` and the staff case page, ``get:<kind>`` / ``page:<kind>``);
``--same-answers-as TREE`` then reads those answers and pages again with another checkout's code
(``PYTHONPATH=TREE``, e.g. a clone of main) on the same database and reports the paths whose bytes
differ (the forms' CSRF token and the page's moment aside). The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import lifecycle as lc  # the sibling benchmark: databases, the path, the demo users

ROOT = lc.ROOT


class StatementCounter:
    """Counts the statements this thread sends, by SQLAlchemy's cursor event."""

    def __init__(self) -> None:
        self.local = threading.local()

    def attach(self, engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        log = getattr(self.local, "log", None)
        if log is not None:
            log.append(statement)

    def start(self) -> None:
        self.local.log = []

    def stop(self) -> list[str]:
        log, self.local.log = self.local.log, None
        return log


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 2), "median": round(statistics.median(values), 2),
            "min": round(min(values), 2), "max": round(max(values), 2), "n": len(values)}


def verb(statement: str) -> str:
    words = statement.split()
    head = words[0].upper() if words else "?"
    if head in ("SELECT", "UPDATE", "DELETE") or head.startswith("INSERT"):
        table = next((w for i, w in enumerate(words) if words[i - 1].upper() in ("FROM", "UPDATE", "INTO")), "?")
        return f"{head} {table}"
    return head


class StateCost:
    """The engine state's share of a request: this thread's CPU in ``StateSerializer.load`` and
    ``dump`` (of which JSON text <-> dict in ``json.loads`` / ``json.dumps``), and the size of the
    text each dump writes."""

    def __init__(self) -> None:
        self.active = False
        self.load_ms = self.dump_ms = self.parse_ms = self.encode_ms = 0.0
        self.sizes: list[int] = []

    def attach(self) -> None:
        from engine import serialization

        cls, cost = serialization.StateSerializer, self

        def timed(name, field, after=None):
            inner = getattr(cls, name)

            def wrapper(*args, **kwargs):
                if not cost.active:
                    return inner(*args, **kwargs)
                started = time.thread_time()
                result = inner(*args, **kwargs)
                setattr(cost, field, getattr(cost, field) + (time.thread_time() - started) * 1000)
                if after is not None:
                    after(result)
                return result

            setattr(cls, name, wrapper)

        timed("load", "load_ms")
        timed("dump", "dump_ms", lambda text: cost.sizes.append(len(text)))
        json_module = serialization.json
        real_loads, real_dumps = json_module.loads, json_module.dumps

        def loads(text, *args, **kwargs):
            started = time.thread_time()
            try:
                return real_loads(text, *args, **kwargs)
            finally:
                if cost.active:
                    cost.parse_ms += (time.thread_time() - started) * 1000

        def dumps(value, *args, **kwargs):
            started = time.thread_time()
            try:
                return real_dumps(value, *args, **kwargs)
            finally:
                if cost.active:
                    cost.encode_ms += (time.thread_time() - started) * 1000

        # the serializer's module and SpiffWorkflow's (serialize_json) read json.* at call time
        json_module.loads, json_module.dumps = loads, dumps

    def start(self) -> None:
        self.active = True
        self.load_ms = self.dump_ms = self.parse_ms = self.encode_ms = 0.0
        self.sizes = []

    def stop(self) -> dict[str, float]:
        self.active = False
        return {"load_ms": self.load_ms, "dump_ms": self.dump_ms, "json_loads_ms": self.parse_ms,
                "json_dumps_ms": self.encode_ms, "state_kb": max(self.sizes, default=0) / 1024}


def run(url: str, cases: int, warmup: int, profile_kind: str | None, sql_kind: str | None,
        cpu_profile: bool = False, long_lived: bool = False, same_as: Path | None = None) -> dict[str, Any]:
    os.environ.update(lc.server_env(url))
    lc.prepare_database(url)
    from server import create_app  # after the environment is set: the app reads it when created

    app = create_app()
    counter = StatementCounter()
    state_cost = StateCost()
    state_cost.attach()
    with app.app_context():
        from cases.core.db import db

        counter.attach(db.engine)
    client = app.test_client()
    tokens = {}
    for user in lc.USERS:
        answer = client.post("/api/v1/auth/token", json={"username": user, "password": lc.PASSWORD})
        tokens[user] = answer.get_json()["token"]
    costs: dict[str, dict[str, list[float]]] = {}
    kinds_seen: Counter[str] = Counter()
    profiler = None
    if profile_kind and cpu_profile:  # CPU time only (a loaded machine's waits left out)
        import cProfile

        profiler = cProfile.Profile(time.thread_time)
        profiler.start, profiler.stop = profiler.enable, profiler.disable
    elif profile_kind:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    printed_sql: list[str] = []

    def call(kind: str, method: str, path: str, user: str, body: dict | None, expect: int,
             measured: bool, step: str | None = None) -> dict:
        profiling = measured and profiler is not None and profile_kind in (kind, f"{kind}:{step}")
        counter.start()
        state_cost.start()
        if profiling:
            profiler.start()
        cpu = time.thread_time()
        answer = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {tokens[user]}"})
        cpu = (time.thread_time() - cpu) * 1000
        if profiling:
            profiler.stop()
        statements = counter.stop()
        state = state_cost.stop()
        if answer.status_code != expect:
            raise RuntimeError(f"{method} {path} -> {answer.status_code}: {answer.get_data(as_text=True)[:500]}")
        if measured:
            kinds_seen[kind] += 1
            for key in (kind, f"{kind}:{step}" if step else None):
                if key is None:
                    continue
                entry = costs.setdefault(key, {"statements": [], "cpu_ms": []})
                entry["statements"].append(len(statements))
                entry["cpu_ms"].append(cpu)
                for name, value in state.items():
                    entry.setdefault(name, []).append(value)
            if sql_kind in (kind, f"{kind}:{step}") and not printed_sql:
                printed_sql.extend(statements)
        return answer.get_json()

    def one_case(number: int, measured: bool) -> None:
        case = call("open", "POST", "/api/v1/cases", "agent1",
                    {**lc.CASE_BODY, "title": f"{lc.CASE_BODY['title']} #{number}"}, 201, measured)
        tasks = case["tasks"]
        for _ in range(lc.MAX_STEPS):
            if not tasks:
                case = call("get", "GET", f"/api/v1/cases/{case['id']}", lc.READER, None, 200, measured)
                if case["status"] == "closed":
                    return
                tasks = case["tasks"]
            [task] = tasks
            element = task["element_id"]
            done = call("complete", "POST", f"/api/v1/tasks/{task['id']}/complete",
                        task["assignee"] or lc.WORKER[element],
                        {"version": task["version"], "data": lc.STEP_DATA[element]}, 200, measured, element)
            tasks = done["next_tasks"]
        raise RuntimeError(f"case {case['id']} did not close")

    for number in range(warmup):
        one_case(number, measured=False)
    started = time.thread_time()
    for number in range(cases):
        one_case(warmup + number, measured=True)
    cpu_per_case = (time.thread_time() - started) * 1000 / cases
    long_lived_figures = None
    if long_lived:
        long_lived_figures = long_lived_cases(app, client, tokens, call, costs, url, same_as=same_as)
    if printed_sql:
        print(f"--- the {len(printed_sql)} statements of one '{sql_kind}' request:", file=sys.stderr)
        for statement in printed_sql:
            print("  " + " ".join(statement.split())[:300], file=sys.stderr)
        print("--- by kind: " + json.dumps(Counter(verb(s) for s in printed_sql).most_common()), file=sys.stderr)
    if profiler is not None and cpu_profile:
        import pstats

        if os.environ.get("PER_REQUEST_PROFILE_OUT"):  # for pstats / snakeviz
            profiler.dump_stats(os.environ["PER_REQUEST_PROFILE_OUT"])
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    elif profiler is not None:
        print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
    with app.app_context():
        from cases.core.db import db

        db.engine.dispose()
    return {"cases": cases, "cpu_ms_per_case": round(cpu_per_case, 1),
            **({"long_lived": long_lived_figures} if long_lived_figures else {}),
            "per_request": {kind: {name: summary(values) for name, values in v.items()}
                            for kind, v in costs.items()}}


#: The reopen loop of support_case.bpmn is capped at max_turns (30) turns; the long-lived run deploys
#: the same files with a higher cap as the active version, so a case can be rejected REOPENS times.
REOPEN_CAP = "max_turns = 30"
LONG_USERS = ("supervisor",)
REJECT = {"confirmed": False, "confirmation_comment": "still fails"}
CONTINUE = {"decision": "continue", "review_note": "another round"}
#: reads of each long-lived case (and of the fresh ones) measured: GET /api/v1/cases/{id} and the case page
READS = 3


def _deploy_with_higher_cap(url: str, reopens: int) -> None:
    import shutil
    import subprocess

    with tempfile.TemporaryDirectory(prefix="cf_bench_long_") as tmp:
        target = Path(tmp) / "processes"
        shutil.copytree(ROOT / "processes", target)
        bpmn = target / "support_case.bpmn"
        text = bpmn.read_text(encoding="utf-8")
        if REOPEN_CAP not in text:
            raise RuntimeError(f"support_case.bpmn no longer says '{REOPEN_CAP}'")
        bpmn.write_text(text.replace(REOPEN_CAP, f"max_turns = {reopens + 10}"), encoding="utf-8")
        done = subprocess.run([str(lc.BIN / "caseflow"), "deploy", "--processes", str(target), "--activate"],
                              cwd=ROOT, env=lc.server_env(url), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"caseflow deploy failed:\n{done.stdout}{done.stderr}")


def long_lived_cases(app, client, tokens: dict[str, str], call, costs: dict, url: str,
                     reopens: int = 50, history: int = 1000, same_as: Path | None = None) -> dict[str, Any]:
    """Issue 16's long-lived cases beside fresh ones, on the same (re-deployed) version: a case
    rejected by its customer about ``reopens`` times (its resolve step measured in the last three rounds) (each time back through resolve, and after the
    third through a supervisor's review), and a case with ``history`` more events in its history
    (claims and releases, inserted in bulk through the model). Measured on each, like on a fresh
    case: a completion (of resolve, the step a reopened case comes back to; of assign for the
    long history), GET /api/v1/cases/{id} and the staff case page (/cases/{id})."""
    from sqlalchemy import insert

    for user in LONG_USERS:
        answer = client.post("/api/v1/auth/token", json={"username": user, "password": lc.PASSWORD})
        tokens[user] = answer.get_json()["token"]
    _deploy_with_higher_cap(url, reopens)

    def open_case(label: str) -> dict:
        return call("open", "POST", "/api/v1/cases", "agent1", {**lc.CASE_BODY, "title": f"{label}"}, 201, False)

    def step(task: dict, data: dict, measured_as: str | None = None) -> list[dict]:
        worker = task["assignee"] or {"supervisor_review": "supervisor"}.get(task["element_id"]) \
            or lc.WORKER[task["element_id"]]
        done = call(measured_as or "setup", "POST", f"/api/v1/tasks/{task['id']}/complete", worker,
                    {"version": task["version"], "data": data}, 200, measured_as is not None)
        return done["next_tasks"] or call("setup", "GET", f"/api/v1/cases/{done['case']['id']}", lc.READER,
                                          None, 200, False)["tasks"]

    def until(tasks: list[dict], element: str, reject: bool = False) -> list[dict]:
        for _ in range(12):
            [task] = tasks
            if task["element_id"] == element:
                return tasks
            data = (REJECT if reject and task["element_id"] == "confirm" else
                    CONTINUE if task["element_id"] == "supervisor_review" else lc.STEP_DATA[task["element_id"]])
            tasks = step(task, data)
        raise RuntimeError(f"never reached {element}")

    read_cases: list[int] = []

    def read(kind: str, case_id: int) -> None:
        read_cases.append(case_id)
        for _ in range(READS):  # alternating, the median of READS: one sample is at a GC's mercy
            call(f"get:{kind}", "GET", f"/api/v1/cases/{case_id}", lc.READER, None, 200, True)
            call(f"page:{kind}", "GET", f"/cases/{case_id}", lc.READER, None, 200, True)

    def measure(kind: str, case: dict, element: str, tasks: list[dict]) -> None:
        read(kind, case["id"])
        [task] = tasks
        step(task, lc.STEP_DATA[element], f"complete:{element}:{kind}")

    # fresh cases on the same version: the reference
    for number in range(3):
        case = open_case(f"fresh #{number}")
        tasks = until(case["tasks"], "assign")
        measure("fresh", case, "assign", tasks)
        tasks = until(call("setup", "GET", f"/api/v1/cases/{case['id']}", lc.READER, None, 200, False)["tasks"],
                      "resolve")
        step(tasks[0], lc.STEP_DATA["resolve"], "complete:resolve:fresh")
    # rejected ``reopens`` times
    case = open_case("reopened")
    tasks = until(case["tasks"], "resolve")
    for _ in range(reopens - 2):
        tasks = step(tasks[0], lc.STEP_DATA["resolve"])
        tasks = until(tasks, "resolve", reject=True)
    read("reopened", case["id"])
    for _ in range(3):  # three rounds measured (reopens - 2, - 1 and reopens): one sample is at a GC's mercy
        tasks = step(tasks[0], lc.STEP_DATA["resolve"], "complete:resolve:reopened")
        tasks = until(tasks, "resolve", reject=True)
    # a long history
    with app.app_context():
        from cases.core.db import db
        from cases.core.models import CaseEvent, User, utcnow

        case = open_case("long history")
        tasks = until(case["tasks"], "assign")
        agent = db.session.scalar(db.select(User.id).where(User.username == "agent2"))
        now, task_id = utcnow(), tasks[0]["id"]
        db.session.execute(insert(CaseEvent), [
            {"case_id": case["id"], "at": now, "actor_id": agent, "public": False,
             "kind": "task_claimed" if i % 2 == 0 else "task_released",
             "data": {"task_id": task_id, "element": "assign", "previous": None}} for i in range(history)])
        db.session.commit()
    measure("history", case, "assign", tasks)
    figures: dict[str, Any] = {"reopens": reopens, "extra_history_events": history}
    if same_as is not None:
        figures["same_answers_as"] = same_answers(client, tokens, url, same_as, read_cases)
    for kind, entry in costs.items():
        if kind.endswith((":fresh", ":reopened", ":history")):
            figures[kind] = {"statements": statistics.median(entry["statements"]),
                             "cpu_ms": round(statistics.median(entry["cpu_ms"]), 1),
                             "state_kb": round(statistics.median(entry["state_kb"]), 1)}
    return figures


#: what differs between two reads of one page in one tree: the session's CSRF token in its forms,
#: the moment the page was made (live notices since)
_PER_READ = [(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""'),
             (r'data-live-since="[^"]*"', 'data-live-since=""')]
_READ_IN_OTHER_TREE = """
import json, os, sys
os.environ.setdefault("CASEFLOW_ENV", "development")
from server import create_app
asked = json.load(sys.stdin)
client = create_app().test_client()
print(json.dumps({path: client.get(path, headers={"Authorization": "Bearer " + asked["token"]}).get_data(as_text=True)
                  for path in asked["paths"]}))
"""


def _normalised(text: str) -> str:
    import re

    for pattern, replacement in _PER_READ:
        text = re.sub(pattern, replacement, text)
    return text


def same_answers(client, tokens: dict[str, str], url: str, tree: Path, case_ids: list[int]) -> dict[str, Any]:
    """GET /api/v1/cases/{id} and the case page of each case read, by this tree and by ``tree`` (run
    with PYTHONPATH=tree on the same database, e.g. the main branch before a change): the same
    bytes (the forms' CSRF token aside), or the paths that differ (their texts in /tmp)."""
    import re
    import subprocess

    paths = [p for case_id in dict.fromkeys(case_ids) for p in (f"/api/v1/cases/{case_id}", f"/cases/{case_id}")]
    here = {p: _normalised(client.get(p, headers={"Authorization": f"Bearer {tokens[lc.READER]}"})
                           .get_data(as_text=True)) for p in paths}
    done = subprocess.run([sys.executable, "-c", _READ_IN_OTHER_TREE], cwd=tree, capture_output=True, text=True,
                          input=json.dumps({"token": tokens[lc.READER], "paths": paths}),
                          env={**lc.server_env(url), "PYTHONPATH": str(tree)})
    if done.returncode != 0:
        raise RuntimeError(f"reading in {tree} failed:\n{done.stderr[-2000:]}")
    there = {p: _normalised(t) for p, t in json.loads(done.stdout.splitlines()[-1]).items()}
    differ = [p for p in paths if here[p] != there[p]]
    for p in differ:
        name = re.sub(r"\W+", "_", p)
        Path(f"/tmp/per_request{name}.here").write_text(here[p], encoding="utf-8")
        Path(f"/tmp/per_request{name}.there").write_text(there[p], encoding="utf-8")
    return {"tree": str(tree), "compared": len(paths), "differ": differ,
            "bytes": sum(len(t) for t in here.values())}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("CASEFLOW_ENV", "development")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", lc.DEFAULT_PG_URL))
    p.add_argument("--profile", help="a request kind: open, complete, get, complete:<element>, or with "
                                      "--long-lived e.g. complete:resolve:reopened, page:history")
    p.add_argument("--sql", help="a request kind, as --profile")
    p.add_argument("--long-lived", action="store_true",
                   help="also a case reopened 50 times and one with 1,000 more history events, beside fresh ones")
    p.add_argument("--same-answers-as", type=Path, metavar="TREE",
                   help="with --long-lived: compare the API answers and case pages read with those of another "
                        "checkout (e.g. the main branch) on the same database")
    p.add_argument("--cpu-profile", action="store_true",
                   help="with --profile: cProfile on this thread's CPU time instead of pyinstrument's wall time")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cf_bench_req_") as tmp, \
            lc.database_for(args.backend, Path(tmp), args.pg_url) as backend:
        if backend.skipped:
            print(json.dumps({"skipped": backend.skipped}))
            return 1
        figures = run(backend.url, args.cases, args.warmup, args.profile, args.sql, args.cpu_profile,
                      args.long_lived, args.same_answers_as)
    report = {"backend": args.backend, "loadavg_1m_at_start": round(load, 2),
              "loadavg_1m_at_end": round(os.getloadavg()[0], 2), **figures}
    for kind, entry in figures["per_request"].items():
        print(f"{kind:18s} statements {entry['statements']['median']:5.0f}   cpu ms median "
              f"{entry['cpu_ms']['median']:7.1f} (mean {entry['cpu_ms']['mean']:6.1f})   state: "
              f"{entry['state_kb']['median']:6.1f} KB, load {entry['load_ms']['median']:5.2f} ms "
              f"(json {entry['json_loads_ms']['median']:5.2f}), dump {entry['dump_ms']['median']:5.2f} ms "
              f"(json {entry['json_dumps_ms']['median']:5.2f})", flush=True)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
