"""Scripts isolated by the OS (engine/isolation/): the same results and errors as the in-process
sandbox, and a worker that breaches a limit (time, CPU, memory) or dies is killed and replaced
while the step fails the usual way."""
from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine.errors import ProcessError
from engine.isolation import codec, inline
from engine.isolation.pool import Limits, WorkerPool
from engine.isolation.sandbox import IsolatedSandbox, ScriptFailure, default_sandbox
from engine.runtime import Engine
from engine.sandbox import Sandbox, SandboxError, SandboxTimeout, SandboxViolation
from server import config
from tests.engine.test_specs import bpmn, script_task, user_task

UTC = dt.timezone.utc
LOOP = "n = 0\nwhile True:\n    n += 1"


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(Limits(workers=2))
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def isolated(pool: WorkerPool) -> IsolatedSandbox:
    return IsolatedSandbox(pool)


def data() -> dict[str, Any]:
    return {
        "category": "hardware_repair", "priority": "high", "reopen_count": 2, "max_reopens": 3,
        "ratio": 0.25, "flag": True, "nothing": None, "pair": (1, "a"), "tags": {"x", "y"},
        "frozen": frozenset({3}), "by_number": {1: "one", None: "none", 2.5: (1, 2)},
        "tagged": {"$cf": "tuple", "v": []},  # a dict that looks like the codec's tag
        "opened": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "day": dt.date(2026, 12, 1), "at": dt.time(9, 30), "wait": dt.timedelta(days=7, seconds=5),
        "nested": {"list": [1, [2, [3, {"deep": "yes"}]]], "text": "中文 and \ud800 lone surrogate"},
        "hours": {"urgent": 4, "high": 16, "medium": 48, "low": 120},
        "case_text": "the printer (打印机) is offline",
    }


