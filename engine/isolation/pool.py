"""A pool of script worker processes (``engine/isolation/worker.py``), started ahead and reused.

A caller takes an idle worker (or starts one, up to ``Limits.workers``; beyond that it waits for
one to come back), sends one request and waits for the reply at most the wall-clock limit. A
worker that does not answer in time, dies (SIGXCPU from its CPU limit, a crash, the OOM killer),
answers garbage or asks to be recycled (after a MemoryError) is killed and a fresh one is started
in its place at once; the caller gets a :class:`Breach` saying what happened.

One pool per process (:data:`engine.isolation.sandbox.POOL`). After a ``fork`` the child forgets
the parent's workers (they are the parent's) and starts its own when it first needs one; at exit
the workers are killed (they would also end by themselves: EOF on their stdin).
"""
from __future__ import annotations

import atexit
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.isolation import codec

_HEADER = struct.Struct(">I")
MAX_REPLY = 64 * 2**20
_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from engine.isolation.worker import main; main(int(sys.argv[2]))"
#: what a worker's environment keeps from ours (the locale and zone that strftime/now read)
_ENVIRONMENT = ("LANG", "LC_ALL", "LC_CTYPE", "LC_TIME", "TZ", "PATH")


@dataclass(frozen=True)
class Limits:
    #: worker processes per pool (per web worker process)
    workers: int = 2
    #: how much a worker may grow its address space while evaluating (RLIMIT_AS = start + this)
    memory_mb: int = 256
    #: beyond the sandbox's own time limit: how much longer the parent waits before it kills the
    #: worker (a single C call the sandbox's clock cannot interrupt) and the CPU allowance's margin
    grace_seconds: float = 1.0
    #: fixed wall-clock / CPU limits per evaluation (None: the sandbox's time limit + grace)
    wall_seconds: float | None = None
    cpu_seconds: int | None = None
    #: how long a caller waits for a free worker, and a new worker for its start
    queue_seconds: float = 30.0
    startup_seconds: float = 30.0

    def wall(self, time_limit: float) -> float:
        return self.wall_seconds if self.wall_seconds is not None else time_limit + self.grace_seconds

    def cpu(self, time_limit: float) -> int:
        return self.cpu_seconds if self.cpu_seconds is not None else int(time_limit + self.grace_seconds + 0.999)


class Breach(Exception):
    """The worker was killed (``kind``: "timeout", "cpu", "memory", "died", "protocol", "busy", "start")."""

    def __init__(self, kind: str, detail: str = "", delivered: bool = True):
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        #: whether the worker had the request (if not, it can go to another worker)
        self.delivered = delivered


