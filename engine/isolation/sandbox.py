"""The sandbox, evaluated in worker processes: same interface, same errors, same results.

:class:`IsolatedSandbox` is a :class:`~engine.sandbox.Sandbox` whose ``evaluate`` and ``execute``
send the code to a worker process of the pool (``pool.py``) instead of running it here. The
parent still compiles every source first (cached), so a source the sandbox refuses fails with the
very same :class:`SandboxError` without a round trip, and so the parent knows the names the code
can reach: the sandbox has no ``globals()``/``vars()``/``getattr``, so a script reaches task data
only by name, and only the variables it names cross (encoded by ``codec.py``) — a condition on
``priority`` does not copy the whole case file twice.

SpiffWorkflow's semantics are kept:

- **expressions** (conditions, DMN cells, timer and service-task parameters...) return a value:
  the worker's value, decoded. The sandbox forbids expressions to change data, so nothing else
  comes back.
- **scripts** change ``task.data`` in place: the worker runs the script on the variables it names
  and sends back all of them as they are afterwards; the parent deletes those the script deleted
  and updates the others in the same dict (``task.data`` stays the same object). Variables the
  script does not name are not touched — before, unchanged values were replaced by themselves.
  A list the script appended to comes back as a new list (the old object, which an earlier
  task's data may share, is no longer changed under it).
- ``now()`` is the parent's clock (one instant for the whole evaluation), so a frozen clock in a
  test and the case's time agree with what the worker sees.
- what the code raises is raised again here: a :class:`SandboxError` (violation, timeout) with
  its message and line, a built-in exception (``NameError``, ``ZeroDivisionError``, ``KeyError``…)
  as the same type with the same arguments; anything else as :class:`ScriptFailure` with the same
  message. A worker that breaches a limit is killed and replaced: :class:`SandboxTimeout` (wall
  clock, CPU) or :class:`SandboxViolation` (memory, crash) — the same path as before, so the step
  fails, the case records the error and nothing is saved.

Expressions :func:`~engine.isolation.inline.provably_cheap` says are cheap stay in-process, under
the sandbox with a short time limit (``inline_limit``); one that still runs past it (a
comparison on very large task data) is evaluated again in a worker with the full limit —
expressions have no side effects, so that is safe.
"""
from __future__ import annotations

import builtins
import contextlib
import datetime as _dt
import types
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from engine.isolation import codec, inline
from engine.isolation.pool import Breach, Limits, WorkerPool
from engine.sandbox import _RESERVED, DEFAULT_TIME_LIMIT, Sandbox, SandboxError, SandboxTimeout, SandboxViolation

#: the in-process time limit of a provably cheap expression (then it goes to a worker)
INLINE_TIME_LIMIT = 0.05


class ScriptFailure(Exception):
    """A script raised an exception that is not a built-in one (e.g. ``json_loads`` on bad text);
    ``str()`` is the original message, ``type_name`` the original class."""

    def __init__(self, type_name: str, message: str):
        super().__init__(message)
        self.type_name = type_name


@dataclass(frozen=True)
class _Plan:
    names: frozenset[str]
    inline: bool


def _names(code: types.CodeType) -> set[str]:
    """Every global name the code (and the comprehensions in it) can load, store or delete."""
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _names(const)
    return found