# -- the same results as in-process --------------------------------------------------------------
EXPRESSIONS = [
    'category == "hardware_repair" and reopen_count < max_reopens',  # a gateway condition (inline)
    'any(w in case_text for w in ("硬件", "打印机", "printer"))',          # a DMN cell (inline)
    'hours.get(priority, 48) * 2 + reopen_count',
    "[x * 2 for x in range(reopen_count + 3)]",                          # a loop: in a worker
    "sorted(tags) + [len(by_number)]",
    "(pair, frozen, by_number, tagged, opened, day, at, wait, nested, nothing, ratio)",
    "opened + wait",
    "{k: v for k, v in hours.items() if v > 10}",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_an_expression_gives_what_it_gives_in_process(isolated: IsolatedSandbox, expression: str):
    expected = Sandbox().evaluate(expression, data())
    got = isolated.evaluate(expression, data())
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(expected, tuple):
        assert [type(item) for item in got] == [type(item) for item in expected]
        assert got[4].utcoffset() == dt.timedelta(hours=8)


SCRIPTS = [
    "reopen_count = reopen_count + 1\nconfirmed = True",
    "category = 'new_requirement' if priority == 'low' else category\nsolution = None",
    "items = [1, 2]\nitems.append(pair)\nby_number[3] = 'three'\ndel nothing",
    "total = 0\nfor name, hours_left in sorted(hours.items()):\n    total += hours_left\nlabel = f'{total} h'",
    "due = (opened + timedelta(hours=hours.get(priority, 48))).isoformat()\nwhen = day",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_script_changes_task_data_as_in_process(isolated: IsolatedSandbox, script: str):
    expected, got = data(), data()
    Sandbox().execute(script, expected)
    same_dict = got
    isolated.execute(script, got)
    assert got is same_dict  # task.data is changed in place, not replaced
    assert got == expected
    assert list(got) == list(expected)
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in expected.items()}


def test_now_is_the_callers_clock(isolated: IsolatedSandbox):
    """A test that freezes the clock (or the case's moment) is what a script sees in the worker."""
    from freezegun import freeze_time

    with freeze_time("2031-05-06 07:08:09"):
        context: dict[str, Any] = {}
        isolated.execute("stamp = now().isoformat()\nlater = (now() + timedelta(days=1)).date()", context)
    assert context == {"stamp": "2031-05-06T07:08:09+00:00", "later": dt.date(2031, 5, 7)}


@pytest.mark.parametrize(("source", "mode"), [
    ("1 / 0", "eval"), ("missing + 1", "eval"), ("hours['none']", "eval"), ("pair[5]", "eval"),
    ("int('x')", "eval"), ("json_loads('{')", "eval"), ("priority.nope", "eval"),
    ("'x' * 10**10", "eval"),                     # a memory bomb the sandbox's caps refuse
    ("x = 'x' * 10**10", "exec"),
    ("a = []\nfor i in range(200):\n    a = [a]", "exec"),  # nested deeper than data may be
    ("import os", "exec"), ("y = open('/etc/passwd').read()", "exec"), ("s = __import__('socket')", "exec"),
    ("(" * 5000 + "1" + ")" * 5000, "eval"),    # nested too deeply to compile
])
def test_an_error_is_the_same_error(isolated: IsolatedSandbox, source: str, mode: str):
    def outcome(sandbox: Sandbox) -> tuple[type[BaseException], str, int | None]:
        with pytest.raises(Exception) as info:
            if mode == "eval":
                sandbox.evaluate(source, data())
            else:
                sandbox.execute(source, data())
        error = info.value
        return type(error), str(error), getattr(error, "line", None)

    expected_type, expected_message, expected_line = outcome(Sandbox())
    got_type, got_message, got_line = outcome(isolated)
    assert (got_message, got_line) == (expected_message, expected_line)
    assert got_type is expected_type or (got_type is ScriptFailure and not expected_type.__module__ == "builtins")


def test_refused_source_never_reaches_a_worker(pool: WorkerPool, isolated: IsolatedSandbox):
    before = pool.started, len(pool.workers())
    for source in ("import socket", "open('/etc/passwd')", "().__class__.__base__.__subclasses__()"):
        with pytest.raises(SandboxError):
            isolated.evaluate(source, {}) if "import" not in source else isolated.execute(source, {})
    assert (pool.started, len(pool.workers())) == before


def test_only_the_named_variables_cross(isolated: IsolatedSandbox):
    """A variable the code does not name is neither sent nor touched (not even re-checked)."""
    marker = object()  # not data: it would fail to cross
    context = {"a": 1, "other": marker}
    isolated.execute("b = a + 1", context)
    assert context == {"a": 1, "other": marker, "b": 2}
    assert context["other"] is marker
    with pytest.raises(SandboxError, match="variable 'other'"):
        isolated.execute("b = other", context)


# -- breaches: killed, replaced, the next evaluation works --------------------------------------
def _survives(pool: WorkerPool, sandbox: IsolatedSandbox) -> None:
    assert sandbox.evaluate("[n + 1 for n in (1, 2)]", {}) == [2, 3]
    context = {"reopen_count": 1}
    sandbox.execute("reopen_count = reopen_count + 1", context)
    assert context == {"reopen_count": 2}


def test_an_infinite_loop_times_out_and_the_worker_lives_on(pool: WorkerPool, isolated: IsolatedSandbox):
    isolated.evaluate("[1 for x in (1,)]", {})
    workers, killed = pool.workers(), pool.killed
    with pytest.raises(SandboxTimeout, match="longer than 1s"):
        isolated.execute(LOOP, {})
    assert pool.killed == killed  # the sandbox's own clock stopped it: no need to kill
    assert set(pool.workers()) == set(workers)
    _survives(pool, isolated)


def test_a_worker_past_the_wall_clock_is_killed_and_replaced():
    """The sandbox's clock is what usually stops a loop; a worker that does not answer in time (a
    single long C call) is killed by the caller. Here the sandbox's clock is set too late to matter."""
    pool = WorkerPool(Limits(workers=1, wall_seconds=0.5))
    try:
        sandbox = IsolatedSandbox(pool, time_limit=60)
        sandbox.evaluate("[1 for x in (1,)]", {})
        (first,) = pool.workers()
        with pytest.raises(SandboxTimeout, match="longer than 60s"):
            sandbox.execute(LOOP, {})
        assert pool.killed == 1
        assert first not in pool.workers()
        _pid_gone(first)
        _survives(pool, sandbox)
    finally:
        pool.close()


def test_a_worker_past_its_cpu_limit_is_ended_by_the_kernel():
    pool = WorkerPool(Limits(workers=1, cpu_seconds=1, wall_seconds=120))
    try:
        sandbox = IsolatedSandbox(pool, time_limit=120)
        with pytest.raises(SandboxTimeout, match="more than 1s of CPU"):
            sandbox.execute(LOOP, {})
        assert pool.killed == 1
        _survives(pool, sandbox)
    finally:
        pool.close()


def test_a_growing_list_hits_the_memory_limit():
    """The sandbox caps each value; a list of many large strings is stopped by RLIMIT_AS."""
    pool = WorkerPool(Limits(workers=1, memory_mb=64))
    try:
        sandbox = IsolatedSandbox(pool, time_limit=60)
        sandbox.evaluate("[1 for x in (1,)]", {})
        (first,) = pool.workers()
        with pytest.raises(SandboxViolation, match="more than 64 MB"):
            sandbox.execute("x = []\nwhile True:\n    x.append('y' * 99000 + str(len(x)))", {})
        assert first not in pool.workers()  # recycled after a MemoryError
        _survives(pool, sandbox)
    finally:
        pool.close()


def test_a_worker_that_dies_mid_evaluation_fails_the_step_and_is_replaced():
    pool = WorkerPool(Limits(workers=1))
    try:
        sandbox = IsolatedSandbox(pool, time_limit=60)
        sandbox.evaluate("[1 for x in (1,)]", {})
        (victim,) = pool.workers()
        threading.Timer(0.5, os.kill, (victim, signal.SIGKILL)).start()
        with pytest.raises(SandboxViolation, match="worker process ended"):
            sandbox.execute(LOOP, {})
        _survives(pool, sandbox)
        assert victim not in pool.workers()
        idle = pool.workers()[0]
        os.kill(idle, signal.SIGKILL)  # died while idle: the next call takes a new one
        _wait_dead(idle)
        _survives(pool, sandbox)
    finally:
        pool.close()


def _wait_dead(pid: int) -> None:
    """Until the process is a zombie (it exited, its pipes are closed) or gone."""
    for _ in range(1000):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)


