"""The script worker process: evaluates sandboxed code sent by a web worker, under OS limits.

Started by :mod:`engine.isolation.pool` as ``python -I -S -c ...`` (no site packages, no
environment variables read, nothing from the current directory) with stdin/stdout as its only
channel and stderr on /dev/null. Before it answers anything it

1. imports what evaluations need and runs a few of them, so no lazy import is left to do
   (``_strptime`` and friends) once files can no longer be opened;
2. drops to ``nobody`` if it was started as root; moves to ``/``; closes every inherited
   descriptor but 0, 1 and 2;
3. sets hard resource limits: ``RLIMIT_NOFILE`` to the three open descriptors (no file, socket or
   pipe can be opened), ``RLIMIT_FSIZE`` 0 (nothing written), ``RLIMIT_NPROC`` 0 (no fork),
   ``RLIMIT_CORE`` 0, ``RLIMIT_AS`` its current size plus the allowed growth, ``RLIMIT_CPU`` a
   lifetime ceiling; before each evaluation the CPU soft limit is moved to the CPU used so far
   plus the evaluation's allowance (the kernel's SIGXCPU ends a process that passes it).

Messages are frames: a 4-byte big-endian length, then JSON (``engine.isolation.codec``). The
first frame out is ``{"ready": ...}``. A request is ``{"op": "eval"|"exec", "src", "ctx", "ext",
"now", "limit", "cpu"}``; the reply is ``{"ok": true, "value"}`` (eval), ``{"ok": true, "vars"}``
(exec: the variables the script could see, as they are after it), or ``{"ok": false, "error"}``;
``"recycle": true`` asks the parent to replace this process (after a MemoryError, or when its
lifetime CPU is nearly spent). EOF on stdin ends the process.
"""
from __future__ import annotations

import _strptime  # noqa: F401  # datetime.strptime imports it on first use, through the script's (empty) builtins
import datetime as _dt
import os
import resource
import signal
import struct
import sys
from typing import Any

from engine.isolation import codec
from engine.sandbox import Sandbox, SandboxError, SandboxTimeout, SandboxViolation

_HEADER = struct.Struct(">I")
MAX_MESSAGE = 64 * 2**20
#: the CPU a worker may spend in its life before it is replaced (the hard RLIMIT_CPU)
LIFETIME_CPU_SECONDS = 600
_NOBODY = 65534
_WARM_UP = (
    ("eval", 'datetime.strptime("2024-02-03 04:05", "%Y-%m-%d %H:%M").strftime("%A %d %B %Y %c")'),
    ("eval", 'json_dumps(json_loads("[1, 2.5, \\"x\\", {\\"a\\": null}]"), indent=2, sort_keys=True)'),
    ("eval", 'parse_datetime("2024-02-03T04:05:06+08:00").isoformat() + str(now()) + str(timedelta(hours=1))'),
    ("eval", 'f"{1.5:.2f} {3:>4} {now()}" + str(round(2.675, 2)) + str(floor(1.5)) + str(ceil(0.5))'),
    ("exec", 'items = sorted([3, 1, 2])\ntext = " ".join(["a", "b"]).upper().split()\nok = any(w in "ab" for w in ("a",))'),
)


def _read_exactly(size: int) -> bytes | None:
    chunks, wanted = [], size
    while wanted:
        chunk = os.read(0, min(wanted, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _read_frame() -> Any:
    header = _read_exactly(_HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        return None
    body = _read_exactly(size)
    return None if body is None else codec.loads(body)


def _write_frame(message: Any) -> None:
    body = codec.dumps(message)
    data = memoryview(_HEADER.pack(len(body)) + body)
    while data:
        written = os.write(1, data)
        data = data[written:]


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _address_space() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _lock_down(memory_growth: int) -> None:
    limit = _address_space() + memory_growth
    if os.geteuid() == 0:  # a worker started by root gives up root (best effort: not in every container)
        try:
            os.setgroups([])
            os.setgid(_NOBODY)
            os.setuid(_NOBODY)
        except OSError:
            pass
    os.chdir("/")
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)
    for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", 0), ("RLIMIT_NPROC", 0),
                        ("RLIMIT_NOFILE", 3), ("RLIMIT_AS", limit)):
        resource.setrlimit(getattr(resource, name), (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (LIFETIME_CPU_SECONDS, LIFETIME_CPU_SECONDS))


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SandboxError):
        kind = "timeout" if isinstance(exc, SandboxTimeout) else "violation" if isinstance(exc, SandboxViolation) \
            else "sandbox"
        return {"kind": kind, "message": exc.message, "line": exc.line}
    error: dict[str, Any] = {"kind": "python", "type": type(exc).__name__, "module": type(exc).__module__,
                             "message": str(exc)}
    try:
        error["args"] = codec.encode(list(exc.args))
    except codec.CodecError:
        pass
    return error


def handle(sandbox: Sandbox, request: dict[str, Any], memory_growth: int) -> dict[str, Any]:
    """Run one request; never raises (what the script raised is in the reply)."""
    recycle = False
    soft = int(_cpu_used()) + 1 + int(request.get("cpu", 2))
    if soft >= LIFETIME_CPU_SECONDS:
        soft, recycle = LIFETIME_CPU_SECONDS, True
    resource.setrlimit(resource.RLIMIT_CPU, (soft, LIFETIME_CPU_SECONDS))
    try:
        sandbox.time_limit = float(request["limit"])
        context = codec.decode(request["ctx"])
        fixed_now = codec.decode(request["now"])
        external = {**codec.decode(request["ext"]), "now": lambda: fixed_now}
        if request["op"] == "eval":
            reply = {"ok": True, "value": codec.encode(sandbox.evaluate(request["src"], context, external))}
        else:
            sandbox.execute(request["src"], context, external)
            reply = {"ok": True, "vars": codec.encode(context)}
    except MemoryError:
        reply, recycle = {"ok": False, "error": {
            "kind": "violation", "message": f"evaluation used more than {memory_growth >> 20} MB of memory"}}, True
    except Exception as exc:  # the script's own failure: reported, the worker lives on
        reply = {"ok": False, "error": _error(exc)}
    if recycle:
        reply["recycle"] = True
    return reply


def main(memory_growth: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in a terminal is for the parent
    sandbox = Sandbox()
    fixed = {"now": lambda: _dt.datetime.now(_dt.timezone.utc)}
    for mode, source in _WARM_UP:
        if mode == "eval":
            sandbox.evaluate(source, {}, fixed)
        else:
            sandbox.execute(source, {}, fixed)
    _lock_down(memory_growth)
    _write_frame({"ready": True, "pid": os.getpid()})
    while True:
        request = _read_frame()
        if not isinstance(request, dict):
            return
        reply = handle(sandbox, request, memory_growth)
        try:
            _write_frame(reply)
        except MemoryError:
            _write_frame({"ok": False, "recycle": True, "error": {
                "kind": "violation", "message": f"evaluation used more than {memory_growth >> 20} MB of memory"}})
        if reply.get("recycle"):
            return


if __name__ == "__main__":  # pragma: no cover - the pool starts it with -c
    main(int(sys.argv[1]))
