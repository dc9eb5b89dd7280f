"""engine.sandbox: what scripts may do, and every escape we know of being refused."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone

import pytest

from engine.sandbox import (
    MAX_SEQUENCE,
    Sandbox,
    SandboxError,
    SandboxTimeout,
    SandboxViolation,
)
from tests.engine.conftest import ROOT

#: Short limit so the time-limit tests stay quick; the assertions do not depend on it.
LIMIT = 0.2


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(time_limit=LIMIT)


def run(sandbox: Sandbox, script: str, **context):
    sandbox.execute(textwrap.dedent(script), context)
    return context


# -- what is allowed -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3 - 4 / 2", 5.0),
        ("7 // 2, 7 % 2, 2 ** 10, -3 ** 2", (3, 1, 1024, -9)),
        ("[x * x for x in range(6) if x % 2]", [1, 9, 25]),
        ("{k: v for k, v in zip('ab', [1, 2])}", {"a": 1, "b": 2}),
        ("{x % 3 for x in range(10)}", {0, 1, 2}),
        ("sum(x for x in range(101))", 5050),
        ("f'{name!r} has {n:>4} items, {ratio:.2f}'", "'box' has    3 items, 0.50"),
        ("{'a': 1}.get('a'), {'a': 1}.get('b', 0)", (1, 0)),
        ("sorted({'b': 2, 'a': 1}.items())", [("a", 1), ("b", 2)]),
        ("', '.join(['x', 'y']).upper()", "X, Y"),
        ("'a b  c'.split(), ' t '.strip(), 'abc'.startswith('ab')", (["a", "b", "c"], "t", True)),
        ("'ab' * 3, [0] * 3", ("ababab", [0, 0, 0])),
        ("len(range(MAX))".replace("MAX", str(MAX_SEQUENCE)), MAX_SEQUENCE),
        ("max([3, 1, 2]), min(4, 5), abs(-2), round(2.567, 2)", (3, 4, 2, 2.57)),
        ("isinstance(1, int) and not isinstance('x', (list, dict))", True),
        ("1 if n > 2 else 0", 1),
        ("n in [1, 2, 3] and name not in ('a',)", True),
        ("json_loads(json_dumps({'a': [1, 2]}))", {"a": [1, 2]}),
        ("floor(2.7) + ceil(2.1)", 5),
        ("10 % 3", 1),
    ],
)
def test_allowed_expressions(sandbox: Sandbox, expression, expected):
    assert sandbox.evaluate(expression, {"name": "box", "n": 3, "ratio": 0.5}) == expected


def test_datetime_helpers(sandbox: Sandbox):
    ctx = {"opened": "2024-03-01T10:00:00"}
    due = sandbox.evaluate("parse_datetime(opened) + timedelta(hours=4)", ctx)
    assert due == datetime(2024, 3, 1, 14, 0, tzinfo=timezone.utc)
    assert sandbox.evaluate("parse_datetime('2024-03-01T10:00:00+08:00').utcoffset()", {}) == timedelta(hours=8)
    assert sandbox.evaluate("now().tzinfo", {}) == timezone.utc
    before = datetime.now(timezone.utc)
    assert before <= sandbox.evaluate("now()", {}) <= datetime.now(timezone.utc)
    assert sandbox.evaluate("(parse_datetime('2024-01-02T00:00:00') - parse_datetime('2024-01-01T00:00:00'))"
                            ".total_seconds()", {}) == 86400.0
    assert sandbox.evaluate("parse_datetime('2024-01-01T00:00:00').isoformat()", {}) == \
        "2024-01-01T00:00:00+00:00"
    assert sandbox.evaluate("datetime(2024, 1, 1).weekday()", {}) == 0
    assert sandbox.evaluate("(now() + timedelta(days=1)).date() > now().date()", {}) is True
    assert sandbox.evaluate("d.year", {"d": date(2020, 5, 1)}) == 2020


def test_script_writes_variables_back(sandbox: Sandbox):
    ctx = run(sandbox, """
        total = 0
        for item in items:
            if item["qty"] <= 0:
                continue
            total += item["qty"] * item["price"]
        labels = [f"{i['name']}:{i['qty']}" for i in items]
        counts = {}
        counts["n"] = len(items)
        items.append({"name": "extra", "qty": 0, "price": 0})
        n = 0
        while n < 3:
            n += 1
        """, items=[{"name": "a", "qty": 2, "price": 1.5}, {"name": "b", "qty": 0, "price": 9}])
    assert ctx["total"] == 3.0
    assert ctx["labels"] == ["a:2", "b:0"]
    assert ctx["counts"] == {"n": 2}
    assert len(ctx["items"]) == 3
    assert ctx["n"] == 3


def test_script_deletes_variables(sandbox: Sandbox):
    ctx = run(sandbox, """
        del scratch
        kept = kept + 1
        """, scratch="x", kept=1, other=[1])
    assert "scratch" not in ctx
    assert ctx == {"kept": 2, "other": [1]}


def test_helpers_and_callables_are_not_written_back(sandbox: Sandbox):
    ctx = run(sandbox, """
        f = len
        stamp = now()
        x = f([1, 2])
        """)
    assert ctx["x"] == 2
    assert isinstance(ctx["stamp"], datetime)
    assert "f" not in ctx
    for name in ("now", "timedelta", "parse_datetime", "__builtins__", "_cf_getattr", "_cf_tick"):
        assert name not in ctx


def test_assigning_a_helper_name_in_a_script_does_not_leak(sandbox: Sandbox):
    ctx = run(sandbox, """
        now = 5
        x = now
        """)
    assert ctx == {"x": 5}
    # the helper is intact for the next script
    assert isinstance(sandbox.evaluate("now()", ctx), datetime)


def test_execute_returns_nothing_and_evaluate_returns_the_value(sandbox: Sandbox):
    assert sandbox.execute("x = 1", {}) is None
    assert sandbox.evaluate("  1 + 1  ", {}) == 2  # surrounding whitespace is fine in an expression


# -- compile-time rejections ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "script",
    [
        "import os",
        "from os import system",
        "import subprocess as sp",
        "__import__('os')",
        "().__class__.__base__.__subclasses__()",
        "[].__class__",
        "x.__dict__",
        "_private = 1",
        "'{0.__class__}'.format(1)",
        "'{a}'.format_map({'a': 1})",
        "getattr(1, 'real')",
        "setattr(x, 'a', 1)",
        "eval('1 + 1')",
        "exec('x = 1')",
        "compile('1', 's', 'eval')",
        "open('/etc/passwd')",
        "type(1)",
        "object()",
        "globals()",
        "vars()",
        "lambda: 1",
        "f = lambda x: x",
        "def f():\n    return 1",
        "class A:\n    pass",
        "global x",
        "try:\n    x = 1\nexcept Exception:\n    pass",
        "raise ValueError('x')",
        "x.y = 1",
        "x.y += 1",
        "'a'.ljust(10**9)",
        "'a'.rjust(10**9)",
        "'a'.center(10**9)",
        "'1'.zfill(10**9)",
        "'\\t'.expandtabs(10**9)",
        "f'{1:>1000000}'",
        "f'{1.5:.1000000f}'",
        "f'{1:>{width}}'",
        "(y := 1)",
    ],
)
def test_rejected_at_compile_time(sandbox: Sandbox, script):
    with pytest.raises(SandboxViolation):
        sandbox.compile(script, "exec")
    with pytest.raises(SandboxViolation):
        sandbox.execute(script, {"x": [1], "width": 10})


def test_syntax_error_is_a_sandbox_error_with_line(sandbox: Sandbox):
    with pytest.raises(SandboxError) as info:
        sandbox.execute("x = 1\ny = (\n", {})
    assert info.value.line is not None and info.value.line >= 2
    with pytest.raises(SandboxError):
        sandbox.evaluate("x ==", {"x": 1})


@pytest.mark.parametrize(
    ("script", "line"),
    [
        ("import os", 1),
        ("x = 1\ny = 2\nimport os", 3),
        ("a = 1\nb = ().__class__", 2),
        ("a = 1\n\nif a:\n    b = eval('2')", 4),
        ("a = [1]\nfor i in a:\n    a.b = 2", 3),
        ("x = 1\ny = 2\nz = 3\nf = lambda: 1", 4),
    ],
)
def test_violation_reports_the_line(sandbox: Sandbox, script, line):
    with pytest.raises(SandboxViolation) as info:
        sandbox.execute(script, {})
    assert info.value.line == line
    assert info.value.message


# -- run-time guards -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression",
    [
        "(x for x in []).gi_frame",
        "(x for x in []).gi_code",
        "len.real",
        "datetime.mro()[-1].mro()",  # the class `object`, reached through a list
        "now.year",
        "json_dumps.real",
    ],
)
def test_attribute_access_outside_plain_data_is_refused(sandbox: Sandbox, expression):
    with pytest.raises(SandboxViolation):
        sandbox.evaluate(expression, {})


def test_attribute_access_on_a_context_object_is_refused(sandbox: Sandbox):
    class Secret:
        password = "hunter2"

    with pytest.raises(SandboxViolation):
        sandbox.evaluate("obj.password", {"obj": Secret()})


@pytest.mark.parametrize(
    "script",
    [
        "x = 10 ** 10 ** 10",
        "x = 2 ** -5000",
        "x = 10\nx **= 10 ** 6",
        "x = 'a' * 10 ** 9",
        "x = 10 ** 9 * 'a'",
        "x = [0] * (MAX + 1)",
        "x = (1, 2) * (MAX // 2 + 1)",
        "x = 'a'\nx *= 10 ** 9",
        "x = '%*d' % (10 ** 6, 1)",
        "x = '%s' % 'a'",
        "x = b'%*d' % (10 ** 6, 1)",
        "x = range(MAX + 1)",
        "x = range(0, 10 ** 12)",
        "x = list(range(10 ** 9))",
        "x = 1 << 10 ** 9",
        "x = (10 ** 1000) ** 1000",
        "x = 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000"
        " * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000"
        " * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000"
        " * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000 * 10 ** 1000",
    ],
)
def test_size_guards(sandbox: Sandbox, script):
    with pytest.raises(SandboxViolation):
        sandbox.execute(script, {"MAX": MAX_SEQUENCE})


def test_chained_powers_are_bounded(sandbox: Sandbox):
    # each exponent is within MAX_POW_EXPONENT, but the result has a million digits; one more
    # `** 1000` (((10**1000)**1000)**1000) keeps a worker busy far beyond any time limit,
    # in a single C call no tick can interrupt.
    with pytest.raises(SandboxError):
        sandbox.evaluate("((10 ** 1000) ** 1000) % 7", {})


_CHILD = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: fail fast instead of swapping
    sys.path.insert(0, sys.argv[2])
    from engine.sandbox import Sandbox, SandboxError
    try:
        Sandbox(time_limit=0.2).execute(sys.argv[1], {})
        print("ALLOWED")
    except SandboxError as exc:
        print("REFUSED", type(exc).__name__, exc)
    except MemoryError:
        print("MEMORY")
""")


