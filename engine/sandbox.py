"""A restricted evaluator for every expression and script a diagram carries.

SpiffWorkflow's default environment ``exec``s with full builtins, and even an emptied
``__builtins__`` leaves ``().__class__.__base__.__subclasses__()`` open. This module closes
that in three layers:

1. **Compile-time whitelist** (:func:`check`): only a small set of AST nodes is accepted;
   imports, function/class definitions, ``global``, ``lambda``, names or attributes that
   start with an underscore are rejected with the line and a plain message.
2. **Run-time guards**: every attribute read goes through :func:`_guarded_getattr`, which
   only allows public attributes of plain data types (str, numbers, containers, dates);
   ``**`` and ``*`` are rewritten to checked calls so that ``10**10**9`` or ``"x" * 10**10``
   cannot eat the machine; ``range`` is capped.
3. **Bounded time**: every loop body and every comprehension step calls a tick that raises
   :class:`SandboxTimeout` once the evaluation has run past its deadline, so
   ``while True: pass`` fails the step instead of hanging a worker. (A trace function is
   not enough: a one-line loop emits no line events.) Without function definitions there is
   no recursion, and the C-level work a single call can do is bounded by the caps above.
"""
from __future__ import annotations

import ast
import re
import datetime as _dt
import json
import math
import threading
import time
from collections import OrderedDict
from typing import Any


class SandboxError(Exception):
    """A script or expression was rejected or failed inside the sandbox."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class SandboxViolation(SandboxError):
    """The source uses a construct the sandbox does not allow."""


class SandboxTimeout(SandboxError):
    """An evaluation ran past its time limit."""


MAX_POW_EXPONENT = 1000
MAX_SEQUENCE = 100_000
MAX_STRING = 1_000_000
MAX_INT_BITS = 100_000
DEFAULT_TIME_LIMIT = 1.0

_ALLOWED_NODES = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.While, ast.Break, ast.Continue, ast.Pass, ast.BoolOp, ast.BinOp, ast.UnaryOp,
    ast.Compare, ast.IfExp, ast.Call, ast.keyword, ast.Name, ast.Load, ast.Store, ast.Del,
    ast.Delete, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp,
    ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.comprehension, ast.Subscript,
    ast.Slice, ast.Attribute, ast.JoinedStr, ast.FormattedValue, ast.Starred,
    ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor, ast.Invert,
    ast.USub, ast.UAdd, ast.Not, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    ast.In, ast.NotIn, ast.Is, ast.IsNot,
)
_FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals",
    "locals", "vars", "dir", "type", "object", "super", "breakpoint", "input", "help",
    "memoryview", "classmethod", "staticmethod", "property", "__import__",
})
# Methods that reach attributes through a format mini-language, or pad a string to any size.
_FORBIDDEN_ATTRIBUTES = frozenset({
    "format", "format_map", "center", "ljust", "rjust", "zfill", "expandtabs",
})
_MAX_FORMAT_WIDTH = 1000

_SAFE_TYPES = (
    str, int, float, bool, type(None), list, dict, tuple, set, frozenset,
    _dt.datetime, _dt.date, _dt.time, _dt.timedelta, _dt.timezone,
)
_SAFE_CLASSES = frozenset({_dt.datetime, _dt.date, _dt.time, _dt.timedelta, _dt.timezone})


def _violation(node: ast.AST, message: str) -> SandboxViolation:
    return SandboxViolation(message, getattr(node, "lineno", None))


def check(tree: ast.AST) -> None:
    """Raise :class:`SandboxViolation` for the first construct outside the whitelist."""
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise _violation(node, f"{type(node).__name__} is not allowed in a script or expression")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise _violation(node, f"name '{node.id}' is not allowed (leading underscore)")
            if node.id in _FORBIDDEN_NAMES:
                raise _violation(node, f"'{node.id}' is not available in scripts")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr in _FORBIDDEN_ATTRIBUTES:
                raise _violation(node, f"attribute '{node.attr}' is not allowed")
            if not isinstance(node.ctx, ast.Load):
                raise _violation(node, "assigning to attributes is not allowed")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            _check_format_spec(node)


def _check_format_spec(node: ast.FormattedValue) -> None:
    parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
    if not all(isinstance(p, ast.Constant) for p in parts):
        raise _violation(node, "computed format specifications are not allowed")
    spec = "".join(str(p.value) for p in parts)
    widths = [int(n) for n in re.findall(r"\d+", spec)]
    if any(w > _MAX_FORMAT_WIDTH for w in widths):
        raise _violation(node, f"format width larger than {_MAX_FORMAT_WIDTH}")


_CHECKED_OPS = {ast.Pow: "_cf_pow", ast.Mult: "_cf_mul", ast.Mod: "_cf_mod", ast.LShift: "_cf_lshift"}


class _Guard(ast.NodeTransformer):
    """Route attribute reads, powers and products through checked helpers."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(
            func=ast.Name("_cf_getattr", ast.Load()),
            args=[node.value, ast.Constant(node.attr)], keywords=[],
        )
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        helper = _CHECKED_OPS.get(type(node.op))
        if helper is None:
            return node
        call = ast.Call(func=ast.Name(helper, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)

    def _tick(self) -> ast.Call:
        return ast.Call(func=ast.Name("_cf_tick", ast.Load()), args=[], keywords=[])

    def _visit_loop(self, node: ast.While | ast.For) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, ast.Expr(self._tick()))
        return node

    visit_While = _visit_loop
    visit_For = _visit_loop

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.append(self._tick())
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        helper = _CHECKED_OPS.get(type(node.op))
        if helper is None:
            return node
        target_load = ast.Name(node.target.id, ast.Load()) if isinstance(node.target, ast.Name) else None
        if target_load is None:
            return node
        value = ast.Call(func=ast.Name(helper, ast.Load()), args=[target_load, node.value], keywords=[])
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)


