"""A restricted evaluator for every expression and script a diagram carries.

SpiffWorkflow's default environment ``exec``s with full builtins, and even an emptied
``__builtins__`` leaves ``().__class__.__base__.__subclasses__()`` open. This module closes
that in three layers:

1. **Compile-time whitelist** (`compiler.py`): only a small set of AST nodes is accepted;
   imports, function/class definitions, ``global``, ``lambda``, ``try``, names or attributes
   that start with an underscore, bytes literals and slice assignment are rejected with the
   line and a plain message. Expressions (conditions, DMN cells, timers, parameters) may not
   call methods that change data.
2. **Run-time guards**: every attribute read goes through :func:`_guarded_getattr`, which
   only allows public attributes of plain data types (str, numbers, containers, dates);
   ``+ * ** << % //`` are rewritten to checked calls so that ``10**10**9``, ``"x" * 10**10`` or
   a list doubling itself cannot eat the machine; ``range``, ``extend`` and ``[*a, *b]`` are capped. C code that walks a value in full (printing,
   comparing, sorting, hashing, serialising) never sees more than :func:`_measure` allows:
   ``a = [a, a]`` a hundred times is a tiny object that would take 2**100 steps to print.
   ``json_*``, ``str``, ``tuple``, ``sorted``/``min``/``max``, ``sum``, ``round``, ``zip`` and a
   few methods are exposed as checked wrappers for the same reason.
3. **Bounded time and memory**: every call, operator, comparison, loop turn and comprehension
   step calls a tick that raises :class:`SandboxTimeout` once the evaluation has run past its
   deadline (``while True: pass`` fails the step instead of hanging a worker) and, every few
   milliseconds, :class:`SandboxViolation` once the process has grown by more than
   ``MAX_MEMORY_GROWTH`` since the evaluation began. (A trace function is not enough: a
   one-line loop emits no line events.) Without function definitions there is no recursion.

What reaches task data (a script's variables, an expression's value) is plain data of bounded
size and depth, so SpiffWorkflow can copy and serialise it.
"""
from __future__ import annotations

import ast
import datetime as _dt
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from engine.sandbox.builtins import HELPERS, SAFE_BUILTINS, _guarded_getattr
from engine.sandbox.clock import _MEMORY_CHECK_INTERVAL, _call, _clock, _pass, _tick
from engine.sandbox.compiler import _Guard, check
from engine.sandbox.limits import DEFAULT_TIME_LIMIT as DEFAULT_TIME_LIMIT  # public names, re-exported (``x as x``)
from engine.sandbox.limits import MAX_INT_BITS as MAX_INT_BITS
from engine.sandbox.limits import MAX_POW_EXPONENT as MAX_POW_EXPONENT
from engine.sandbox.limits import MAX_SEQUENCE as MAX_SEQUENCE
from engine.sandbox.limits import MAX_STRING as MAX_STRING
from engine.sandbox.limits import SandboxError as SandboxError
from engine.sandbox.limits import SandboxTimeout as SandboxTimeout
from engine.sandbox.limits import SandboxViolation as SandboxViolation
from engine.sandbox.measure import _checked_tuple, _measure, _measure_printable, _short, _sized
from engine.sandbox.operators import _IN_PLACE, _OPERATORS, _augmented_item, _compare, _operand

_INTERNAL = {
    "_cf_getattr": _guarded_getattr, "_cf_tick": _tick, "_cf_call": _call, "_cf_pass": _pass,
    "_cf_sized": _sized, "_cf_compare": _compare, "_cf_operand": _operand, "_cf_tuple": _checked_tuple,
    "_cf_text": lambda text: _short(_pass(text)), "_cf_fmt": _measure_printable,
    "_cf_augitem": _augmented_item,
    **{f"_cf_{name}": op for name, op in _OPERATORS.items()},
    **{f"_cf_i{name}": op for name, op in _IN_PLACE.items()},
}


_RESERVED = frozenset(HELPERS) | frozenset(_INTERNAL)


class Sandbox:
    """Compiles (with checks, cached) and runs source under the restrictions above."""

    def __init__(self, time_limit: float = DEFAULT_TIME_LIMIT, cache_size: int = 2048):
        self.time_limit = time_limit
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._cache_size = cache_size

    def compile(self, source: str, mode: str) -> Any:
        """Compile ``source`` in ``mode`` ('eval' or 'exec'); raise SandboxError if it is not allowed."""
        key = (mode, source)
        code = self._cache.get(key)
        if code is not None:
            self._cache.move_to_end(key)
            return code
        try:
            tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
            check(tree)
            tree = ast.fix_missing_locations(_Guard().visit(tree))
            code = compile(tree, "<script>", mode)
        except SyntaxError as exc:
            raise SandboxError(f"syntax error: {exc.msg}", exc.lineno) from None
        except (RecursionError, MemoryError):  # the parser and compiler recurse per nesting level
            raise SandboxViolation("nested too deeply to compile") from None
        except ValueError as exc:
            raise SandboxError(f"cannot compile: {exc}") from None
        self._cache[key] = code
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return code

    def _globals(self, context: dict[str, Any], external: dict[str, Any] | None) -> dict[str, Any]:
        clash = _RESERVED.intersection(context)
        if clash:
            raise SandboxError(f"task data overwrites the helper(s) {sorted(clash)}; rename the variable")
        return {"__builtins__": SAFE_BUILTINS, **HELPERS, **(external or {}), **context, **_INTERNAL}

    def _run(self, code: Any, env: dict[str, Any], finish: Callable[[Any], Any]) -> Any:
        """Evaluate ``code`` and hand its result to ``finish``, both within the time limit."""
        saved = {name: getattr(_clock, name, None)
                 for name in ("deadline", "limit", "memory_base", "next_memory_check")}
        start = time.monotonic()
        _clock.limit = self.time_limit
        _clock.deadline = start + self.time_limit
        _clock.memory_base, _clock.next_memory_check = None, start + _MEMORY_CHECK_INTERVAL
        if saved["deadline"] is not None:  # nested evaluation: never extend the outer deadline
            _clock.deadline = min(_clock.deadline, saved["deadline"])
            _clock.memory_base, _clock.next_memory_check = saved["memory_base"], saved["next_memory_check"]
        try:
            return finish(eval(code, env))
        finally:
            for name, value in saved.items():
                setattr(_clock, name, value)

    def evaluate(self, expression: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> Any:
        """The value of ``expression``: plain data (or a timezone), like task data."""
        def value(result: Any) -> Any:
            return result if isinstance(result, _dt.timezone) else _measure(result, data=True)

        return self._run(self.compile(expression, "eval"), self._globals(context, external), value)

    def execute(self, script: str, context: dict[str, Any], external: dict[str, Any] | None = None) -> None:
        """Run ``script`` with ``context`` as its variables; write the results back into it."""
        code = self.compile(script, "exec")
        env = self._globals(context, external)
        skip = _RESERVED | set(external or {}) | {"__builtins__"}

        def results(_: None) -> dict[str, Any]:
            updates = {}
            for key, value in env.items():
                if key in skip or callable(value):
                    continue
                try:
                    updates[key] = _measure(value, data=True)
                except SandboxError as exc:
                    raise type(exc)(f"variable '{key}': {exc.message}") from None
            return updates

        updates = self._run(code, env, results)
        for key in list(context):
            if key not in env:
                del context[key]
        context.update(updates)
