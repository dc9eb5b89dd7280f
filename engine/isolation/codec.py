"""Task data as JSON, both ways between the web worker and a script worker process.

What a script may see and write back is the sandbox's *data*: ``None``, booleans, integers,
floats, strings, lists, dicts (keys: strings, numbers, booleans, ``None``), tuples, sets,
frozensets, and ``datetime``/``date``/``time``/``timedelta`` (plus a ``timezone``, which an
expression may return). JSON has no tuples, sets, dates or non-string keys, so those travel as
tagged objects ``{"$cf": <tag>, "v": <payload>}``; a plain dict that happens to hold the key
``"$cf"`` travels as a list of pairs, so a tag is never ambiguous. The round trip is exact: a
tuple comes back a tuple, ``{1: "a"}`` keeps its integer key, a datetime keeps its offset (a
named zone such as ``Asia/Shanghai`` comes back as the fixed offset it had — the same instant).

Decoding is strict on purpose: it is what the parent applies to what a possibly compromised child
sent. Only JSON and the tags above are understood — nothing can name a class or a function
(unlike pickle, which would run code in the web worker).
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any

TAG = "$cf"
_JSON_LEAVES = (str, int, float, bool, type(None))


class CodecError(ValueError):
    """A value that is not task data, or a message that is not a well-formed encoding of it."""


def encode(value: Any) -> Any:
    """``value`` as a JSON-serialisable structure (see the module's docstring)."""
    try:
        return _encode(value)
    except RecursionError:
        raise CodecError("data nested too deeply to pass to a script worker") from None


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list:
        return [_encode(item) for item in value]
    if kind is dict:
        if TAG not in value and all(type(key) is str for key in value):
            return {key: _encode(item) for key, item in value.items()}
        return {TAG: "dict", "v": [[_encode(key), _encode(item)] for key, item in value.items()]}
    if kind is tuple:
        return {TAG: "tuple", "v": [_encode(item) for item in value]}
    if kind is set or kind is frozenset:
        return {TAG: kind.__name__, "v": [_encode(item) for item in value]}
    if isinstance(value, _dt.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, _dt.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, _dt.time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, _dt.timedelta):
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, _dt.timezone):
        offset = value.utcoffset(None)
        return {TAG: "timezone", "v": [offset.days, offset.seconds, offset.microseconds]}
    # subclasses of the plain types (an IntEnum, an OrderedDict): as their base type
    for leaf in (bool, int, float, str):
        if isinstance(value, leaf):
            return _encode(leaf(value))
    for container in (list, dict, tuple, frozenset, set):
        if isinstance(value, container):
            return _encode(container(value))
    raise CodecError(f"a {kind.__name__} is not data")


def decode(value: Any) -> Any:
    """The value :func:`encode` encoded; :class:`CodecError` for anything else."""
    try:
        return _decode(value)
    except CodecError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CodecError(f"malformed data from a script worker: {type(exc).__name__}: {exc}") from None


def _decode(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return [_decode(item) for item in value]
    if kind is dict:
        if TAG not in value:
            return {key: _decode(item) for key, item in value.items()}
        if len(value) != 2 or "v" not in value:
            raise CodecError("malformed tagged value from a script worker")
        return _tagged(value[TAG], value["v"])
    if kind in _JSON_LEAVES:
        return value
    raise CodecError(f"malformed data from a script worker: {kind.__name__}")


def _tagged(tag: Any, payload: Any) -> Any:
    if tag in ("tuple", "set", "frozenset", "dict") and type(payload) is not list:
        raise CodecError(f"malformed {tag} from a script worker")
    if tag == "tuple":
        return tuple(_decode(item) for item in payload)
    if tag == "set":
        return {_decode(item) for item in payload}
    if tag == "frozenset":
        return frozenset(_decode(item) for item in payload)
    if tag == "dict":
        if not all(type(pair) is list and len(pair) == 2 for pair in payload):
            raise CodecError("malformed dict from a script worker")
        return {_decode(key): _decode(item) for key, item in payload}
    if tag == "datetime" and type(payload) is str:
        return _dt.datetime.fromisoformat(payload)
    if tag == "date" and type(payload) is str:
        return _dt.date.fromisoformat(payload)
    if tag == "time" and type(payload) is str:
        return _dt.time.fromisoformat(payload)
    if tag in ("timedelta", "timezone") and type(payload) is list and len(payload) == 3 \
            and all(type(part) is int for part in payload):
        delta = _dt.timedelta(days=payload[0], seconds=payload[1], microseconds=payload[2])
        if tag == "timedelta":
            return delta
        return _dt.timezone.utc if not delta else _dt.timezone(delta)
    raise CodecError(f"unknown or malformed tag {str(tag)[:40]!r} from a script worker")


def dumps(message: Any) -> bytes:
    """An already encoded message as bytes (ASCII: lone surrogates in strings survive)."""
    return json.dumps(message, separators=(",", ":")).encode("ascii")


def loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message from a script worker: {type(exc).__name__}") from None
