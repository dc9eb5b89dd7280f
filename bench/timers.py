"""Timer benchmark on PostgreSQL: (a) a burst of N timers due at the same instant, (b) a steady
stream of timers while API load runs; (a) beside the bare SpiffWorkflow engine firing as many.

Each part runs in a fresh schema ``cf_bench_timers_<random>`` on ``--pg-url`` (default
``$DATABASE_URL``, else postgresql://postgres@127.0.0.1:5432/test), dropped at the end. The
scheduler is the real one (``api.scheduler``: APScheduler, the NOTIFY listener, batches) in a
process of its own; the only addition is a wrapper around ``cases.timers.fire_instance`` that
notes when each instance's transaction committed (and, in (b), when its timer was due).

    .venv/bin/python bench/timers.py [--timers 10000] [--stream-seconds 25] [--interval-ms 50]
                                     [--clients 6] [--fire-processes 1] [--skip-burst] [--skip-stream]

The last line on stdout is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import lifecycle as lc  # the sibling benchmark: statistics, gunicorn and HTTP client helpers
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: ``PYTHONPATH=<other tree>`` benches that tree's code
DEFAULT_PG_URL = os.environ.get("DATABASE_URL") or lc.DEFAULT_PG_URL
#: the due time the burst's timers are created with, rewritten to the burst instant afterwards
SENTINEL = "2100-01-01T00:00:00+00:00"
STREAM_WAIT = "PT1S"  # (b): every case opened during the stream is due one second later
MAX_STEPS = 12
STREAM_CLIENTS = 16  # (b): threads sharing the stream's slots (an answer under load can take 0.5 s)


def timer_bpmn(definition: str) -> bytes:
    """start -> one timer -> end: the smallest process that waits for a timer."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="bench_timer"
                  targetNamespace="http://caseflow.example/bpmn">
  <bpmn:process id="support_case" name="Bench: one timer" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Timer">
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_done</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer">{definition}</bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f_done" sourceRef="wait" targetRef="done" />
    <bpmn:endEvent id="done"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()


BURST_BPMN = timer_bpmn(f'<bpmn:timeDate>"{SENTINEL}"</bpmn:timeDate>')
STREAM_BPMN = timer_bpmn(f'<bpmn:timeDuration>"{STREAM_WAIT}"</bpmn:timeDuration>')


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# -- database ------------------------------------------------------------------------------

@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A schema of its own on the server; yields a URL whose connections use only it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"cf_bench_timers_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def make_app(url: str):
    from server import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": lc.PASSWORD_HASH_METHOD})


def prepare(app, processes: dict[str, bytes], forms: dict[str, bytes]) -> None:
    """Migrate, deploy, and add the demo customers and users (no demo cases: their timers would
    mix with the measured ones)."""
    from flask_migrate import upgrade

    from cases.core import accounts
    from cases.core.db import db
    from cases.core.models import Customer
    from cases.demo import load as demo
    from cases.process.deploy import deploy
    from server import MIGRATIONS_DIR
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        deploy(processes, forms)
        for code, name, tier in demo.CUSTOMERS:
            db.session.add(Customer(code=code, name=name, tier=tier))
        db.session.commit()
        for username, name, roles, customer in demo.USERS:
            accounts.create_user(username, lc.PASSWORD, roles, name, f"{username}@example.com", customer,
                                 hash_method=lc.PASSWORD_HASH_METHOD)


def ids_of(app) -> tuple[int, int]:
    """(agent1's id, customer HUAXIN's id)"""
    from sqlalchemy import select

    from cases.core.db import db
    from cases.core.models import Customer, User
    with app.app_context():
        return (db.session.scalar(select(User.id).where(User.username == "agent1")),
                db.session.scalar(select(Customer.id).where(Customer.code == "HUAXIN")))


def open_cases(url: str, count: int, agent_id: int, customer_id: int, per_transaction: int = 50) -> list[int]:
    """``count`` cases through the real use case (``intake.open_case``), in a process of its own."""
    from cases.casework import intake
    from cases.core.db import db, unit_of_work
    from cases.core.models import User
    app = make_app(url)
    ids = []
    with app.app_context():
        agent = db.session.get(User, agent_id)
        fields = {"customer_id": customer_id, "channel": "web", "title": "Bench timer", "description": "bench"}
        while len(ids) < count:
            with unit_of_work():
                ids += [intake.open_case(agent, fields).id for _ in range(min(per_transaction, count - len(ids)))]
        db.engine.dispose()
    return ids


