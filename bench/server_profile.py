"""Where a loaded server's time goes, measured from outside while ``bench/lifecycle.py`` runs.

Three instruments, each optional (``lifecycle.py --explain-time``):

- :class:`ServerCpu` — the CPU time of the local PostgreSQL server's processes (every process
  named ``postgres``), to put beside gunicorn's: a case costs the database's CPU too, on the same
  cores. Only meaningful when the server runs on this machine (the benchmarks' default).
- :class:`Waits` — ``pg_stat_activity`` sampled every 10 ms for the benchmark database's client
  sessions: how many of them, on average, are running a statement, waiting for a lock (on what
  statement), waiting for the WAL, or idle in a transaction (the application holding a transaction
  open while Python works). Lock waits are where concurrent cases serialise each other.
- :class:`LayerProfile` — py-spy (``--gil``: only the thread holding the GIL, i.e. Python's CPU)
  on every gunicorn worker; each sample is given to the innermost layer it is in (the library or
  the caseflow room of its frame), so the shares add up to the workers' Python CPU. py-spy is
  one of the dev dependencies; it needs ptrace (root, or ``kernel.yama.ptrace_scope=0``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

#: the layer of a frame, by the file it is in: the first matching fragment wins
LAYERS = (
    ("/sqlalchemy/", "SQLAlchemy"), ("/flask_sqlalchemy/", "SQLAlchemy"),
    ("/psycopg/", "psycopg"), ("/psycopg_binary/", "psycopg"),
    ("/SpiffWorkflow/", "SpiffWorkflow (the engine)"),
    ("/marshmallow/", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("/webargs/", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("/flask_smorest/", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("/flask/", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("/werkzeug/", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("/flask_babel/", "HTTP: flask, werkzeug, marshmallow, webargs"),
    ("/gunicorn/", "gunicorn"),
    ("/jsonschema/", "forms: jsonschema"), ("/referencing/", "forms: jsonschema"),
    ("/prometheus_client/", "metrics and logs"),
    ("json/", "json (stdlib)"),
    ("uuid.py", "uuid (stdlib)"),
)


def layer_of(frame: str) -> str:
    """``frame`` is py-spy's ``function (path:line)``."""
    path = "/" + (frame[frame.rfind("(") + 1:] if "(" in frame else frame).lstrip("/")  # py-spy shortens paths
    for fragment, layer in LAYERS:
        if fragment in path:
            return layer
    if "site-packages" not in path:
        for room in ("engine", "cases", "api", "gateway", "web", "server", "handlers", "workers"):
            if f"/{room}/" in path:
                return f"caseflow: {room}/"
    return "other (stdlib, interpreter)"


def pg_pids() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "postgres":
                        found.append(int(entry))
            except OSError:
                continue
    return found


def process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds of the local PostgreSQL processes between ``start`` and ``stop`` (backends that
    end meanwhile are counted up to their last reading)."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}

    def _read(self) -> dict[int, float]:
        return {pid: process_cpu_seconds(pid) for pid in pg_pids()}

    def start(self) -> None:
        self.first = self._read()

    def stop(self) -> float:
        now = self._read()
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in now.items())


class Waits:
    """Samples ``pg_stat_activity`` for ``database``'s client sessions in a thread."""

    def __init__(self, url: str, interval: float = 0.01):
        self.url, self.interval = url, interval
        self.states: Counter[str] = Counter()
        self.lock_waits: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event, left(query, 70) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'").fetchall()
                self.samples += 1
                for state, wait_type, wait, query in rows:
                    self.states[_state_name(state, wait_type, wait)] += 1
                    if wait_type == "Lock":
                        self.lock_waits[f"{wait}: {' '.join((query or '').split())}"] += 1
                time.sleep(self.interval)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        n = max(1, self.samples)
        return {"samples": self.samples,
                "mean_sessions": {name: round(count / n, 2) for name, count in self.states.most_common()},
                "lock_waits_by_statement": {q: round(c / n, 2) for q, c in self.lock_waits.most_common(6)}}


def _state_name(state: str | None, wait_type: str | None, wait: str | None) -> str:
    if state == "idle in transaction":
        return "idle in transaction (the application works, a transaction open)"
    if state == "idle":
        return "idle (no transaction)"
    if wait_type == "Lock":
        return f"waiting for a lock ({wait})"
    if wait_type in ("IO", "LWLock") and wait and wait.startswith("WAL"):
        return "writing the WAL (commit)"
    if wait_type in (None, ""):
        return "running a statement"
    return f"{state}: {wait_type}/{wait}"


class LayerProfile:
    """py-spy ``record --gil`` on each of ``pids`` until :meth:`stop`."""

    def __init__(self, pids: list[int], rate: int = 200):
        self.pids, self.rate = pids, rate
        self.dir = Path(tempfile.mkdtemp(prefix="cf_pyspy_"))
        self.procs: list[subprocess.Popen] = []
        self.missing = shutil.which("py-spy", path=str(Path(sys.prefix) / "bin")) is None

    def start(self) -> None:
        if self.missing:
            return
        exe = str(Path(sys.prefix) / "bin" / "py-spy")
        for pid in self.pids:
            self.procs.append(subprocess.Popen(
                [exe, "record", "--pid", str(pid), "--rate", str(self.rate), "--gil", "--nonblocking",
                 "--format", "raw", "--output", str(self.dir / f"{pid}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))

    def stop(self) -> dict[str, Any]:
        if self.missing:
            return {"skipped": "py-spy is not installed (make install installs the dev dependencies)"}
        errors = []
        for proc in self.procs:
            proc.send_signal(2)  # py-spy writes what it has on SIGINT
        for proc in self.procs:
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            if proc.returncode not in (0, -2) and err:
                errors.append(err.strip().splitlines()[-1])
        layers: Counter[str] = Counter()
        functions: Counter[str] = Counter()
        for path in self.dir.glob("*.txt"):
            for line in path.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                if not stack or not count.isdigit():
                    continue
                frames = stack.split(";")
                layers[layer_of(frames[-1])] += int(count)
                caseflow = next((f for f in reversed(frames) if layer_of(f).startswith("caseflow")), None)
                if caseflow:
                    functions[caseflow.split(" (")[0]] += int(count)
        shutil.rmtree(self.dir, ignore_errors=True)
        total = sum(layers.values())
        if not total:
            return {"skipped": "py-spy recorded nothing" + (f": {errors[0]}" if errors else "")}
        return {"samples": total,
                "share_by_layer": {name: round(n / total, 3) for name, n in layers.most_common()},
                "innermost_caseflow_function": {name: round(n / total, 3) for name, n in functions.most_common(12)}}