def _pid_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_os_limits_of_a_worker(pool: WorkerPool, isolated: IsolatedSandbox):
    """No file, socket or pipe can be opened (RLIMIT_NOFILE = the three open descriptors), nothing
    written, no process started, address space and CPU capped; only stdin/stdout/stderr are open."""
    isolated.evaluate("[1 for x in (1,)]", {})
    pid = pool.workers()[0]
    limits = {}
    with open(f"/proc/{pid}/limits") as text:
        for line in text.read().splitlines()[1:]:
            name, soft, hard = line[:26].strip(), line[26:47].strip(), line[47:68].strip()
            limits[name] = (soft, hard)
    assert limits["Max open files"] == ("3", "3")
    assert limits["Max file size"] == ("0", "0")
    assert limits["Max core file size"] == ("0", "0")
    assert limits["Max processes"] == ("0", "0")
    assert limits["Max address space"][1] != "unlimited"
    assert int(limits["Max address space"][1]) < 2 * 2**30
    assert limits["Max cpu time"][1] != "unlimited"
    assert sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1", "2"]
    assert os.readlink(f"/proc/{pid}/cwd") == "/"
    if os.geteuid() == 0:  # started by root: the worker is nobody
        with open(f"/proc/{pid}/status") as status:
            uid_line = next(line for line in status if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["65534"] * 4


def test_workers_are_reused_and_shared_by_threads(pool: WorkerPool, isolated: IsolatedSandbox):
    isolated.evaluate("[1 for x in (1,)]", {})
    started = pool.started
    results: list[Any] = []

    def work(i: int) -> None:
        context = {"i": i}
        isolated.execute("square = i * i\nodd = [n for n in range(i) if n % 2]", context)
        results.append(context)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["square"] for r in results) == [i * i for i in range(8)]
    assert len(pool.workers()) <= 2
    assert pool.started - started <= 2  # at most the pool's second worker was started


# -- the whole step: a process with a bad script fails as before; the next case works -------------
@pytest.mark.parametrize(("script", "needle"), [
    (LOOP, "longer than"),
    ("x = []\nwhile True:\n    x.append('y' * 99000 + str(len(x)))", "memory"),
    ("y = missing + 1", "missing"),
])
def test_a_breaching_script_is_a_process_error_and_the_next_case_runs(script: str, needle: str):
    pool = WorkerPool(Limits(workers=1, memory_mb=64))
    try:
        built = Engine({}).build({"rt.bpmn": bpmn(script_task("calc", script), user_task("look")),
                                  "ok.bpmn": bpmn(script_task("calc", "n = start + 1"), user_task("look"),
                                                  process_id="ok")})
        assert built.valid, built.problems
        store = {"k": built.spec_json}
        runner = Engine({}, spec_loader=store.__getitem__, sandbox=IsolatedSandbox(pool, time_limit=0.5))
        with pytest.raises(ProcessError) as info:
            runner.start("k", "p", {})
        assert info.value.element == "calc"
        assert needle in info.value.message
        run = runner.start("k", "ok", {"start": 41})
        assert run.data["n"] == 42
        assert [t.element_id for t in run.user_tasks()] == ["look"]
    finally:
        pool.close()