def open_cases_in_parallel(url: str, count: int, agent_id: int, customer_id: int, workers: int) -> list[int]:
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.starmap(open_cases, [(url, share, agent_id, customer_id) for share in shares if share])
    return [case_id for part in parts for case_id in part]


def scalar(app, sql: str, **params) -> Any:
    from sqlalchemy import text

    from cases.core.db import db
    with app.app_context():
        value = db.session.execute(text(sql), params).scalar()
        db.session.rollback()
        return value


# -- the scheduler, in a process of its own ------------------------------------------------

def scheduler_process(url: str, out_path: str, ready, stop, look_up_due: bool, worker: bool = False) -> None:
    """The real scheduler (``api.scheduler.build`` holding the lease, as ``serve`` runs it), or a
    firing worker (``api.scheduler.FiringWorker``), instrumented: for each instance it fires,
    when its transaction committed (wall clock), how many timers fired, and (``look_up_due``)
    when the instance's earliest timer was due."""
    import threading

    from sqlalchemy import func, select

    from cases.core.db import db
    from cases.process import lease as leader
    from cases.process import timers
    from cases.process.models import Timer
    from workers import scheduler as scheduling

    app = make_app(url)
    fired: list[tuple[int, float | None, float, int]] = []
    runs: list[dict[str, Any]] = []
    real_fire_instance, real_fire_due = timers.fire_instance, timers.fire_due

    def fire_instance(instance_id, now):
        due = None
        if look_up_due:
            due = db.session.scalar(select(func.min(Timer.due_at)).where(Timer.instance_id == instance_id))
            db.session.rollback()
        result = real_fire_instance(instance_id, now)
        fired.append((instance_id, due.timestamp() if due else None, time.time(), len(result)))
        return result

    def fire_batch(instance_ids, now, should_stop=None):  # batched firing: one commit for the batch
        dues: dict[int, float] = {}
        if look_up_due:
            for instance_id, due in db.session.execute(
                    select(Timer.instance_id, func.min(Timer.due_at)).where(Timer.instance_id.in_(instance_ids))
                    .group_by(Timer.instance_id)):
                dues[instance_id] = due.timestamp()
            db.session.rollback()
        result = real_fire_batch(instance_ids, now, should_stop)
        committed = time.time()
        fired.extend((i, dues.get(i), committed, len(result.fired.get(i, []))) for i in instance_ids)
        return result

    def fire_due(**kwargs):
        started, cpu = time.time(), time.process_time()  # process CPU: what load does not inflate much
        report = real_fire_due(**kwargs)
        runs.append({"started": started, "seconds": round(time.time() - started, 3), "batches": report.batches,
                     "instances": len(report), "failed": len(report.failed), "deferred": len(report.deferred),
                     "cpu_seconds": round(time.process_time() - cpu, 3)})
        return report

    real_fire_batch = getattr(timers, "fire_batch", None)
    if real_fire_batch is not None:
        timers.fire_batch, timers.fire_due = fire_batch, fire_due
    else:  # the tree before batching: one transaction per instance
        timers.fire_instance, timers.fire_due = fire_instance, fire_due
    if worker:
        firing = scheduling.FiringWorker(app)
        halt = threading.Event()
        thread = threading.Thread(target=firing.serve, args=(halt,), daemon=True)
        thread.start()
        ready.set()
        stop.wait()
        halt.set()
        thread.join(60)
        wake_ups = firing.runs
    else:
        with app.app_context():
            lease = leader.for_engine(db.engine, float(app.config["SCHEDULER_LEASE_SECONDS"]))
        if not lease.try_acquire():
            raise RuntimeError("the lease is held elsewhere")
        keeper = leader.Keeper(lease, lease.seconds / 4)
        keeper.start()
        built = scheduling.build(app, leadership=lease)
        built.start()
        ready.set()
        stop.wait()
        built.shutdown()
        keeper.stop()
        lease.release()
        wake_ups = built.wake.runs
    with open(out_path, "w") as f:
        json.dump({"fired": fired, "runs": runs, "wake_ups": wake_ups}, f)


