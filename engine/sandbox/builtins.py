"""The builtins, helpers and methods scripts may use, as checked wrappers."""
from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable
from typing import Any

from engine.sandbox.clock import _tick
from engine.sandbox.limits import (
    _CONTAINERS,
    _FORBIDDEN_ATTRIBUTES,
    _SAFE_CLASSES,
    _SAFE_TYPES,
    MAX_POW_EXPONENT,
    MAX_SEQUENCE,
    SandboxViolation,
)
from engine.sandbox.measure import _checked_tuple, _measure, _measure_printable, _short, _too_long, _too_many
from engine.sandbox.operators import _operand


# -- builtins and helpers -------------------------------------------------------------------
def _capped_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise SandboxViolation(f"range longer than {MAX_SEQUENCE} items")
    return r


def _guarded_str(value: Any = "") -> str:
    return _short(str(_measure_printable(value)))


def _guarded_tuple(iterable: Any = ()) -> tuple[Any, ...]:
    return _checked_tuple(tuple(iterable))


def _measured_key(key: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    return None if key is None else (lambda item: _operand(key(item)))


def _guarded_sorted(iterable: Any, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> list[Any]:
    items = list(iterable)
    if key is None:
        _measure(items)
    return sorted(items, key=_measured_key(key), reverse=reverse)


def _extreme(builtin: Callable[..., Any]) -> Callable[..., Any]:
    """min/max compare their items like sorted() does."""

    def extreme(*args: Any, key: Callable[[Any], Any] | None = None, **default: Any) -> Any:
        items = list(args[0]) if len(args) == 1 else list(args)
        if key is None:
            _measure(items)
        return builtin(items, key=_measured_key(key), **default)

    extreme.__name__ = builtin.__name__
    return extreme


def _guarded_sum(iterable: Any, start: Any = 0) -> Any:
    if not isinstance(start, (int, float, _dt.timedelta)):
        raise SandboxViolation("sum() adds numbers or timedeltas; join strings, extend lists")
    return sum(iterable, start)


def _guarded_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > MAX_POW_EXPONENT:
        raise SandboxViolation(f"round() to more than {MAX_POW_EXPONENT} digits")
    return round(number, ndigits)


def _guarded_zip(*iterables: Any, strict: bool = False) -> Any:
    for item in zip(*iterables, strict=strict):
        _tick()
        yield _checked_tuple(item)


def _guarded_enumerate(iterable: Any, start: int = 0) -> Any:
    for item in enumerate(iterable, start):
        _tick()
        yield _checked_tuple(item)


def _ticking(lazy: Any) -> Any:
    """A lazy builtin whose every item passes the clock: ``list.extend(map(f, same_list))``
    would otherwise loop forever inside C code, where no loop tick runs."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for item in lazy(*args, **kwargs):
            _tick()
            yield item

    wrapper.__name__ = lazy.__name__
    return wrapper


#: the checked stand-ins for types; isinstance() maps them back
_TYPE_STANDINS = {_guarded_str: str, _guarded_tuple: tuple}


def _guarded_isinstance(obj: Any, classinfo: Any) -> bool:
    if isinstance(classinfo, tuple):
        classinfo = tuple(_TYPE_STANDINS.get(c, c) if callable(c) else c for c in classinfo)
    elif callable(classinfo):
        classinfo = _TYPE_STANDINS.get(classinfo, classinfo)
    return isinstance(obj, classinfo)


def _json_dumps(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    """json.dumps without its hooks (cls=, default=, separators=) and with a small indent."""
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 4):
        raise SandboxViolation("json_dumps: indent must be None or 0 to 4")
    return _short(json.dumps(_measure_printable(value), indent=indent, sort_keys=bool(sort_keys)))


def _json_loads(text: str) -> Any:
    """json.loads without its hooks (cls=, object_hook=, parse_*=)."""
    if not isinstance(text, str):
        raise SandboxViolation("json_loads takes a string")
    return json.loads(text)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _parse_datetime(value: str) -> _dt.datetime:
    parsed = _dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


# -- methods that need a check ----------------------------------------------------------------
def _guarded_join(separator: str) -> Callable[[Any], str]:
    def join(items: Any) -> str:
        items = list(items)
        _too_long(sum(len(i) for i in items if isinstance(i, str)) + len(separator) * max(len(items) - 1, 0))
        return separator.join(items)
    return join


def _guarded_replace(text: str) -> Callable[..., str]:
    def replace(old: str, new: str, count: int = -1) -> str:
        hits = text.count(old) if count < 0 else min(count, text.count(old))
        if old == "":
            hits = len(text) + 1 if count < 0 else min(count, len(text) + 1)
        _too_long(len(text) + hits * (len(new) - len(old)))
        return text.replace(old, new, count)
    return replace


def _guarded_search(seq: list[Any] | tuple[Any, ...], name: str) -> Callable[..., Any]:
    """index/count/remove compare the value with every item (and index() prints it)."""
    method = getattr(seq, name)

    def search(value: Any, *args: Any) -> Any:
        if isinstance(value, _CONTAINERS):
            _measure(seq)
            _measure_printable(value)
        return method(value, *args)
    return search


def _guarded_extend(items: list[Any]) -> Callable[[Any], None]:
    def extend(iterable: Any) -> None:
        if hasattr(iterable, "__len__"):  # lazy iterables pass the clock item by item instead
            _too_many(len(items) + len(iterable))
        items.extend(iterable)
    return extend


def _guarded_sort(items: list[Any]) -> Callable[..., None]:
    def sort(key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        if key is None:
            _measure(items)
        items.sort(key=_measured_key(key), reverse=reverse)
    return sort


def _guarded_items(mapping: dict[Any, Any]) -> Callable[[], list[tuple[Any, ...]]]:
    """The (key, value) pairs are new tuples: a list of checked ones instead of a view."""
    def items() -> list[tuple[Any, ...]]:
        pairs = []
        for pair in mapping.items():
            _tick()
            pairs.append(_checked_tuple(pair))
        return pairs
    return items


def _guarded_popitem(mapping: dict[Any, Any]) -> Callable[[], tuple[Any, ...]]:
    return lambda: _checked_tuple(mapping.popitem())


def _guarded_strptime(_owner: Any) -> Callable[[str, str], _dt.datetime]:
    """_strptime builds its pattern in time quadratic in the format's length."""
    def strptime(text: str, fmt: str) -> _dt.datetime:
        if len(fmt) > 100 or len(text) > 1000:
            raise SandboxViolation("strptime: format longer than 100 or text longer than 1000 characters")
        return _dt.datetime.strptime(text, fmt)
    return strptime


_METHOD_GUARDS: dict[tuple[type, str], Callable[..., Any]] = {
    (str, "join"): _guarded_join, (str, "replace"): _guarded_replace,
    (list, "sort"): _guarded_sort, (list, "extend"): _guarded_extend,
    (dict, "items"): _guarded_items, (dict, "popitem"): _guarded_popitem,
    (_dt.datetime, "strptime"): _guarded_strptime,
    **{(t, name): (lambda seq, name=name: _guarded_search(seq, name))
       for t in (list, tuple) for name in ("index", "count", "remove") if hasattr(t, name)},
}


def _guarded_getattr(obj: Any, name: str) -> Any:
    if name.startswith("_") or name in _FORBIDDEN_ATTRIBUTES:
        raise SandboxViolation(f"attribute '{name}' is not allowed")
    if not (isinstance(obj, _SAFE_TYPES) or (isinstance(obj, type) and obj in _SAFE_CLASSES)):
        raise SandboxViolation(f"attribute access on {type(obj).__name__} is not allowed")
    for cls in (obj,) if isinstance(obj, type) else type(obj).__mro__:  # dict subclasses too
        guard = _METHOD_GUARDS.get((cls, name))
        if guard is not None:
            return guard(obj)
    return getattr(obj, name)


SAFE_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "filter", "float", "int", "len", "list", "map",
        "reversed", "set", "ValueError", "KeyError", "TypeError", "True", "False", "None",
    )
}
for _lazy in (map, filter):
    SAFE_BUILTINS[_lazy.__name__] = _ticking(_lazy)
SAFE_BUILTINS.update({
    "range": _capped_range, "str": _guarded_str, "tuple": _guarded_tuple, "isinstance": _guarded_isinstance,
    "sorted": _guarded_sorted, "min": _extreme(min), "max": _extreme(max), "sum": _guarded_sum,
    "round": _guarded_round, "zip": _guarded_zip, "enumerate": _guarded_enumerate,
})

#: Helpers every script and expression can call.
HELPERS: dict[str, Any] = {
    "now": _now,
    "parse_datetime": _parse_datetime,
    "datetime": _dt.datetime,
    "timedelta": _dt.timedelta,
    "floor": math.floor,
    "ceil": math.ceil,
    "json_dumps": _json_dumps,
    "json_loads": _json_loads,
}


