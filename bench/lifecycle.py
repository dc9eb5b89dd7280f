"""Case-lifecycle benchmark: caseflow over HTTP (SQLite and PostgreSQL) against the bare engine.

For each backend: a fresh database is migrated, the processes deployed and the demo users
loaded with the real ``caseflow`` commands; a real gunicorn server is started on a free
loopback port; clients (threads, one ``requests.Session`` each) drive cases from open to
closed through the REST API at 1, 4 and 16 concurrent clients. The bare SpiffWorkflow engine
runs the same case path in this process, with a serialize/deserialize around every step.

    .venv/bin/python bench/lifecycle.py [--quick] [--cases N] [--clients 1,4,16]
                                        [--backends sqlite,postgresql]

The last line on stdout is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

logging.getLogger("spiff").setLevel(logging.WARNING)  # it logs every task state change at INFO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"
PASSWORD = "demo"
PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
CASE_PROCESS = "support_case"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
HTTP_TIMEOUT = 60
WARMUP_CLIENTS, WARMUP_CASES = 4, 8  # not measured
MAX_STEPS = 10  # a standard case has 5 tasks; more means the process went somewhere else

CASE_BODY = {"customer_id": 1, "channel": "web", "title": "Report shows an error",
             "description": "Opening the month-end report fails with an error.",
             "environment": "Windows 10, SQL Server 2017"}
#: (element, data) of the standard path, in order.
STEPS = [
    ("classify", {"category": "data_problem", "priority": "high"}),
    ("assign", {"owner": "consultant1", "due_at": "2030-01-01T09:00:00Z"}),
    ("resolve", {"analysis": "a", "solution": "s", "outcome": "resolved", "contact_made": True,
                 "service_mode": "remote", "actions": "fixed the report", "time_spent_minutes": 30}),
    ("confirm", {"confirmed": True}),
    ("callback", {"reached": True, "callback_channel": "phone", "satisfaction": 5}),
]
STEP_DATA = dict(STEPS)
#: Who completes a task that has no assignee (confirm: the customer user of customer 1).
WORKER = {"classify": "agent1", "resolve": "consultant1", "confirm": "huaxin"}
USERS = ("agent1", "agent2", "consultant1", "huaxin")
READER = "agent1"  # staff see every open task of a case


# -- statistics ------------------------------------------------------------------------------

def percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        only = round(values[0], 1) if values else None
        return {"p50": only, "p95": only, "p99": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)}


def cases_for(clients: int, cases_at_16: int) -> int:
    """Fewer cases at low concurrency (where throughput is lower), at least 2 per client."""
    return max(2 * clients, math.ceil(cases_at_16 * math.sqrt(min(clients, 16) / 16)))


# -- the bare engine -----------------------------------------------------------------------

class BareEngine:
    """The same process files, path and data as a caseflow case, on SpiffWorkflow alone."""

    START_DATA = {"title": CASE_BODY["title"], "description": CASE_BODY["description"],
                  "environment": CASE_BODY["environment"], "category_hint": None, "priority_hint": None,
                  "customer_tier": "standard", "channel": "web", "case_id": 1, "customer_id": 1}

    class ScriptEngine(PythonScriptEngine):
        def call_service(self, task, operation_name=None, operation_params=None, **kw):
            if operation_name == "business_deadline":  # the callback's due time (caseflow: N working days)
                return json.dumps((datetime.now(timezone.utc) + timedelta(days=2)).isoformat())
            return json.dumps("consultant1")  # round_robin_user(role=...)

    def __init__(self):
        started = time.perf_counter()
        parser = SpiffBpmnParser()
        parser.add_bpmn_files(sorted(str(p) for p in (ROOT / "processes").glob("*.bpmn")))
        parser.add_dmn_files(sorted(str(p) for p in (ROOT / "processes").glob("*.dmn")))
        self.spec = parser.get_spec(CASE_PROCESS)
        self.subprocess_specs = parser.get_subprocess_specs(CASE_PROCESS)
        self.parse_ms = (time.perf_counter() - started) * 1000
        # scripts use now() and timedelta (caseflow's sandbox provides them)
        self.script_engine = self.ScriptEngine(TaskDataEnvironment({
            "now": lambda: datetime.now(timezone.utc), "timedelta": timedelta, "datetime": datetime}))
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def start(self) -> BpmnWorkflow:
        wf = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        wf.task_tree.data.update(self.START_DATA)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(self.START_DATA)
        wf.do_engine_steps()
        return wf

    def load(self, state: str) -> BpmnWorkflow:
        wf = self.serializer.deserialize_json(state)
        wf.script_engine = self.script_engine  # not serialized
        return wf

    @staticmethod
    def complete(wf: BpmnWorkflow, element: str, data: dict) -> None:
        [task] = wf.get_tasks(state=TaskState.READY, manual=True)
        if task.task_spec.bpmn_id != element:
            raise RuntimeError(f"bare engine: expected task {element}, found {task.task_spec.bpmn_id}")
        task.data.update(data)
        task.run()
        wf.do_engine_steps()

    def run_case(self, persist: bool) -> int:
        """One case from start to end, saving after every step and loading before the next (as a
        service does per request) when ``persist``. Returns the size of the last saved state."""
        wf = self.start()
        state = self.serializer.serialize_json(wf) if persist else ""
        for element, data in STEPS:
            if persist:
                wf = self.load(state)
            self.complete(wf, element, data)
            if persist:
                state = self.serializer.serialize_json(wf)
        if not wf.is_completed():
            raise RuntimeError("bare engine: the case did not reach its end")
        return len(state)

    def rate(self, persist: bool, min_seconds: float, min_cases: int) -> tuple[float, int, int]:
        """(cases/s, cases run, state bytes), after one warm-up case."""
        self.run_case(persist)
        done, size, started = 0, 0, time.perf_counter()
        while done < min_cases or time.perf_counter() - started < min_seconds:
            size = self.run_case(persist)
            done += 1
        return done / (time.perf_counter() - started), done, size


def bare_engine(min_seconds: float, min_cases: int) -> dict[str, Any]:
    """Cases/s of the bare engine in this process, single thread."""
    engine = BareEngine()
    per_s, done, size = engine.rate(True, min_seconds, min_cases)
    per_s_memory, _, _ = engine.rate(False, min_seconds / 2, min_cases)
    return {"cases_per_s": round(per_s, 1), "cases": done, "ms_per_case": round(1000 / per_s, 2),
            "cases_per_s_without_serialization": round(per_s_memory, 1),
            "state_bytes_at_end": size, "parse_ms": round(engine.parse_ms, 1)}


# -- databases -----------------------------------------------------------------------------

@dataclass
class Backend:
    name: str
    url: str
    skipped: str | None = None


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[Backend]:
    yield Backend("sqlite", f"sqlite:///{workdir / 'caseflow.db'}")


@contextmanager
def postgresql_database(admin_url: str) -> Iterator[Backend]:
    """A throwaway database cf_bench_<random> on the server of ``admin_url``, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"cf_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server, no rights: report and go on without it
        admin.dispose()
        yield Backend("postgresql", "", skipped=f"server not reachable or no CREATE DATABASE: {exc.__class__.__name__}: "
                                                 f"{str(exc).splitlines()[0][:200]}")
        return
    try:
        yield Backend("postgresql", url.set(database=name, drivername="postgresql")
                      .render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_env(database_url: str) -> dict[str, str]:
    # PYTHONPATH: the commands and the server run the tree this file is in.
    return {**os.environ, "DATABASE_URL": database_url, "PASSWORD_HASH_METHOD": PASSWORD_HASH_METHOD,
            "PYTHONPATH": str(ROOT)}


def prepare_database(database_url: str) -> None:
    """Migrate, deploy the processes and load the demo users with the real commands."""
    env = server_env(database_url)
    for args in (["db", "upgrade"], ["deploy"], ["demo-data", "--password", PASSWORD]):
        done = subprocess.run([str(BIN / "caseflow"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"caseflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


# -- the server ----------------------------------------------------------------------------

def free_port() -> int:
    """A free loopback port: the first free one of BENCH_PORTS ("5170-5179") when set (a shared
    machine gives each user a range), else one the kernel picks."""
    wanted = os.environ.get("BENCH_PORTS", "")
    candidates = [0]
    if wanted:
        low, _, high = wanted.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in BENCH_PORTS={wanted}")


@dataclass
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time used so far by the gunicorn master and its workers."""
        return sum(cpu_seconds(pid) for pid in (self.pid, *children(self.pid)))


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # [state, ppid, ...]


def cpu_seconds(pid: int) -> float:
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[1]) == pid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


@contextmanager
def running_server(database_url: str, log_path: Path, workers: int, threads: int) -> Iterator[Server]:
    """gunicorn serving the app; stopped (TERM, then KILL) whatever happens."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--bind", f"127.0.0.1:{port}", "server:create_app()"],
            cwd=ROOT, env=server_env(database_url), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        wait_healthy(base, proc, log_path)
        yield Server(base, proc.pid)
    finally:
        stop(proc)


def wait_healthy(base: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not healthy after {timeout}s:\n{tail(log_path)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the master stops its workers
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only gunicorn's processes
        proc.wait()


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# -- clients -------------------------------------------------------------------------------

class RequestFailed(Exception):
    pass


@dataclass
class Recorder:
    """Latencies per request kind and the errors of one run, shared by its clients."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    cases_done: int = 0
    cases_failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, kind: str, ms: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(ms)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(text[:500])

    def case(self, ok: bool) -> None:
        with self.lock:
            if ok:
                self.cases_done += 1
            else:
                self.cases_failed += 1

    def count(self, *kinds: str) -> int:
        return sum(len(self.latencies.get(k, [])) for k in kinds)


class Client:
    """One user agent: one HTTP session, one token per user it acts as."""

    def __init__(self, base: str, recorder: Recorder):
        self.base, self.recorder = base, recorder
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}

    def call(self, kind: str, method: str, path: str, user: str | None = None,
             body: dict | None = None, expect: int = 200) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base + path, json=body, headers=headers,
                                         timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            self.recorder.request(kind, (time.perf_counter() - started) * 1000)
            self.recorder.error(f"{method} {path}: {exc!r}")
            raise RequestFailed(str(exc)) from exc
        self.recorder.request(kind, (time.perf_counter() - started) * 1000)
        if response.status_code != expect:
            self.recorder.error(f"{method} {path} as {user} -> {response.status_code}: {response.text}")
            raise RequestFailed(f"{response.status_code}")
        return response.json()

    def login(self) -> None:
        for user in USERS:
            self.tokens[user] = self.call("login", "POST", "/api/v1/auth/token",
                                          body={"username": user, "password": PASSWORD}, expect=201)["token"]

    def run_case(self, number: int) -> None:
        """Open a case and complete its tasks until it is closed. Each completion names the next
        tasks; when it names none (a customer does not see staff tasks), read the case."""
        case = self.call("open", "POST", "/api/v1/cases", "agent1",
                         {**CASE_BODY, "title": f"{CASE_BODY['title']} #{number}"}, expect=201)
        tasks = case["tasks"]
        for _ in range(MAX_STEPS):
            if not tasks:
                case = self.call("get", "GET", f"/api/v1/cases/{case['id']}", READER)
                if case["status"] == "closed":
                    return
                tasks = case["tasks"]
            if len(tasks) != 1:
                raise RequestFailed(f"case {case['id']} has tasks {tasks} at stage {case['stage']}")
            task = tasks[0]
            element = task["element_id"]
            done = self.call("complete", "POST", f"/api/v1/tasks/{task['id']}/complete",
                             task["assignee"] or WORKER[element],
                             {"version": task["version"], "data": STEP_DATA[element]})
            tasks = done["next_tasks"]
        raise RequestFailed(f"case {case['id']} not closed after {MAX_STEPS} steps (stage {case['stage']})")


def load_run(server: Server, clients: int, cases: int, explain: Explain | None = None) -> dict[str, Any]:
    """``clients`` threads drive ``cases`` cases in total; log-ins happen before the clock starts.
    ``explain``: the instruments of bench/server_profile.py, running while the clock runs."""
    base = server.base
    recorder = Recorder()
    numbers = iter(range(cases))
    numbers_lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def next_number() -> int | None:
        with numbers_lock:
            return next(numbers, None)

    def work() -> None:
        client = Client(base, recorder)
        try:
            client.login()
            ready.wait()
        except (RequestFailed, threading.BrokenBarrierError):
            ready.abort()  # a client that cannot log in stops the run
            return
        while (number := next_number()) is not None:
            try:
                client.run_case(number)
                recorder.case(True)
            except RequestFailed as exc:
                recorder.case(False)
                if not str(exc).isdigit():  # an HTTP error was recorded already
                    recorder.error(str(exc))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass  # a log-in failed: the run ends with its errors recorded
    if explain is not None:
        explain.start()
    started, client_cpu, server_cpu = time.perf_counter(), time.process_time(), server.cpu_seconds()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    cpu = {"bench_process": time.process_time() - client_cpu, "gunicorn": server.cpu_seconds() - server_cpu}
    explained = explain.stop() if explain is not None else None
    if explained is not None and "postgres_cpu_seconds" in explained:
        cpu["postgresql_server"] = explained.pop("postgres_cpu_seconds")
    summary = summarise(recorder, clients, cases, seconds, cpu)
    if explained is not None:
        summary["where_the_time_goes"] = explained
    return summary


class Explain:
    """``--explain-time``: the local PostgreSQL server's CPU, its sessions' waits and a py-spy
    layer profile of the gunicorn workers, for one measured run (bench/server_profile.py)."""

    def __init__(self, server: Server, database_url: str | None):
        import server_profile  # the sibling module

        self.pg_cpu = server_profile.ServerCpu() if database_url else None
        self.waits = server_profile.Waits(database_url) if database_url else None
        self.layers = server_profile.LayerProfile(children(server.pid))

    def start(self) -> None:
        for instrument in (self.pg_cpu, self.waits, self.layers):
            if instrument is not None:
                instrument.start()

    def stop(self) -> dict[str, Any]:
        found: dict[str, Any] = {"gunicorn_python_cpu": self.layers.stop()}
        if self.pg_cpu is not None and self.waits is not None:
            found["postgres_cpu_seconds"] = self.pg_cpu.stop()
            found["postgresql_sessions"] = self.waits.stop()
        return found


def summarise(rec: Recorder, clients: int, cases: int, seconds: float, cpu: dict[str, float]) -> dict[str, Any]:
    requests_made = rec.count("open", "complete", "get")
    return {
        "clients": clients, "cases": cases, "cases_closed": rec.cases_done, "cases_failed": rec.cases_failed,
        "seconds": round(seconds, 2),
        "cases_per_s": round(rec.cases_done / seconds, 2),
        "requests_per_s": round(requests_made / seconds, 1),
        "requests_per_case": round(requests_made / max(1, rec.cases_done + rec.cases_failed), 2),
        "complete_ms": percentiles(rec.latencies.get("complete", [])),
        "open_ms": percentiles(rec.latencies.get("open", [])),
        "get_ms": percentiles(rec.latencies.get("get", [])),
        "logins": rec.count("login"),
        # CPU seconds per closed case, and the share of the machine's cores used during the run
        "cpu_ms_per_case": {k: round(1000 * v / max(1, rec.cases_done + rec.cases_failed), 1)
                            for k, v in cpu.items()},
        "cpu_share": {k: round(v / seconds / (os.cpu_count() or 1), 2) for k, v in cpu.items()},
        "errors": rec.errors,
        "error_samples": rec.error_samples,
    }


# -- orchestration -------------------------------------------------------------------------

def bench_backend(backend: Backend, workdir: Path, client_counts: list[int], cases_at_16: int,
                  workers: int, threads: int, explain: bool = False) -> dict[str, Any]:
    prepare_database(backend.url)
    log(f"[{backend.name}] database ready; starting gunicorn --workers {workers} --threads {threads}")
    results: dict[str, Any] = {}
    with running_server(backend.url, workdir / f"gunicorn-{backend.name}.log", workers, threads) as server:
        warm = load_run(server, WARMUP_CLIENTS, WARMUP_CASES)  # every worker loads specs, forms, pools
        if warm["errors"]:
            print_run(f"{backend.name} warm-up", warm)
        for clients in client_counts:
            cases = cases_for(clients, cases_at_16)
            log(f"[{backend.name}] {clients} client(s), {cases} cases ...")
            instruments = Explain(server, backend.url if backend.name == "postgresql" else None) if explain else None
            results[f"c{clients}"] = run = load_run(server, clients, cases, instruments)
            print_run(backend.name, run)
    return results


def print_run(backend: str, r: dict[str, Any]) -> None:
    c = r["complete_ms"]
    print(f"{backend:<10} c={r['clients']:<3} cases={r['cases_closed']}/{r['cases']:<4} "
          f"{r['cases_per_s']:7.2f} cases/s {r['requests_per_s']:7.1f} req/s "
          f"({r['requests_per_case']} req/case)  complete p50/p95/p99 = {c['p50']}/{c['p95']}/{c['p99']} ms  "
          f"errors={r['errors']}  cpu ms/case {r['cpu_ms_per_case']}", flush=True)
    for sample in r["error_samples"][:3]:
        print(f"    error: {sample}", flush=True)
    explained = r.get("where_the_time_goes")
    if explained:
        for section, figures in explained.items():
            print(f"    {section}: {json.dumps(figures, ensure_ascii=False)}", flush=True)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ratios(report: dict[str, Any]) -> dict[str, float]:
    bare = report["bare_engine"]["cases_per_s"]
    out = {}
    for backend in ("sqlite", "postgresql"):
        for key, run in report.get(backend, {}).items():
            if isinstance(run, dict) and "cases_per_s" in run:
                out[f"{backend}_{key}"] = round(run["cases_per_s"] / bare, 5)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=200,
                   help="cases at 16 clients; fewer at lower concurrency (x sqrt(clients/16), "
                        "at least 2 per client) (default 200)")
    p.add_argument("--clients", default="1,4,16", help="comma-separated concurrency levels (default 1,4,16)")
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql (default both)")
    p.add_argument("--quick", action="store_true", help="smoke run: 32 cases at 16 clients, 1 s bare engine")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
                   help=f"PostgreSQL server to create a throwaway database on (default {DEFAULT_PG_URL})")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (default 8)")
    p.add_argument("--explain-time", action="store_true",
                   help="with each measured run: the local PostgreSQL server's CPU per case, its sessions' "
                        "waits (pg_stat_activity every 10 ms) and a py-spy profile of the workers by layer")
    args = p.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        p.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if args.quick:
        args.cases = 32
    return args


def database_for(name: str, workdir: Path, pg_url: str):
    return sqlite_database(workdir) if name == "sqlite" else postgresql_database(pg_url)


def run_backend(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One backend's figures, or {"skipped": why} / {"failed": why}."""
    with tempfile.TemporaryDirectory(prefix=f"cf_bench_{name}_") as tmp, \
            database_for(name, Path(tmp), args.pg_url) as backend:
        if backend.skipped:
            print(f"{name}: SKIPPED ({backend.skipped})", flush=True)
            return {"skipped": backend.skipped}
        try:
            return bench_backend(backend, Path(tmp), args.clients, args.cases, args.workers, args.threads,
                                 args.explain_time)
        except Exception as exc:  # report it, go on with the next backend
            print(f"{name}: FAILED: {exc}", flush=True)
            return {"failed": str(exc)[:2000]}


def has_failures(results: dict[str, Any]) -> bool:
    return "failed" in results or any(run.get("errors") for run in results.values() if isinstance(run, dict))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("CASEFLOW_ENV", "development")  # the servers it starts are development runs
    args = parse_args(argv)
    report: dict[str, Any] = {"config": {
        "cases_at_16": args.cases, "clients": args.clients, "cpus": os.cpu_count(),
        "gunicorn": {"workers": args.workers, "threads": args.threads},
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}}  # other work on the machine skews figures
    log("bare engine ...")
    report["bare_engine"] = bare = bare_engine(1.0 if args.quick else 5.0, 20 if args.quick else 200)
    print(f"bare engine: {bare['cases_per_s']} cases/s ({bare['ms_per_case']} ms/case, with a "
          f"serialize/deserialize per step; {bare['cases_per_s_without_serialization']} cases/s in memory only)",
          flush=True)
    for name in args.backends:
        report[name] = run_backend(name, args)
    report["config"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    report["ratios"] = ratios(report)
    for key, value in report["ratios"].items():
        print(f"ratio caseflow:bare {key}: {value} (1 : {round(1 / value) if value else 'inf'})", flush=True)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 1 if any(has_failures(report[name]) for name in args.backends) else 0


if __name__ == "__main__":
    sys.exit(main())