@contextmanager
def scheduler_running(url: str, look_up_due: bool, processes: int = 1) -> Iterator[dict]:
    """Start the scheduler process (the leader) and ``processes`` - 1 firing workers; after the
    block, stop them and fill the yielded dict (what each fired, merged)."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results: dict[str, Any] = {"fired": [], "runs": [], "wake_ups": 0, "per_process": []}
    with tempfile.TemporaryDirectory(prefix="cf_bench_timers_") as tmp:
        started = []
        try:
            for n in range(processes):
                ready = context.Event()
                out = os.path.join(tmp, f"scheduler{n}.json")
                proc = context.Process(target=scheduler_process, args=(url, out, ready, stop, look_up_due, n > 0),
                                       daemon=True)
                proc.start()
                started.append((proc, out))
                if not ready.wait(60):
                    raise RuntimeError("a scheduler process did not start")
            yield results
        finally:
            stop.set()
            for proc, _out in started:
                proc.join(120)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
        for _proc, out in started:
            if os.path.exists(out):
                with open(out) as f:
                    part = json.load(f)
                results["fired"] += part["fired"]
                results["runs"] += part["runs"]
                results["wake_ups"] += part["wake_ups"]
                results["per_process"].append(sum(1 for *_rest, n in part["fired"] if n))


def wait_until(condition, timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


# -- (a) a burst ---------------------------------------------------------------------------

def burst(server_url: str, count: int, workers: int, fire_processes: int = 1) -> dict[str, Any]:
    """``count`` timers due at one instant D. The cases are opened with the real use case while
    their timer waits for a sentinel date; with the scheduler already running (idle), one
    transaction moves every timer to D (the timer rows and the engine state alike) and announces
    D (NOTIFY), as a writer does. The scheduler sleeps until D, then fires the burst."""
    from sqlalchemy import text

    from cases.core.db import db, unit_of_work
    from cases.core.models import utcnow
    from cases.process import wakeup

    with fresh_schema(server_url) as url:
        app = make_app(url)
        prepare(app, {"support_case.bpmn": BURST_BPMN}, {})
        agent_id, customer_id = ids_of(app)
        lc.log(f"(a) opening {count} cases with {workers} processes ...")
        started = time.perf_counter()
        open_cases_in_parallel(url, count, agent_id, customer_id, workers)
        setup_seconds = time.perf_counter() - started
        waiting = scalar(app, "SELECT count(*) FROM timers")
        if waiting != count:
            raise RuntimeError(f"expected {count} waiting timers, found {waiting}")
        lead = timedelta(seconds=3 + count * 0.0003)  # D comes after the rewrite has committed
        with scheduler_running(url, look_up_due=False, processes=fire_processes) as results:
            with app.app_context():
                due = utcnow() + lead
                with unit_of_work():
                    moved = db.session.execute(text(
                        "UPDATE process_instances SET state = replace(state, :sentinel, :due_iso), next_timer_at = :due,"
                        " lock_version = lock_version + 1 WHERE status = 'running'"),
                        {"sentinel": SENTINEL, "due_iso": due.isoformat(), "due": due}).rowcount
                    db.session.execute(text("UPDATE timers SET due_at = :due"), {"due": due})
                    wakeup.announce(due)
                announced = time.time()
            lc.log(f"(a) {moved} timers due at {due.isoformat()}; waiting for the scheduler ...")
            wait_until(lambda: scalar(app, "SELECT count(*) FROM timers") == 0, 60 + count * 0.2)
        events = scalar(app, "SELECT count(*) FROM case_events WHERE kind = 'timer_fired'")
        instances = scalar(app, "SELECT count(DISTINCT case_id) FROM case_events WHERE kind = 'timer_fired'")
        left = scalar(app, "SELECT count(*) FROM timers")
        with app.app_context():
            db.engine.dispose()
    d = due.timestamp()
    commits = sorted(committed for _i, _due, committed, n in results.get("fired", []) if n)
    lateness = [ms(c - d) for c in commits]
    return {
        "timers": count, "fired": instances, "skipped": count - instances, "fired_twice": events - instances,
        "left_in_table": left,
        "seconds_until_all_committed": round(commits[-1] - d, 2) if commits else None,
        "first_commit_after_due_ms": lateness[0] if lateness else None,
        "lateness_ms": {**lc.percentiles(lateness), "max": lateness[-1] if lateness else None},
        # from the due instant to the last commit: a batch commits all its timers at once, so the
        # first commit is no start line (one transaction per instance made it nearly the due instant)
        "timers_per_s": round(len(commits) / (commits[-1] - d), 1) if commits and commits[-1] > d else None,
        "scheduler_cpu_ms_per_timer": round(1000 * sum(r.get("cpu_seconds", 0) for r in results.get("runs", []))
                                            / max(1, instances), 2),
        "announced_before_due_ms": ms(d - announced),
        "scheduler_runs": results.get("runs", []),
        "firing_processes": fire_processes, "fired_per_process": results.get("per_process", []),
        "setup": {"cases_opened": count, "seconds": round(setup_seconds, 1), "processes": workers,
                  "cases_per_s": round(count / setup_seconds, 1)},
    }


def bare_engine(count: int) -> dict[str, Any]:
    """The same process on SpiffWorkflow alone, in this process, one thread: ``count`` workflows
    waiting at the timer, made due (the same sentinel rewrite, in the serialized state), then
    ``refresh_timers()`` + ``do_engine_steps()`` on each — from memory, and with a deserialize
    before and a serialize after each (what a service does per instance, minus the database)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BURST_BPMN, "bench_timer.bpmn")
    spec, subprocesses = parser.get_spec("support_case"), parser.get_subprocess_specs("support_case")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    states = []
    for _ in range(count):
        wf = BpmnWorkflow(spec, subprocesses)
        wf.do_engine_steps()
        states.append(serializer.serialize_json(wf).replace(SENTINEL, past))

    def fire(wf: BpmnWorkflow) -> None:
        wf.refresh_timers()
        wf.do_engine_steps()
        if not wf.is_completed():
            raise RuntimeError("bare engine: the timer did not fire")

    workflows = [serializer.deserialize_json(s) for s in states]
    started = time.perf_counter()
    for wf in workflows:
        fire(wf)
    in_memory = time.perf_counter() - started
    started = time.perf_counter()
    for state in states:
        wf = serializer.deserialize_json(state)
        fire(wf)
        serializer.serialize_json(wf)
    persisted = time.perf_counter() - started
    return {"timers": count, "seconds": round(in_memory, 3), "timers_per_s": round(count / in_memory, 1),
            "seconds_with_serialization": round(persisted, 3),
            "timers_per_s_with_serialization": round(count / persisted, 1)}


