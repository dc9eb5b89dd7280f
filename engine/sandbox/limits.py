"""Limits, errors and the vocabularies the sandbox allows."""
from __future__ import annotations

import ast
import datetime as _dt
import sys
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
#: a value written out in full (shared parts counted each time they occur)
MAX_DATA_NODES = 1_000_000
MAX_DATA_CHARS = 10_000_000
MAX_DEPTH = 100
MAX_MEMORY_GROWTH = 256 * 2**20
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
_FORBIDDEN_ATTRIBUTES = frozenset({
    # reach attributes through a format mini-language
    "format", "format_map",
    # pad or expand a string to any size in one call
    "center", "ljust", "rjust", "zfill", "expandtabs", "translate", "maketrans",
    # bytes are not data here; int.from_bytes builds integers too big to divide in time
    "encode", "to_bytes", "from_bytes",
    # the class hierarchy: datetime.mro()[-1] is `object`
    "mro",
})
#: methods that change their object: an expression (condition, DMN cell, timer, parameter)
#: is evaluated against the task data itself and must leave it as it is
_MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "popitem", "remove", "clear", "sort", "reverse",
    "update", "setdefault", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update",
})
_MAX_FORMAT_WIDTH = 1000

_SAFE_TYPES = (
    str, int, float, bool, type(None), list, dict, tuple, set, frozenset,
    _dt.datetime, _dt.date, _dt.time, _dt.timedelta, _dt.timezone,
)
_SAFE_CLASSES = frozenset({_dt.datetime, _dt.date, _dt.time, _dt.timedelta, _dt.timezone})
_VIEWS: tuple[type[Any], type[Any], type[Any]] = (type({}.keys()), type({}.values()), type({}.items()))
_DATA_CONTAINERS = (list, tuple, dict, set, frozenset)
_CONTAINERS = (*_DATA_CONTAINERS, *_VIEWS)
#: what task data may hold (SpiffWorkflow copies and serialises it as JSON)
_DATA_LEAVES = (str, int, float, bool, type(None), _dt.datetime, _dt.date, _dt.time, _dt.timedelta)
_KEY_TYPES = (str, int, float, bool, type(None))
_MAX_DATA_INT_BITS = int(sys.get_int_max_str_digits() * 3.32) or None  # int('...') and json limits