def test_the_engine_isolates_by_default_and_configuration_turns_it_off():
    sandbox = default_sandbox()
    assert isinstance(sandbox, IsolatedSandbox) and sandbox.enabled
    assert isinstance(Engine({}).sandbox, IsolatedSandbox)
    settings = config.from_environment({})
    assert settings["SCRIPT_ISOLATION"] is True
    assert config.from_environment({"SCRIPT_ISOLATION": "0"})["SCRIPT_ISOLATION"] is False


# -- what stays in-process ------------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    'category == "software_bug"', "reached and satisfaction <= 2", "not owner",
    'proposed_outcome in ("free_change", "paid_change")', 'acceptance.get("accepted") is True',
    'complaint_satisfaction is not None and complaint_satisfaction["score"] <= 2',
    "person_days * person_day_rate + other_module_price", '(category) == ("hardware")', "amount < 5",
    'any(w in case_text for w in ("慢", "卡顿", "slow"))', '"PT4H"', "sla_alarm", "len(items) > 3",
    "resolution_hours.get(priority, 48)",
])
def test_cheap_expressions_stay_in_process(expression: str):
    assert inline.provably_cheap(expression)


@pytest.mark.parametrize("expression", [
    "[x for x in items]", "any(x for x in items)", "sorted(items)", "2 ** 10", "a << 3", "text % b",
    "a + b + c + d + e", 'f"{a}"', "items[1:]", "str(a)", "x.lower()", "any(items)",
    "any(w in t for w in (1, 2) for v in (3,))", "any(any(v for v in (1,)) for w in (1,))",
    "{1: 2}", "now()", "a if b else " + " + ".join(["c"] * 100), "x.get(y + 1)", "x.get(k=1)", "(lambda: 1)()",
])
def test_everything_else_goes_to_a_worker(expression: str):
    assert not inline.provably_cheap(expression)


class CountingPool(WorkerPool):
    calls = 0

    def call(self, message: dict[str, Any], time_limit: float) -> dict[str, Any]:
        self.calls += 1
        return super().call(message, time_limit)


def test_a_cheap_expression_stays_unless_it_runs_past_its_short_limit():
    """The in-process path has a short time limit; past it, the expression (which changes nothing)
    is evaluated again in a worker with the full limit."""
    pool = CountingPool(Limits(workers=1))
    try:
        context = {"a": list(range(1000)), "b": list(range(1000))}
        assert IsolatedSandbox(pool).evaluate("a == b", context) is True
        assert pool.calls == 0
        assert IsolatedSandbox(pool, inline_limit=0.0).evaluate("a == b", context) is True
        assert pool.calls == 1
        assert IsolatedSandbox(pool).evaluate("[x for x in a] == b", context) is True
        assert pool.calls == 2
    finally:
        pool.close()


# -- the codec -------------------------------------------------------------------------------------
def test_the_codec_round_trips_exactly():
    value = data()
    encoded = codec.loads(codec.dumps(codec.encode(value)))
    back = codec.decode(encoded)
    assert back == value
    assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in value.items()}
    assert codec.decode(codec.encode(dt.timezone.utc)) is dt.timezone.utc


@pytest.mark.parametrize("message", [
    {"$cf": "pickle", "v": "x"}, {"$cf": "tuple"}, {"$cf": "tuple", "v": 1}, {"$cf": "dict", "v": [[1]]},
    {"$cf": "datetime", "v": "yesterday"}, {"$cf": "timedelta", "v": [1, 2]}, {"$cf": "set", "v": [[1]]},
])
def test_the_codec_refuses_what_it_did_not_write(message: Any):
    with pytest.raises(codec.CodecError):
        codec.decode(message)


def test_the_codec_refuses_objects_that_are_not_data():
    with pytest.raises(codec.CodecError, match="not data"):
        codec.encode({"x": object()})