# -- (b) a stream during API load ----------------------------------------------------------

def sample(prop: dict, people: dict[str, list[str]]) -> Any:
    """A valid value for one form field (the happy path: the first choice)."""
    if "enum" in prop:
        return prop["enum"][0]
    if prop.get("x-caseflow-user-role"):
        return people[prop["x-caseflow-user-role"]][0]
    kind = prop.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return max(prop.get("minimum", 1), 1)
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if prop.get("format") == "date-time":
        return (datetime.now(timezone.utc) + timedelta(days=7)).isoformat()
    if prop.get("format") == "date":
        return (date.today() + timedelta(days=7)).isoformat()
    if prop.get("format") == "email":
        return "bench@example.com"
    return "x" * max(1, prop.get("minLength", 1))


def form_data(schema: dict, values: dict | None, people: dict[str, list[str]]) -> dict:
    """The values the task proposes, and a sample for every other field of its form (fields
    that are required only in some branches of the form included)."""
    properties = schema.get("properties", {})
    data = {k: v for k, v in (values or {}).items() if k in properties and v is not None}
    for name, prop in properties.items():
        data.setdefault(name, sample(prop, people))
    return data


def drive(client: lc.Client, case_id: int, people: dict[str, list[str]]) -> None:
    """Complete the case's tasks (as their assignee or a user of their lane) until it closes."""
    for _ in range(MAX_STEPS):
        case = client.call("get", "GET", f"/api/v1/cases/{case_id}", "supervisor")
        if case["status"] == "closed" or not case["tasks"]:
            return
        task = case["tasks"][0]
        user = task["assignee"] or people[task["lane"]][0]
        detail = client.call("get", "GET", f"/api/v1/tasks/{task['id']}", user)
        client.call("complete", "POST", f"/api/v1/tasks/{task['id']}/complete", user,
                    {"version": task["version"], "data": form_data(detail["form_schema"], detail.get("values"), people)})