class IsolatedSandbox(Sandbox):
    def __init__(self, pool: WorkerPool, time_limit: float = DEFAULT_TIME_LIMIT, cache_size: int = 2048,
                 inline_limit: float = INLINE_TIME_LIMIT, enabled: bool = True):
        super().__init__(time_limit, cache_size)
        self.pool = pool
        #: off: every evaluation in-process, exactly as the plain Sandbox (SCRIPT_ISOLATION=0)
        self.enabled = enabled
        self._inline = Sandbox(time_limit=inline_limit, cache_size=cache_size)
        self._plans: OrderedDict[tuple[str, str], _Plan] = OrderedDict()

    def _plan(self, source: str, mode: str) -> _Plan:
        key = (mode, source)
        plan = self._plans.get(key)
        if plan is not None:
            with contextlib.suppress(KeyError):  # another thread may have just dropped it
                self._plans.move_to_end(key)
            return plan
        code = self.compile(source, mode)  # refused here as in-process, without a round trip
        plan = _Plan(frozenset(_names(code)), mode == "eval" and inline.provably_cheap(source))
        self._plans[key] = plan
        if len(self._plans) > self._cache_size:
            self._plans.popitem(last=False)
        return plan

    def evaluate(self, expression: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> Any:
        if not self.enabled:
            return super().evaluate(expression, context, external)
        plan = self._plan(expression, "eval")
        if plan.inline:
            try:
                return self._inline.evaluate(expression, context, external)
            except SandboxTimeout:
                pass  # large data after all: again in a worker, with the full time limit
        reply = self._isolated("eval", expression, plan, context, external)
        return codec.decode(reply["value"])

    def execute(self, script: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> None:
        if not self.enabled:
            super().execute(script, context, external)
            return
        plan = self._plan(script, "exec")
        seen = [name for name in plan.names if name in context]
        reply = self._isolated("exec", script, plan, context, external)
        after = codec.decode(reply["vars"])
        if not isinstance(after, dict):
            raise SandboxViolation("a script worker answered something that is not variables")
        for name in seen:
            if name not in after:
                del context[name]
        context.update({name: value for name, value in after.items() if name in plan.names})

    def _isolated(self, op: str, source: str, plan: _Plan, context: dict[str, Any],
                  external: dict[str, Any] | None) -> dict[str, Any]:
        clash = _RESERVED.intersection(context)
        if clash:
            raise SandboxError(f"task data overwrites the helper(s) {sorted(clash)}; rename the variable")
        message = {"op": op, "src": source, "limit": self.time_limit,
                   "ctx": self._encoded(plan, context), "ext": self._encoded(plan, external or {}),
                   "now": codec.encode(_dt.datetime.now(_dt.timezone.utc))}
        failure: BaseException | None = None
        try:
            reply = self.pool.call(message, self.time_limit)
        except Breach as breach:
            failure = self._breach(breach)
        if failure is not None:
            raise failure  # outside the except block: the error is the root cause, nothing behind it
        if not reply.get("ok"):
            raise _reraise(reply.get("error"))
        return reply

    @staticmethod
    def _encoded(plan: _Plan, values: dict[str, Any]) -> Any:
        chosen = {name: values[name] for name in plan.names if name in values}
        bad = None
        for name, value in chosen.items():
            try:
                chosen[name] = codec.encode(value)
            except codec.CodecError as exc:
                bad = f"variable '{name}': {exc}; convert it (e.g. with list())"
                break
        if bad is not None:
            raise SandboxError(bad)
        return chosen

    def _breach(self, breach: Breach) -> SandboxError:
        limits = self.pool.limits
        if breach.kind == "timeout":
            return SandboxTimeout(f"evaluation took longer than {self.time_limit:g}s")
        if breach.kind == "cpu":
            return SandboxTimeout(f"evaluation used more than {limits.cpu(self.time_limit)}s of CPU time")
        if breach.kind == "busy":
            return SandboxTimeout(f"no script worker was free within {limits.queue_seconds:g}s")
        if breach.kind == "start":
            return SandboxError(f"a script worker could not start{': ' + breach.detail if breach.detail else ''}")
        detail = f" ({breach.detail})" if breach.detail else ""
        return SandboxViolation(f"the script's worker process ended{detail}; was it out of memory "
                                f"(more than {limits.memory_mb} MB)?")


def _reraise(error: Any) -> BaseException:
    """The exception a worker reported, as this process's exception."""
    if not isinstance(error, dict):
        return SandboxViolation("a script worker answered with a malformed error")
    message = str(error.get("message", ""))
    line = error.get("line") if isinstance(error.get("line"), int) else None
    kind = error.get("kind")
    if kind == "timeout":
        return SandboxTimeout(message, line)
    if kind == "violation":
        return SandboxViolation(message, line)
    if kind == "sandbox":
        return SandboxError(message, line)
    type_name = str(error.get("type", "Exception"))
    cls = getattr(builtins, type_name, None) if error.get("module") == "builtins" else None
    if isinstance(cls, type) and issubclass(cls, Exception) and "args" in error:
        try:
            rebuilt = cls(*codec.decode(error["args"]))
        except (codec.CodecError, TypeError, ValueError):
            rebuilt = None
        if rebuilt is not None and str(rebuilt) == message:
            return rebuilt
    return ScriptFailure(type_name, message)


#: the process's pool (workers start when first needed, or by ``configure(..., start=True)``)
POOL = WorkerPool()
_settings: dict[str, Any] = {"enabled": True}


def configure(enabled: bool = True, limits: Limits | None = None, start: bool = False) -> None:
    """Turn isolation on or off and set the pool's limits for every sandbox made by
    :func:`default_sandbox` (those made before included); ``start`` starts the workers now."""
    _settings["enabled"] = enabled
    POOL.configure(limits or Limits())
    for sandbox in _made:
        sandbox.enabled = enabled
    if enabled and start:
        POOL.start()


_made: weakref.WeakSet[IsolatedSandbox] = weakref.WeakSet()


def default_sandbox() -> Sandbox:
    """The sandbox an :class:`~engine.runtime.Engine` uses unless given one: isolated by default."""
    sandbox = IsolatedSandbox(POOL, enabled=bool(_settings["enabled"]))
    _made.add(sandbox)
    return sandbox