def _guarded_getattr(obj: Any, name: str) -> Any:
    if name.startswith("_") or name in _FORBIDDEN_ATTRIBUTES:
        raise SandboxViolation(f"attribute '{name}' is not allowed")
    if not (isinstance(obj, _SAFE_TYPES) or obj in _SAFE_CLASSES):
        raise SandboxViolation(f"attribute access on {type(obj).__name__} is not allowed")
    if isinstance(obj, str) and name in _STRING_GUARDS:
        return _STRING_GUARDS[name](obj)
    return getattr(obj, name)


def _too_long(size: int) -> None:
    if size > MAX_STRING:
        raise SandboxViolation(f"string longer than {MAX_STRING} characters")


def _guarded_join(separator: str):
    def join(items):
        items = list(items)
        _too_long(sum(len(i) for i in items if isinstance(i, str)) + len(separator) * max(len(items) - 1, 0))
        return separator.join(items)
    return join


def _guarded_replace(text: str):
    def replace(old, new, count=-1):
        hits = text.count(old) if count < 0 else min(count, text.count(old))
        if old == "":
            hits = len(text) + 1 if count < 0 else min(count, len(text) + 1)
        _too_long(len(text) + hits * (len(new) - len(old)))
        return text.replace(old, new, count)
    return replace


_STRING_GUARDS = {"join": _guarded_join, "replace": _guarded_replace}