def stream(server_url: str, seconds: float, interval_ms: float, clients: int, workdir: Path) -> dict[str, Any]:
    """A timer due every ``interval_ms`` for ``seconds``, while ``clients`` threads complete
    tasks through a real gunicorn. The support process is deployed and the load's cases opened
    on it; then a one-timer process (due one second after the case opens) becomes the active
    version, so every case the stream opens through the API carries a real timer written by the
    real use case and announced by its transaction; the load's cases stay on their version."""
    from cases.core.db import db
    from cases.demo import load as demo
    from cases.process.deploy import deploy, read_directory

    people: dict[str, list[str]] = {}
    for username, _name, roles, _customer in demo.USERS:
        for role in roles:
            people.setdefault(role, []).append(username)
    people["customer"] = ["huaxin"]  # the customer user of the load's cases
    with fresh_schema(server_url) as url:
        app = make_app(url)
        prepare(app, *read_directory(ROOT / "processes", ROOT / "forms"))
        agent_id, customer_id = ids_of(app)
        load_cases = open_cases(url, clients * 40, agent_id, customer_id)
        with app.app_context():
            deploy({"support_case.bpmn": STREAM_BPMN}, {})
        work: queue.Queue = queue.Queue()
        for case_id in load_cases:
            work.put(case_id)
        recorder, stop, opened = lc.Recorder(), threading.Event(), []

        def load_client(base: str) -> None:
            client = lc.Client(base, recorder)
            try:
                for username in sorted({u for names in people.values() for u in names}):
                    client.tokens[username] = client.call("login", "POST", "/api/v1/auth/token", body={
                        "username": username, "password": lc.PASSWORD}, expect=201)["token"]
            except lc.RequestFailed:
                return
            while not stop.is_set():
                try:
                    case_id = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    drive(client, case_id, people)
                    recorder.case(True)
                except lc.RequestFailed:
                    recorder.case(False)

        def stream_client(base: str, slots: range, started: float) -> None:
            """Open a case at each of its slots (every ``interval_ms`` from ``started``)."""
            client = lc.Client(base, recorder)
            client.tokens["agent1"] = token
            body = {"customer_id": customer_id, "channel": "web", "title": "Bench stream", "description": "timer"}
            for k in slots:
                pause = started + k * interval_ms / 1000 - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    opened.append(client.call("open", "POST", "/api/v1/cases", "agent1", body, expect=201)["id"])
                except lc.RequestFailed:
                    pass

        def run_stream(base: str) -> None:
            """One timer every ``interval_ms``: the slots shared by enough clients that a slow answer
            does not delay the next slot."""
            count, lanes = int(seconds * 1000 / interval_ms), STREAM_CLIENTS
            started = time.monotonic() + 0.5
            lanes_ = [threading.Thread(target=stream_client, args=(base, range(i, count, lanes), started))
                      for i in range(lanes)]
            for t in lanes_:
                t.start()
            for t in lanes_:
                t.join()

        with scheduler_running(url, look_up_due=True) as results, \
                lc.running_server(url, workdir / "gunicorn-timers.log", 2, 8) as server:
            loaders = [threading.Thread(target=load_client, args=(server.base,), daemon=True) for _ in range(clients)]
            for t in loaders:
                t.start()
            lc.log(f"(b) {clients} clients completing tasks; a timer every {interval_ms} ms for {seconds} s ...")
            token = lc.Client(server.base, recorder).call("login", "POST", "/api/v1/auth/token", body={
                "username": "agent1", "password": lc.PASSWORD}, expect=201)["token"]
            started = time.perf_counter()
            run_stream(server.base)
            stream_seconds = time.perf_counter() - started
            load_busy = work.qsize() > 0  # the load lasted the whole stream
            ids = ",".join(str(i) for i in opened) or "0"
            wait_until(lambda: scalar(app, f"SELECT count(*) FROM timers WHERE case_id IN ({ids})") == 0, 60)
            stop.set()
            for t in loaders:
                t.join(120)
            load_seconds = time.perf_counter() - started
        instances = {i for (i,) in _rows(app, f"SELECT id FROM process_instances WHERE case_id IN ({ids})")}
        events = scalar(app, f"SELECT count(*) FROM case_events WHERE kind = 'timer_fired' AND case_id IN ({ids})")
        fired_cases = scalar(app, "SELECT count(DISTINCT case_id) FROM case_events WHERE kind = 'timer_fired'"
                                  f" AND case_id IN ({ids})")
        with app.app_context():
            db.engine.dispose()
    lateness = sorted(ms(committed - due) for i, due, committed, n in results.get("fired", [])
                      if n and i in instances and due is not None)
    completes = recorder.latencies.get("complete", [])
    return {
        "timers": len(opened), "interval_ms": interval_ms, "stream_seconds": round(stream_seconds, 1),
        "fired": fired_cases, "fired_twice": events - fired_cases, "not_fired": len(opened) - fired_cases,
        "lateness_ms": {**lc.percentiles(lateness), "max": lateness[-1] if lateness else None},
        "load": {"clients": clients, "seconds": round(load_seconds, 1), "cases_driven": recorder.cases_done,
                 "tasks_completed": len(completes), "completions_per_s": round(len(completes) / load_seconds, 1),
                 "requests_per_s": round(sum(len(v) for v in recorder.latencies.values()) / load_seconds, 1),
                 "complete_ms": lc.percentiles(completes), "open_ms": lc.percentiles(recorder.latencies.get("open", [])),
                 "errors": recorder.errors, "error_samples": recorder.error_samples[:3],
                 "lasted_the_whole_stream": load_busy},
        "scheduler_wake_ups": results.get("wake_ups"),
    }


