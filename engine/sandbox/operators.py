"""Checked operators: ``+ * ** << % //``, comparisons, in-place updates."""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from engine.sandbox.clock import _tick
from engine.sandbox.limits import _CONTAINERS, MAX_POW_EXPONENT, SandboxViolation
from engine.sandbox.measure import _checked_tuple, _int_too_big, _measure, _too_long, _too_many


# -- operators ------------------------------------------------------------------------------
def _check_add(left: Any, right: Any) -> None:
    if isinstance(left, str) and isinstance(right, str):
        _too_long(len(left) + len(right))
    elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        _too_many(len(left) + len(right))


def _check_mul(left: Any, right: Any) -> None:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            _too_many(len(seq) * count)
    if isinstance(left, int) and isinstance(right, int):
        _int_too_big(left.bit_length() + right.bit_length())


def _check_pow(base: Any, exponent: Any) -> None:
    if isinstance(exponent, (int, float)) and abs(exponent) > MAX_POW_EXPONENT:
        raise SandboxViolation(f"exponent {exponent} is larger than {MAX_POW_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        _int_too_big(base.bit_length() * exponent)


def _check_lshift(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        _int_too_big(left.bit_length() + right)


def _check_division(left: Any, right: Any) -> None:
    """Long division takes time in the product of the sizes (int('f' * 10**6, 16) is cheap)."""
    if isinstance(left, int) and isinstance(right, int):
        _int_too_big(max(left.bit_length(), right.bit_length()))


def _check_mod(left: Any, right: Any) -> None:
    if isinstance(left, (str, bytes)):
        raise SandboxViolation("%-formatting is not allowed; use an f-string")
    _check_division(left, right)


_OPERATOR_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "add": _check_add, "mul": _check_mul, "mod": _check_mod, "pow": _check_pow,
    "lshift": _check_lshift, "floordiv": _check_division,
}


def _checked(check: Callable[[Any, Any], None], op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def run(left: Any, right: Any) -> Any:
        _tick()
        check(left, right)
        result = op(left, right)
        return _checked_tuple(result) if type(result) is tuple else result
    return run


_OPERATORS = {name: _checked(check, getattr(operator, name)) for name, check in _OPERATOR_CHECKS.items()}
_IN_PLACE = {name: _checked(check, getattr(operator, f"i{name}")) for name, check in _OPERATOR_CHECKS.items()}


def _augmented_item(container: Any, key: Any, name: str, value: Any) -> None:
    container[key] = _IN_PLACE[name](container[key], value)


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}


def _compare(left: Any, op: str, right: Any) -> Any:
    """Comparing two containers walks both; ``x in items`` compares x with every item. A plain
    value against anything costs at most one pass over the container, so only those go free."""
    _tick()
    if isinstance(left, _CONTAINERS) and (op in ("in", "not in") or isinstance(right, _CONTAINERS)):
        _measure(left)
        _measure(right)
    return _COMPARISONS[op](left, right)


def _operand(value: Any) -> Any:
    return _measure(value) if isinstance(value, _CONTAINERS) else value