class _Worker:
    def __init__(self, limits: Limits, generation: int):
        env = {name: os.environ[name] for name in _ENVIRONMENT if name in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _BOOT, _ROOT, str(limits.memory_mb * 2**20)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            close_fds=True, bufsize=0, cwd="/", env=env, start_new_session=True)
        self.generation = generation
        assert self.process.stdout is not None
        self._out = self.process.stdout.fileno()
        self._poller = select.poll()
        self._poller.register(self._out, select.POLLIN)
        self._buffer = bytearray()
        self.ready = False
        self.startup = limits.startup_seconds
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, request: bytes, wall: float) -> dict[str, Any]:
        if not self.ready:
            try:
                hello = self._receive(time.monotonic() + self.startup, starting=True)
            except Breach as breach:
                breach.delivered = False
                raise
            if not hello.get("ready"):
                raise Breach("protocol", "no greeting", delivered=False)
            self.ready = True
        stdin = self.process.stdin
        assert stdin is not None
        try:
            view = memoryview(_HEADER.pack(len(request)) + request)
            while view:
                view = view[os.write(stdin.fileno(), view):]
        except OSError as exc:  # EPIPE: it died while idle
            raise Breach("died", type(exc).__name__, delivered=False) from None
        return self._receive(time.monotonic() + wall)

    def _receive(self, deadline: float, starting: bool = False) -> dict[str, Any]:
        header = self._read(_HEADER.size, deadline, starting)
        (size,) = _HEADER.unpack(header)
        if size > MAX_REPLY:
            raise Breach("protocol", f"a reply of {size} bytes")
        try:
            reply = codec.loads(self._read(size, deadline, starting))
        except codec.CodecError:
            raise Breach("protocol", "a reply that is not JSON") from None
        if not isinstance(reply, dict):
            raise Breach("protocol", "a reply that is not an object")
        return reply

    def _read(self, size: int, deadline: float, starting: bool) -> bytes:
        """``size`` bytes of its output (what arrived beyond them is kept for the next read)."""
        while len(self._buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poller.poll(remaining * 1000):
                raise Breach("start" if starting else "timeout")
            chunk = os.read(self._out, max(size - len(self._buffer), 1 << 16))
            if not chunk:
                raise self._death()
            self._buffer += chunk
        data, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return data

    def _death(self) -> Breach:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return Breach("died", "closed its output")
        if code == -signal.SIGXCPU:
            return Breach("cpu")
        return Breach("died", f"signal {-code}" if code < 0 else f"exit code {code}")

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass
        self.forget()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not take this long
            pass

    def forget(self) -> None:
        """Close our ends of its pipes (after a fork, in the child: the worker is the parent's)."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class WorkerPool:
    """Thread-safe; the processes start when first needed (or by :meth:`start`)."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._reset()
        os.register_at_fork(after_in_child=self._after_fork)
        atexit.register(self.close)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._generation = 0
        #: what happened to the workers since the pool was made (for the tests and the logs)
        self.started = 0
        self.killed = 0

    def _after_fork(self) -> None:
        for worker in list(self._all):
            worker.forget()
        self._reset()

    def configure(self, limits: Limits) -> None:
        """New limits; workers started under the old ones are replaced as they come back."""
        with self._cond:
            if limits == self.limits:
                return
            self.limits = limits
            self._generation += 1
            stale, self._idle = self._idle, []
            for worker in stale:
                self._all.discard(worker)
            self._cond.notify_all()
        for worker in stale:
            worker.kill()

    def start(self) -> None:
        """Start the workers now (a web worker after its fork), not on the first evaluation."""
        with self._cond:
            missing = self.limits.workers - len(self._all) - self._starting
            self._starting += max(missing, 0)
        for _ in range(max(missing, 0)):
            self._spawn_idle()

    def workers(self) -> list[int]:
        """The process ids of the live workers."""
        with self._cond:
            return sorted(w.pid for w in self._all)

    def close(self) -> None:
        with self._cond:
            workers, self._idle, self._all = list(self._all), [], set()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()

    def call(self, message: dict[str, Any], time_limit: float) -> dict[str, Any]:
        """Send ``message`` to a worker and return its reply; :class:`Breach` if it was killed.
        A worker that died before it took the request (while idle, or starting) is replaced and
        the request sent once more."""
        limits = self.limits
        request = codec.dumps({**message, "cpu": limits.cpu(time_limit)})
        for attempt in (1, 2):
            worker = self._checkout()
            try:
                reply = worker.call(request, limits.wall(time_limit))
            except Breach as breach:
                self._discard(worker, replace=True)
                if not breach.delivered and attempt == 1:
                    continue
                raise
            except BaseException:
                self._discard(worker, replace=True)
                raise
            if reply.get("recycle"):
                self._discard(worker, replace=True)
            else:
                self._checkin(worker)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the idle list -------------------------------------------------------------------
    def _checkout(self) -> _Worker:
        deadline = time.monotonic() + self.limits.queue_seconds
        with self._cond:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._all.discard(worker)  # died while idle (killed from outside, the OOM killer)
                    worker.kill()  # already dead: closes our pipe ends and reaps it at once
                if len(self._all) + self._starting < self.limits.workers:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Breach("busy")
                self._cond.wait(remaining)
        return self._spawn()

    def _spawn(self) -> _Worker:
        """A new worker; the caller counted it in ``_starting``."""
        try:
            worker = _Worker(self.limits, self._generation)
        except OSError as exc:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise Breach("start", str(exc)) from None
        with self._cond:
            self._starting -= 1
            self._all.add(worker)
            self.started += 1
        return worker

    def _spawn_idle(self) -> None:
        try:
            worker = self._spawn()
        except Breach:
            return  # the next caller tries again (and reports it)
        self._checkin(worker)

    def _checkin(self, worker: _Worker) -> None:
        with self._cond:
            if worker in self._all and worker.generation == self._generation:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._all.discard(worker)
        worker.kill()

    def _discard(self, worker: _Worker, replace: bool) -> None:
        with self._cond:
            self._all.discard(worker)
            self.killed += 1
            spare = replace and len(self._all) + self._starting < self.limits.workers
            if spare:
                self._starting += 1
            self._cond.notify()
        worker.kill()
        if spare:
            self._spawn_idle()