def _rows(app, sql: str) -> list:
    from sqlalchemy import text

    from cases.core.db import db
    with app.app_context():
        rows = db.session.execute(text(sql)).all()
        db.session.rollback()
        return rows


# -- (p) the firing path in this process ------------------------------------------------------

def profile_firing(server_url: str, count: int, workers: int, batch_size: int, top: int) -> dict[str, Any]:
    """``count`` due timers fired by ``timers.fire_due`` in this process, one thread, no scheduler:
    the statements it sends (SQLAlchemy's ``before_cursor_execute``, grouped by their first words)
    and its CPU time (``time.process_time``), per fired timer; with ``top`` > 0 a cProfile of the
    run (cumulative, the ``top`` first lines) goes to stderr."""
    import cProfile
    import io
    import pstats
    import re
    from collections import Counter

    from sqlalchemy import event, text

    from cases.core.db import db, unit_of_work
    from cases.core.models import utcnow
    from cases.process import timers

    with fresh_schema(server_url) as url:
        app = make_app(url)
        prepare(app, {"support_case.bpmn": BURST_BPMN}, {})
        agent_id, customer_id = ids_of(app)
        lc.log(f"(p) opening {count} cases ...")
        open_cases_in_parallel(url, count, agent_id, customer_id, workers)
        with app.app_context():
            due = utcnow() - timedelta(seconds=1)
            with unit_of_work():
                db.session.execute(text(
                    "UPDATE process_instances SET state = replace(state, :sentinel, :due_iso), next_timer_at = :due,"
                    " lock_version = lock_version + 1 WHERE status = 'running'"),
                    {"sentinel": SENTINEL, "due_iso": due.isoformat(), "due": due})
                db.session.execute(text("UPDATE timers SET due_at = :due"), {"due": due})
            statements: Counter[str] = Counter()

            def count_statement(_conn, _cursor, statement, _params, _context, _many) -> None:
                words = re.sub(r"\s+", " ", statement).strip().split(" ")
                kind = words[0].upper()
                if kind in ("SELECT", "DELETE") or kind == "INSERT":
                    target = next((words[i + 1] for i, w in enumerate(words[:-1]) if w.upper() in ("FROM", "INTO")), "")
                    kind = f"{kind} {target}"
                elif kind == "UPDATE":
                    kind = f"UPDATE {words[1]}"
                statements[kind] += 1

            def count_commit(_conn) -> None:
                statements["COMMIT"] += 1  # not a cursor statement: counted from the engine's event

            event.listen(db.engine, "before_cursor_execute", count_statement)
            event.listen(db.engine, "commit", count_commit)
            profiler = cProfile.Profile() if top else None
            kwargs: dict[str, Any] = {"batch_size": batch_size}
            started, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            report = timers.fire_due(**kwargs)
            if profiler:
                profiler.disable()
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
            event.remove(db.engine, "before_cursor_execute", count_statement)
            event.remove(db.engine, "commit", count_commit)
            fired = len(report)
            db.engine.dispose()
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
            lc.log(out.getvalue())
    per = max(1, fired)
    return {"timers": count, "fired": fired, "batch_size": batch_size, "seconds": round(seconds, 2),
            "timers_per_s": round(fired / seconds, 1) if seconds else None,
            "cpu_ms_per_timer": round(1000 * cpu_seconds / per, 2),
            "statements_per_timer": round(sum(statements.values()) / per, 2),
            "statements": dict(statements.most_common())}


