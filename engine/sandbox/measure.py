"""Bounding the size and depth of values before C code walks them in full."""
from __future__ import annotations

import itertools
import sys
from typing import Any

from engine.sandbox.clock import _tick
from engine.sandbox.limits import (
    _CONTAINERS,
    _DATA_CONTAINERS,
    _DATA_LEAVES,
    _KEY_TYPES,
    _MAX_DATA_INT_BITS,
    MAX_DATA_CHARS,
    MAX_DATA_NODES,
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_SEQUENCE,
    MAX_STRING,
    SandboxError,
    SandboxViolation,
)


# -- sizes ----------------------------------------------------------------------------------
def _measure(value: Any, max_nodes: int = MAX_DATA_NODES, max_chars: int = MAX_DATA_CHARS,
             through: tuple[type[Any], ...] = _CONTAINERS, data: bool = False) -> Any:
    """Return ``value`` if, written out in full with shared parts counted every time they
    occur, it has at most ``max_nodes`` items and ``max_chars`` characters (large integers
    count their digits) and nests at most ``MAX_DEPTH`` levels of ``through`` types; refuse it
    otherwise. C code that prints, compares, hashes or serialises a value walks it this way,
    where no tick can stop it. The walk itself stops as soon as a limit is passed.
    With ``data``, also refuse anything task data cannot hold."""
    if data:
        through = _DATA_CONTAINERS
    nodes, chars, level = 1, 0, [value]
    for depth in range(MAX_DEPTH + 1):
        _tick()
        below: list[Any] = []
        for item in level:
            if isinstance(item, str):
                chars += len(item)
            elif isinstance(item, through):
                if depth == MAX_DEPTH:
                    raise SandboxViolation(f"data nested deeper than {MAX_DEPTH} levels")
                nodes += len(item) * (2 if isinstance(item, dict) else 1)
                if nodes > max_nodes:
                    raise SandboxViolation(f"data with more than {max_nodes} items (counting repeats)")
                below.extend(item.values() if isinstance(item, dict) else item)
                if isinstance(item, dict):
                    if data and not all(map(isinstance, item, itertools.repeat(_KEY_TYPES))):
                        raise SandboxError("dictionary keys must be strings, numbers, booleans or None")
                    below.extend(item)
            else:
                if isinstance(item, int) and not -2**64 < item < 2**64:
                    chars += item.bit_length() // 3
                    if data and _MAX_DATA_INT_BITS and item.bit_length() > _MAX_DATA_INT_BITS:
                        raise SandboxViolation("integer too large to store (more than "
                                               f"{sys.get_int_max_str_digits()} digits)")
                if data and not isinstance(item, _DATA_LEAVES):
                    raise SandboxError(f"a {type(item).__name__} is not data; convert it (e.g. with list())")
        if chars > max_chars:
            raise SandboxViolation(f"data with more than {max_chars} characters (counting repeats)")
        if not below:
            return value
        level = below
    return value


def _measure_printable(value: Any) -> Any:
    """``value`` is small enough to turn into one string of at most MAX_STRING characters."""
    if isinstance(value, _CONTAINERS):
        _measure(value, MAX_STRING // 8, MAX_STRING)
    return value


def _too_long(size: int) -> None:
    if size > MAX_STRING:
        raise SandboxViolation(f"string longer than {MAX_STRING} characters")


def _too_many(size: int) -> None:
    if size > MAX_SEQUENCE:
        raise SandboxViolation(f"sequence longer than {MAX_SEQUENCE} items")


def _sized(items: Any) -> Any:
    """``[*a, *b]``, ``{**a, **b}``: copies made without a call, capped like a + b."""
    _tick()
    _too_many(len(items))
    return items


def _short(text: str) -> str:
    _too_long(len(text))
    return text


def _checked_tuple(value: tuple[Any, ...]) -> tuple[Any, ...]:
    """Tuples are hashed by C code that recurses without a depth check (a tuple nested
    100 000 deep crashes the interpreter) and visits shared parts every time: a tuple is
    measured when it is made, through nested tuples, which cannot change afterwards."""
    checked: tuple[Any, ...] = _measure(value, MAX_DATA_NODES, MAX_STRING, through=(tuple,))
    return checked


def _int_too_big(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise SandboxViolation(f"integer larger than {MAX_INT_BITS} bits")