def _int_too_big(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise SandboxViolation(f"integer larger than {MAX_INT_BITS} bits")


def _checked_pow(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, (int, float)) and abs(exponent) > MAX_POW_EXPONENT:
        raise SandboxViolation(f"exponent {exponent} is larger than {MAX_POW_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        _int_too_big(base.bit_length() * exponent)
    return base ** exponent


def _checked_mul(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            if len(seq) * count > MAX_SEQUENCE:
                raise SandboxViolation(f"sequence longer than {MAX_SEQUENCE} items")
    if isinstance(left, int) and isinstance(right, int):
        _int_too_big(left.bit_length() + right.bit_length())
    return left * right


def _checked_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        _int_too_big(left.bit_length() + right)
    return left << right


def _checked_mod(left: Any, right: Any) -> Any:
    if isinstance(left, (str, bytes)):
        raise SandboxViolation("%-formatting is not allowed; use an f-string")
    return left % right


def _capped_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise SandboxViolation(f"range longer than {MAX_SEQUENCE} items")
    return r


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _parse_datetime(value: str) -> _dt.datetime:
    parsed = _dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


SAFE_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int",
        "isinstance", "len", "list", "map", "max", "min", "reversed", "round", "set",
        "sorted", "str", "sum", "tuple", "zip", "ValueError", "KeyError", "TypeError",
        "True", "False", "None",
    )
}
SAFE_BUILTINS["range"] = _capped_range


def _ticking(lazy: Any) -> Any:
    """A lazy builtin whose every item passes the clock: ``list.extend(map(f, same_list))``
    would otherwise loop forever inside C code, where no loop tick runs."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for item in lazy(*args, **kwargs):
            _tick()
            yield item

    wrapper.__name__ = lazy.__name__
    return wrapper


for _lazy in (map, filter, zip, enumerate):
    SAFE_BUILTINS[_lazy.__name__] = _ticking(_lazy)

#: Helpers every script and expression can call.
HELPERS: dict[str, Any] = {
    "now": _now,
    "parse_datetime": _parse_datetime,
    "datetime": _dt.datetime,
    "timedelta": _dt.timedelta,
    "floor": math.floor,
    "ceil": math.ceil,
    "json_dumps": json.dumps,
    "json_loads": json.loads,
}
_clock = threading.local()


def _tick() -> bool:
    if time.monotonic() > _clock.deadline:
        raise SandboxTimeout(f"evaluation took longer than {_clock.limit:g}s")
    return True


_INTERNAL = {
    "_cf_getattr": _guarded_getattr, "_cf_pow": _checked_pow, "_cf_mul": _checked_mul,
    "_cf_mod": _checked_mod, "_cf_lshift": _checked_lshift, "_cf_tick": _tick,
}


_RESERVED = frozenset(HELPERS) | frozenset(_INTERNAL)
_DATA_TYPES = tuple(t for t in _SAFE_TYPES if t is not _dt.timezone)


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
        except SyntaxError as exc:
            raise SandboxError(f"syntax error: {exc.msg}", exc.lineno) from None
        check(tree)
        tree = ast.fix_missing_locations(_Guard().visit(tree))
        code = compile(tree, "<script>", mode)
        self._cache[key] = code
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return code

    def _globals(self, context: dict, external: dict | None) -> dict:
        clash = _RESERVED.intersection(context)
        if clash:
            raise SandboxError(f"task data overwrites the helper(s) {sorted(clash)}; rename the variable")
        return {"__builtins__": SAFE_BUILTINS, **HELPERS, **(external or {}), **context, **_INTERNAL}

    def _run(self, code: Any, env: dict) -> Any:
        outer = getattr(_clock, "deadline", None)
        _clock.limit = self.time_limit
        _clock.deadline = time.monotonic() + self.time_limit
        if outer is not None:  # nested evaluation: never extend the outer deadline
            _clock.deadline = min(_clock.deadline, outer)
        try:
            return eval(code, env)  # noqa: S307 - compiled from a checked, guarded AST
        finally:
            _clock.deadline = outer

    def evaluate(self, expression: str, context: dict, external: dict | None = None) -> Any:
        return self._run(self.compile(expression, "eval"), self._globals(context, external))

    def execute(self, script: str, context: dict, external: dict | None = None) -> None:
        """Run ``script`` with ``context`` as its variables; write the results back into it."""
        code = self.compile(script, "exec")
        env = self._globals(context, external)
        self._run(code, env)
        skip = _RESERVED | set(external or {}) | {"__builtins__"}
        for key in list(context):
            if key not in env:
                del context[key]
        for key, value in env.items():
            if key in skip or callable(value):
                continue
            if not isinstance(value, _DATA_TYPES):
                raise SandboxError(f"variable '{key}' holds a {type(value).__name__}, which is not data; "
                                   "convert it (e.g. with list())")
            context[key] = value