def _in_child(script: str) -> str:
    """Run ``script`` in a sandbox of a separate, memory-capped interpreter."""
    result = subprocess.run([sys.executable, "-c", _CHILD, script, str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    return result.stdout.strip() or f"exit {result.returncode}: {result.stderr.strip()[-500:]}"


@pytest.mark.parametrize(
    "script",
    [
        # 10**5 copies of a 10**5-character string joined in one call: 10 GB
        "x = ''.join(['a' * 100000] * 100000)",
        # the same through replace()
        "x = ('a' * 100000).replace('a', 'a' * 100000)",
    ],
)
def test_string_methods_cannot_build_sequences_past_the_cap(script):
    outcome = _in_child(script)
    assert outcome.startswith("REFUSED"), f"the sandbox did not refuse it: {outcome}"


@pytest.mark.parametrize(
    "script",
    [
        # map() iterates a list that every call extends: an endless loop inside one C call
        "l = [1]\nany(map(l.append, l))",
        "l = [1]\nl.extend(map(abs, l))",
    ],
)
def test_loops_inside_builtins_are_bounded(script):
    outcome = _in_child(script)
    assert outcome.startswith("REFUSED"), f"the sandbox did not stop it: {outcome}"


# -- time limit ----------------------------------------------------------------------------------
def test_infinite_loop_times_out(sandbox: Sandbox):
    with pytest.raises(SandboxTimeout):
        sandbox.execute("while True:\n    pass", {})


def test_huge_comprehension_times_out(sandbox: Sandbox):
    with pytest.raises(SandboxTimeout):
        sandbox.evaluate("len([1 for a in range(100000) for b in range(100000) if a < 0])", {})


def test_huge_generator_expression_times_out(sandbox: Sandbox):
    with pytest.raises(SandboxTimeout):
        sandbox.evaluate("sum(1 for a in range(100000) for b in range(100000))", {})


def test_nested_for_loops_time_out(sandbox: Sandbox):
    with pytest.raises(SandboxTimeout):
        sandbox.execute("n = 0\nfor a in range(100000):\n    for b in range(100000):\n        n += 1", {})


def test_time_limit_is_per_evaluation(sandbox: Sandbox):
    with pytest.raises(SandboxTimeout):
        sandbox.execute("while True:\n    pass", {})
    ctx = {}
    sandbox.execute("n = 0\nfor i in range(1000):\n    n += i", ctx)
    assert ctx["n"] == 499500
    assert sandbox.evaluate("sum(x for x in range(100))", {}) == 4950
    with pytest.raises(SandboxTimeout):
        sandbox.evaluate("[1 for a in range(100000) for b in range(100000) if a < 0]", {})
    assert sandbox.evaluate("[x for x in range(3)]", {}) == [0, 1, 2]


def test_errors_are_sandbox_errors():
    assert issubclass(SandboxViolation, SandboxError)
    assert issubclass(SandboxTimeout, SandboxError)


# -- helpers cannot be replaced by task data -----------------------------------------------------
@pytest.mark.parametrize("name", ["now", "timedelta", "parse_datetime", "json_loads", "_cf_getattr", "_cf_tick"])
def test_task_data_cannot_overwrite_helpers_in_scripts(sandbox: Sandbox, name):
    ctx = {name: "from task data", "x": 1}
    with pytest.raises(SandboxError):
        sandbox.execute("y = x + 1", ctx)
    assert "y" not in ctx


@pytest.mark.parametrize(("name", "expression", "expected_type"), [
    ("now", "now()", datetime),
    ("_cf_getattr", "'abc'.upper()", str),
    ("_cf_tick", "[x for x in [1, 2]]", list),
])
def test_task_data_cannot_shadow_helpers_in_expressions(sandbox: Sandbox, name, expression, expected_type):
    """Conditions, DMN cells and parameters are evaluated against task data too: a variable
    named like a helper must not silently replace it (refusing it, as execute() does, is fine)."""
    try:
        value = sandbox.evaluate(expression, {name: "from task data"})
    except SandboxError:
        return
    assert isinstance(value, expected_type)