# -- main ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--timers", type=int, default=10_000, help="(a) timers due at the same instant (default 10000)")
    p.add_argument("--stream-seconds", type=float, default=25, help="(b) how long the stream lasts (default 25)")
    p.add_argument("--interval-ms", type=float, default=50, help="(b) one timer due every … ms (default 50)")
    p.add_argument("--clients", type=int, default=6, help="(b) API load threads (default 6)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="(a) processes opening the cases")
    p.add_argument("--fire-processes", type=int, default=1,
                   help="(a) scheduler processes firing the burst: the leader + N-1 firing workers (default 1)")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL server (default {DEFAULT_PG_URL})")
    p.add_argument("--skip-burst", action="store_true")
    p.add_argument("--skip-stream", action="store_true")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="(p) only: fire N due timers in this process; statements and CPU per timer")
    p.add_argument("--profile-top", type=int, default=0, metavar="K",
                   help="(p) print the K first lines of a cProfile of the firing run to stderr")
    p.add_argument("--batch-size", type=int, default=100, help="(p) fire_due's batch size (default 100)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("CASEFLOW_ENV", "development")  # the servers it starts are development runs
    args = parse_args(argv)
    report: dict[str, Any] = {"config": {"timers": args.timers, "cpus": os.cpu_count(),
                                         "fire_processes": args.fire_processes,
                                         "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}}
    failed = False
    if args.profile:
        report["config"]["timers"] = args.profile
        report["profile"] = p = profile_firing(args.pg_url, args.profile, args.workers, args.batch_size,
                                               args.profile_top)
        print(f"profile: {p['fired']}/{p['timers']} fired in {p['seconds']} s; {p['cpu_ms_per_timer']} ms CPU and "
              f"{p['statements_per_timer']} statements per timer", flush=True)
        report["config"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
        print(json.dumps(report, ensure_ascii=False), flush=True)
        return 0 if p["fired"] == p["timers"] else 1
    if not args.skip_burst:
        lc.log(f"bare engine: {args.timers} timers ...")
        report["bare_engine"] = bare = bare_engine(args.timers)
        print(f"bare engine: {bare['timers']} timers in {bare['seconds']} s ({bare['timers_per_s']}/s in memory, "
              f"{bare['timers_per_s_with_serialization']}/s with a deserialize + serialize each)", flush=True)
        report["burst"] = b = burst(args.pg_url, args.timers, args.workers, args.fire_processes)
        failed |= b["skipped"] > 0 or b["fired_twice"] > 0
        print(f"burst: {b['fired']}/{b['timers']} fired, {b['skipped']} skipped, {b['fired_twice']} twice; all "
              f"committed {b['seconds_until_all_committed']} s after the due instant ({b['timers_per_s']}/s); "
              f"lateness p50/p99 = {b['lateness_ms']['p50']}/{b['lateness_ms']['p99']} ms; "
              f"{b['firing_processes']} firing process(es), fired {b['fired_per_process']}; scheduler CPU "
              f"{b['scheduler_cpu_ms_per_timer']} ms per timer", flush=True)
        report["ratio_bare_to_caseflow"] = round(bare["timers_per_s"] / b["timers_per_s"], 1) \
            if b["timers_per_s"] else None
    if not args.skip_stream:
        with tempfile.TemporaryDirectory(prefix="cf_bench_timers_") as tmp:
            report["stream"] = s = stream(args.pg_url, args.stream_seconds, args.interval_ms, args.clients, Path(tmp))
        failed |= s["not_fired"] > 0 or s["fired_twice"] > 0
        print(f"stream: {s['fired']}/{s['timers']} fired ({s['not_fired']} not, {s['fired_twice']} twice); lateness "
              f"p50/p99 = {s['lateness_ms']['p50']}/{s['lateness_ms']['p99']} ms during "
              f"{s['load']['completions_per_s']} task completions/s", flush=True)
    report["config"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
