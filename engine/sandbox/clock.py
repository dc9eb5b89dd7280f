"""The per-evaluation clock: time limit and memory growth, checked by every tick."""
from __future__ import annotations

import os
import threading
import time
from typing import Any

from engine.sandbox.limits import MAX_MEMORY_GROWTH, SandboxTimeout, SandboxViolation

# -- the clock ------------------------------------------------------------------------------
_clock = threading.local()
_MEMORY_CHECK_INTERVAL = 0.005
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_memory() -> int:
    """This process's resident memory in bytes (0 where /proc is missing: the memory check is
    then off, and only the time limit and the size caps hold)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _tick() -> bool:
    now = time.monotonic()
    if now > _clock.deadline:
        raise SandboxTimeout(f"evaluation took longer than {_clock.limit:g}s")
    if now >= _clock.next_memory_check:  # not at all in evaluations shorter than the interval
        _clock.next_memory_check = now + _MEMORY_CHECK_INTERVAL
        if _clock.memory_base is None:
            _clock.memory_base = _resident_memory()
        elif _resident_memory() - _clock.memory_base > MAX_MEMORY_GROWTH:
            raise SandboxViolation(f"evaluation used more than {MAX_MEMORY_GROWTH >> 20} MB of memory")
    return True


def _call(function: Any, /, *args: Any, **kwargs: Any) -> Any:
    _tick()
    return function(*args, **kwargs)


def _pass(value: Any) -> Any:
    _tick()
    return value


