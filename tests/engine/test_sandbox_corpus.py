"""A corpus of known Python sandbox escapes and resource bombs, each tried where a diagram can
carry it: a script task, a gateway condition and a DMN input cell.

Every technique must be refused when the files are built (a problem naming the element) or
contained when an instance runs (the step fails with a ProcessError naming the element).
Nothing may escape: the payloads would create a marker file if they ever ran as intended, and
the marker must not exist afterwards. Techniques that could hang a worker or exhaust memory
if a guard failed run in a child interpreter with an address-space limit and a timeout.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from engine.errors import DefinitionError, ProcessError
from engine.runtime import Engine
from engine.sandbox import Sandbox
from tests.engine.conftest import ROOT
from tests.engine.test_specs import RULE_TASK, _dmn, _gateway_process, bpmn, script_task, user_task

TIME_LIMIT = 0.5
#: for techniques a size or memory guard must stop: long enough that, on a busy machine, the
#: guard and not the clock is what stops them (the assertion names the guard)
GUARD_TIME_LIMIT = 10.0
#: where each place puts the technique, and the element a problem or failure must name
ELEMENT = {"script": "evil", "condition": "decide", "dmn": "r1_in"}  # at deploy: the DMN cell itself
RUN_ELEMENT = {**ELEMENT, "dmn": "rules"}  # when it runs: the business rule task
M = "{M}"  # the marker file's path, as a Python string literal, in the sources below


@dataclass(frozen=True)
class Technique:
    id: str
    what: str
    script: str | None = None  # statements, for a script task
    expr: str | None = None  # an expression, for a gateway condition and a DMN input cell
    stage: str = "deploy"  # where it is stopped: "deploy" (Engine.build) or "run" (Engine.start)
    needle: str = ""  # in the problem / error message (case-insensitive)
    expr_stage: str | None = None  # overrides for the expression places
    expr_needle: str | None = None
    isolate: bool = False  # could hang or eat memory if a guard failed: run in a child
    data: dict = field(default_factory=dict)  # start data besides `amount`
    raw_xml: bool = False  # the source is XML text already (character references)

    def places(self) -> list[str]:
        return (["script"] if self.script is not None else []) + \
               (["condition", "dmn"] if self.expr is not None else [])

    def expected(self, place: str) -> tuple[str, str]:
        if place == "script":
            return self.stage, self.needle
        return self.expr_stage or self.stage, self.expr_needle if self.expr_needle is not None else self.needle


def S(expr: str) -> str:
    """The script form of an expression technique."""
    return f"x = {expr}"


FILE_IO = f"[c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == 'FileIO'][0]({M}, 'w')"
DAG = "a = []\nfor i in range(100):\n    a = [a, a]\n"

CORPUS: list[Technique] = [
    # -- the class hierarchy -----------------------------------------------------------------
    Technique("subclasses-of-object", "().__class__.__bases__[0].__subclasses__() to FileIO",
              S(FILE_IO), FILE_IO, needle="'__subclasses__' is not allowed"),
    Technique("mro-of-str", "''.__class__.__mro__[1].__subclasses__()",
              S(f"''.__class__.__mro__[1].__subclasses__()[0]({M})"),
              f"''.__class__.__mro__[1].__subclasses__()[0]({M})", needle="'__subclasses__' is not allowed"),
    Technique("type-of-value", "type(()).__base__.__subclasses__()",
              S(f"type(()).__base__.__subclasses__()[-1]({M})"),
              f"type(()).__base__.__subclasses__()[-1]({M})", needle="'__subclasses__' is not allowed"),
    Technique("class-in-comprehension", "x.__class__ inside a comprehension",
              S(f"[x.__class__.__base__.__subclasses__() for x in [1]][0][0]({M})"),
              f"[x.__class__.__base__.__subclasses__() for x in [1]][0][0]({M})", needle="is not allowed"),
    Technique("mro-method", "datetime.mro()[-1] is object, without an underscore",
              S("datetime.mro()[-1]"), "datetime.mro()[-1]", needle="mro"),
    Technique("dict-subclasses", "{}.__class__.__subclasses__() (dict/list subclass tricks)",
              S("{}.__class__.__subclasses__()"), "[].__class__.__subclasses__()", needle="is not allowed"),
    Technique("method-on-a-type", "list.append / dict.get taken from the type itself",
              "f = dict.get\nx = f({'a': 1}, 'a')", "dict.get({'a': 1}, 'a')", stage="run",
              needle="attribute access on type"),
    # -- namespaces ----------------------------------------------------------------------------
    Technique("builtins-name", "__builtins__['open']",
              S(f"__builtins__['open']({M}, 'w')"), f"__builtins__['open']({M}, 'w')", needle="__builtins__"),
    Technique("helper-globals", "now.__globals__ of a helper function",
              S(f"now.__globals__['__builtins__']['open']({M}, 'w')"),
              f"now.__globals__['__builtins__']['open']({M}, 'w')", needle="__globals__"),
    Technique("dunder-dict", "datetime.__dict__ / json_loads.__dict__",
              S("datetime.__dict__['now']"), "json_loads.__dict__", needle="__dict__"),
    Technique("dunder-import", "__import__('os')",
              S(f"__import__('os').system('touch ' + {M})"), f"__import__('os').system('touch ' + {M})",
              needle="__import__"),
    Technique("globals-call", "globals()['__builtins__']",
              S(f"globals()['__builtins__']['open']({M}, 'w')"), "globals()['__builtins__']", needle="globals"),
    Technique("locals-vars-dir", "locals() / vars() / dir()",
              "a = locals()\nb = vars()\nc = dir()", "vars()", needle="not available"),
    Technique("cf-helpers", "calling the sandbox's own hidden helpers (_cf_getattr)",
              S("_cf_getattr((), '__class__')"), "_cf_getattr((), '__class__')", needle="underscore"),
    Technique("helper-from-task-data", "task data named like an internal helper replaces it",
              "x = ().count(1)", "().count(1) == 0", stage="run", needle="overwrites",
              data={"_cf_getattr": "from task data"}),
    Technique("del-builtins", "del __builtins__", "del __builtins__", None, needle="__builtins__"),
    # -- attribute access by name --------------------------------------------------------------
    Technique("getattr-built-name", "getattr with a name built from strings",
              S("getattr(getattr((), '__cla' + 'ss__'), '__ba' + 'se__')"),
              "getattr((), '__cla' + 'ss__')", needle="getattr"),
    Technique("setattr-delattr", "setattr / delattr on a helper class",
              "setattr(datetime, 'now', 1)\ndelattr(datetime, 'now')", "setattr(datetime, 'now', 1)",
              needle="setattr"),
    Technique("attribute-assignment", "assigning to an attribute of a shared object",
              "datetime.now = None", None, needle="assigning to attributes"),
    # -- format strings --------------------------------------------------------------------------
    Technique("str-format", "'{0.__class__.__base__}'.format(())",
              S("'{0.__class__.__base__.__subclasses__}'.format(())"),
              "'{0.__class__.__base__.__subclasses__}'.format(())", needle="format"),
    Technique("format-map", "'{a.__class__}'.format_map({...})",
              S("'{a.__class__}'.format_map({'a': 1})"), "'{a.__class__}'.format_map({'a': 1})",
              needle="format_map"),
    Technique("bound-format-as-value", "str.format fetched as a value and passed to map()",
              "f = '{0.__class__}'.format\nx = list(map(f, [1]))", "list(map('{0.__class__}'.format, [1]))",
              needle="format"),
    Technique("format-via-str-wrapper", "str.format reached through the str builtin",
              S("str.format('{0.__class__}', 1)"), "str.format('{0.__class__}', 1)", needle="format"),
    Technique("fstring-attribute", "f-string with an attribute and a !r conversion",
              S("f'{().__class__.__base__!r}'"), "f'{().__class__.__base__!r}'", needle="is not allowed"),
    Technique("fstring-computed-spec", "f-string with a computed format spec (width from data)",
              S("f'{1:>{w}}'"), "f'{1:>{w}}'", needle="computed format", data={"w": 10**9}),
    Technique("fstring-huge-width", "f-string padding to a billion characters",
              S("f'{1:>1000000000}'"), "f'{1:>1000000000}' == ''", needle="format width"),
    Technique("percent-format", "%-formatting with a mapping",
              S("'%(a)s' % {'a': 1}"), "'%(a)s' % {'a': 1}", stage="run", needle="%-formatting"),
    # -- frames: generators, coroutines, tracebacks ----------------------------------------------------
    Technique("generator-frame", "(x for x in []).gi_frame.f_back.f_globals",
              S(f"(x for x in [1]).gi_frame.f_back.f_globals['__builtins__']['open']({M}, 'w')"),
              "(x for x in [1]).gi_frame.f_back.f_builtins", stage="run", needle="generator"),
    Technique("generator-code", "gi_code of a generator expression",
              S("(x for x in [1]).gi_code.co_consts"), "(x for x in [1]).gi_code", stage="run",
              needle="generator"),
    Technique("generator-throw", "throw()/send() into a generator",
              S("(x for x in [1]).throw(ValueError)"), "(x for x in [1]).send(None)", stage="run",
              needle="generator"),
    Technique("wrapper-generator-frame", "the frame of the sandbox's own map() wrapper",
              S("map(abs, [1]).gi_frame.f_locals"), "map(abs, [1]).gi_frame", stage="run",
              needle="generator"),
    Technique("coroutine-frame", "async def / await / cr_frame",
              "async def f():\n    pass\nx = f().cr_frame", None, needle="AsyncFunctionDef"),
    Technique("traceback-frame", "try/except: e.__traceback__.tb_frame.f_back.f_globals",
              "try:\n    1 / 0\nexcept Exception as e:\n    g = e.__traceback__.tb_frame.f_back.f_globals",
              "ValueError('x').__traceback__", needle="Try", expr_needle="__traceback__"),
    Technique("exception-object", "an exception object's attributes (args, with_traceback)",
              S(f"ValueError({M}).with_traceback(None)"), f"ValueError({M}).args", stage="run",
              needle="attribute access on ValueError"),
    Technique("raise-system-exit", "raise SystemExit / assert", "raise SystemExit(1)", None, needle="Raise"),
    # -- definitions ---------------------------------------------------------------------------------------
    Technique("decorator", "@open on a function", "@open\ndef f():\n    pass", None, needle="FunctionDef"),
    Technique("lambda", "(lambda: 0).__globals__", S("(lambda: 0).__globals__"), "(lambda: 0)()",
              needle="__globals__", expr_needle="Lambda"),
    Technique("def", "def f(): return f.__globals__", "def f():\n    return f.__globals__\nx = f()", None,
              needle="FunctionDef"),
    Technique("class", "class D(dict) with __getattr__ that opens a file",
              f"class D(dict):\n    def __getattr__(self, name):\n        return open({M}, 'w')\nx = D().a",
              None, needle="ClassDef"),
    Technique("walrus", "(o := open)(...)", S(f"(o := len)({M})"), f"(o := len)({M})", needle="NamedExpr"),
    Technique("global", "global / nonlocal", "global x\nx = 1", None, needle="Global"),
    Technique("with-statement", "with open(...)", f"with open({M}, 'w') as f:\n    pass", None, needle="With"),
    Technique("match-statement", "match with a class pattern", "match x:\n    case dict():\n        pass", None,
              needle="Match"),
    Technique("import", "import os / from os import system",
              f"import os\nos.system('touch ' + {M})", None, needle="import"),
    Technique("import-from", "from subprocess import run", f"from subprocess import run\nrun(['touch', {M}])",
              None, needle="import"),
    # -- builtins that run code or touch the host ---------------------------------------------------------
    Technique("exec", "exec(source)", S(f"exec('open(' + {M} + ')')"),
              "exec('1')", needle="exec"),
    Technique("eval", "eval(source)", S("eval('1 + 1')"), "eval('1 + 1')", needle="eval"),
    Technique("compile", "compile(source)", S("compile('1', 's', 'eval')"), "compile('1', 's', 'eval')",
              needle="compile"),
    Technique("open", "open(path, 'w')", S(f"open({M}, 'w')"), f"open({M}, 'w')", needle="open"),
    Technique("breakpoint", "breakpoint()", S("breakpoint()"), "breakpoint()", needle="breakpoint"),
    Technique("input", "input()", S("input()"), "input()", needle="input"),
    Technique("help", "help()", S("help()"), "help()", needle="help"),
    Technique("site-builtins", "exit() / quit() / print() / iter() (not provided)",
              S("exit(1)"), "quit()", stage="run", needle="is not defined"),
    Technique("memoryview-bytearray", "bytearray(10**9) / memoryview",
              S("bytearray(10 ** 9)"), "memoryview(b'')", stage="run", needle="bytearray",
              expr_stage="deploy", expr_needle="memoryview"),
    # -- encodings --------------------------------------------------------------------------------------
    Technique("unicode-escaped-identifier", r"_\u005fimport_\u005f written with escapes in the source",
              "x = _\\u005fimport_\\u005f('os')", "_\\u005fimport_\\u005f('os')", needle="syntax"),
    Technique("fullwidth-identifier", "fullwidth letters that NFKC-normalise to eval / __import__",
              S("ｅｖａｌ('1')"), f"ｏｐｅｎ({M}, 'w')", needle="'eval' is not available",
              expr_needle="'open' is not available"),
    Technique("coding-declaration", "# coding: utf-7 with +AF8AXw- for __",
              "# coding: utf-7\nx = +AF8AXw-import+AF8AXw-('os')", "# coding: utf-7\n+AF8AXw-import+AF8AXw-('os')",
              needle="syntax"),
    Technique("parser-recursion", "100 000 nested unary minus / a 100 000-term sum crash the parser",
              S("-" * 100000 + "1"), "1" + " + 1" * 100000, needle="nested too deeply"),
    Technique("xml-character-references", "&#95;&#95;class&#95;&#95; decoded by the XML parser",
              "x = ().&#95;&#95;class&#95;&#95;", "().&#95;&#95;class&#95;&#95;", needle="__class__", raw_xml=True),
    # -- helpers ----------------------------------------------------------------------------------------
    Technique("json-loads-hooks", "json_loads(..., object_hook=/cls=) with a callable",
              S("json_loads('{\"a\": 1}', object_hook=now)"), "json_loads('[1]', cls=dict)", stage="run",
              needle="unexpected keyword"),
    Technique("json-dumps-hooks", "json_dumps(..., default=/cls=/separators=)",
              S("json_dumps([now], default=str)"), "json_dumps([1], separators=('x' * 100000, ':'))",
              stage="run", needle="unexpected keyword"),
    Technique("json-dumps-indent", "json_dumps(..., indent=10**8) memory bomb",
              S("json_dumps([[[1]]], indent=10 ** 8)"), "json_dumps([[[1]]], indent=10 ** 8)", stage="run",
              needle="indent", isolate=True),
    Technique("json-loads-deep", "json_loads of 100 000 nested arrays (recursion)",
              S("json_loads('[' * 100000 + ']' * 100000)"), "json_loads('[' * 100000 + ']' * 100000)",
              stage="run", needle="recursion"),
    Technique("strptime-quadratic", "datetime.strptime with a 100 000-directive format (45 s in C)",
              S("datetime.strptime('1' * 100000, '%d' * 50000)"),
              "datetime.strptime('1' * 100000, '%d' * 50000)", stage="run", needle="strptime", isolate=True),
    Technique("naive-tzinfo", "datetime.now().tzinfo.utcoffset: a naive datetime has no tzinfo",
              S("datetime.now().tzinfo.utcoffset(None)"), "datetime.now().tzinfo.utcoffset(None)",
              stage="run", needle="NoneType"),
    Technique("datetime-attributes", "now().tzinfo.utcoffset.__self__.__class__",
              S("now().tzinfo.utcoffset.__self__.__class__"), "datetime.fromtimestamp.__self__",
              needle="is not allowed"),
    Technique("timedelta-attributes", "timedelta.max.__class__.__subclasses__()",
              S("timedelta.max.__class__.__subclasses__()"), "timedelta(1).total_seconds.__self__",
              needle="is not allowed", expr_needle="__self__"),
    Technique("bytes-and-to-bytes", "b'a' * 10**9 and (1).to_bytes(10**9) (bytes are not data)",
              S("(1).to_bytes(10 ** 9, 'big')"), "b'a' * 10 ** 9", needle="to_bytes", expr_needle="bytes"),
    Technique("translate-bomb", "s.translate({97: s}): len(s) ** 2 characters",
              S("('a' * 100000).translate({97: 'a' * 100000})"), "'a'.translate({97: 'b'})",
              needle="translate"),
    Technique("key-from-task-data", "sorted(key=...) with a callable taken from task data",
              S(f"sorted([{M}], key=hook)"), f"sorted([{M}], key=hook)", stage="run", needle="not callable",
              data={"hook": "open"}),
    Technique("mutating-an-expression", "an expression that changes task data in place",
              "l = [1]\nx = any(map(l.append, l))", "any(map(items.append, items))", stage="run",
              needle="longer than", expr_stage="deploy", expr_needle="changes data", isolate=True,
              data={"items": [1]}),
    # -- size and time bombs ---------------------------------------------------------------------------
    Technique("join-bomb", "''.join of 10**5 strings of 10**5 characters",
              S("''.join(['a' * 100000] * 100000)"), "''.join(['a' * 100000] * 100000)", stage="run",
              needle="string longer", isolate=True),
    Technique("replace-bomb", "replace() each character with 10**5 characters",
              S("('a' * 100000).replace('a', 'a' * 100000)"), "('a' * 100000).replace('a', 'a' * 100000)",
              stage="run", needle="string longer", isolate=True),
    Technique("repeat-bomb", "'a' * 10**10 and [0] * 10**10",
              S("'a' * 10 ** 10"), "[0] * 10 ** 10", stage="run", needle="longer than", isolate=True),
    Technique("concat-loop", "s += 'a' * 100000 in an endless loop",
              "s = ''\nwhile True:\n    s += 'a' * 100000", None, stage="run", needle="string longer",
              isolate=True),
    Technique("doubling-loop", "l.extend(l) / [*l, *l] / l + l doubling a list every turn",
              "l = [0]\nfor i in range(64):\n    l.extend(l)\n    l = [*l, *l]\n    l = l + l", None, stage="run",
              needle="longer than", isolate=True),
    Technique("repr-doubling", "s = f'{s!r}' doubles the backslashes every turn",
              "s = '\\\\' * 1000\nfor i in range(40):\n    s = f'{s!r}'", None, stage="run",
              needle="string longer", isolate=True),
    Technique("augmented-item", "l[0] *= 10**9 / l[0] **= 10**7 (augmented assignment to an item)",
              "l = ['a']\nl[0] *= 10 ** 9", None, stage="run", needle="longer than", isolate=True),
    Technique("nested-multiplication", "[[0]*100000]*100000 then flattened",
              "l = [[0] * 100000] * 100000\nflat = [y for x in l for y in x]",
              "len([y for x in [[0] * 100000] * 100000 for y in x])", stage="run", needle="",
              isolate=True),
    Technique("fresh-rows", "[[0]*100000 for i in range(100000)]: 80 GB of fresh lists",
              S("[[0] * 100000 for i in range(100000)]"), "len([[0] * 100000 for i in range(100000)])",
              stage="run", needle="", isolate=True),
    Technique("sum-of-lists", "sum([big] * 10**5, []): quadratic, no tick",
              S("sum([[0] * 100000] * 100000, [])"), "len(sum([[0] * 100000] * 100000, []))", stage="run",
              needle="sum()", isolate=True),
    Technique("shared-structure-print", "a = [a, a] 100 times, then str(a) / f'{a}' / json_dumps(a)",
              DAG + "x = str(a)", None, stage="run", needle="counting repeats", isolate=True),
    Technique("shared-structure-compare", "a == b for two 2**100-leaf structures (no tick in C)",
              DAG.replace("a = [a, a]", "a = [a, a]\n    b = [b, b]").replace("a = []", "a = []\nb = []")
              + "x = a == b", None, stage="run", needle="counting repeats", isolate=True),
    Technique("shared-tuple-hash", "t = (t, t) 100 times, then {t}: hashing walks 2**100 items",
              "t = ()\nfor i in range(100):\n    t = (t, t)\nx = {t}", None, stage="run", needle="items",
              isolate=True),
    Technique("deep-tuple-hash", "a tuple nested 10**6 deep: hash() recursion crashes CPython",
              "t = ()\nfor i in range(1000):\n    for j in range(1000):\n        t = list(enumerate([t]))[0]\nx = {t}",
              None, stage="run", needle="nested deeper", isolate=True),
    Technique("recursive-data", "d['self'] = d: a cycle written back to task data",
              "d = {}\nd['self'] = d", None, stage="run", needle="nested deeper"),
    Technique("power-bomb", "10 ** 10 ** 10", S("10 ** 10 ** 10"), "10 ** 10 ** 10", stage="run",
              needle="exponent", isolate=True),
    Technique("round-bomb", "round(5, -10**9) computes 10**(10**9)",
              S("round(5, -10 ** 9)"), "round(5, -10 ** 9)", stage="run", needle="round()", isolate=True),
    Technique("big-int-division", "int('f' * 10**6, 16) // ... is quadratic",
              S("int('f' * 100000, 16) // 7"), "int('f' * 100000, 16) // 7", stage="run",
              needle="integer larger", isolate=True),
    Technique("endless-loop", "while True: pass", "while True:\n    pass", None, stage="run",
              needle="longer than", isolate=True),
    Technique("huge-comprehension", "10**10 steps in a comprehension",
              S("[1 for a in range(100000) for b in range(100000) if a < 0]"),
              "len([1 for a in range(100000) for b in range(100000) if a < 0])", stage="run",
              needle="longer than", isolate=True),
]


# -- building and running one technique ------------------------------------------------------------
def _source(tech: Technique, text: str, marker: str) -> str:
    text = text.replace(M, repr(marker))
    return text if tech.raw_xml else escape(text)


def files_for(tech: Technique, place: str, marker: str) -> tuple[dict[str, bytes], str]:
    if place == "script":
        source = _source(tech, tech.script, marker)
        return {"evil.bpmn": bpmn(script_task("evil", source), user_task("after"))}, "p"
    source = _source(tech, tech.expr, marker)
    if place == "condition":
        return {"g.bpmn": _gateway_process(source)}, "g"
    return {"r.bpmn": bpmn(RULE_TASK, user_task("after")), "d.dmn": _dmn(source)}, "p"


def outcome_of(files: dict[str, bytes], process_id: str, data: dict[str, Any],
               time_limit: float = TIME_LIMIT) -> dict[str, Any]:
    """Build the files and, if that finds no problem, start an instance: what stopped it?"""
    try:
        built = Engine({}, sandbox=Sandbox(time_limit=time_limit)).build(files)
        problems = built.problems
    except DefinitionError as exc:
        problems = exc.problems
    if problems:
        return {"stage": "deploy", "problems": [[p.element, p.message] for p in problems]}
    store = {"k": built.spec_json}
    runner = Engine({}, spec_loader=store.__getitem__, sandbox=Sandbox(time_limit=time_limit))
    try:
        run = runner.start("k", process_id, data)
    except ProcessError as exc:
        cause: BaseException = exc  # SpiffWorkflow wraps the error without naming it as the cause
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        return {"stage": "run", "element": exc.element, "message": exc.message,
                "cause": f"{type(cause).__name__}: {cause}"}
    return {"stage": "none", "completed": run.completed, "tasks": [t.element_id for t in run.user_tasks()]}


_CHILD = textwrap.dedent("""
    import json, resource, sys
    sys.path.insert(0, sys.argv[1])
    from tests.engine.test_sandbox_corpus import outcome_of
    with open("/proc/self/status") as status:  # allow 1 GiB on top of what the imports took
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + (1 << 30), size + (1 << 30)))
    job = json.load(sys.stdin)
    try:
        result = outcome_of({k: v.encode() for k, v in job["files"].items()}, job["process"], job["data"],
                            job["time_limit"])
    except MemoryError:
        result = {"stage": "memory"}
    print(json.dumps(result))
""")


def _in_child(files: dict[str, bytes], process_id: str, data: dict, time_limit: float) -> dict[str, Any]:
    job = json.dumps({"files": {k: v.decode() for k, v in files.items()}, "process": process_id, "data": data,
                      "time_limit": time_limit})
    result = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT)], input=job, capture_output=True,
                            text=True, timeout=120)
    lines = result.stdout.strip().splitlines()
    if result.returncode or not lines:
        return {"stage": f"child died ({result.returncode})", "stderr": result.stderr[-2000:]}
    return json.loads(lines[-1])


def try_technique(tech: Technique, place: str, marker: str) -> dict[str, Any]:
    files, process_id = files_for(tech, place, marker)
    data = {"amount": 1, **tech.data}
    limit = TIME_LIMIT if "longer than" in tech.expected(place)[1] else GUARD_TIME_LIMIT
    if tech.isolate:
        return _in_child(files, process_id, data, limit)
    return outcome_of(files, process_id, data, limit)


CASES = [pytest.param(tech, place, id=f"{tech.id}-{place}") for tech in CORPUS for place in tech.places()]


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 30
    assert len({t.id for t in CORPUS}) == len(CORPUS)
    assert sum(1 for t in CORPUS if t.expr is not None) >= 30


@pytest.mark.parametrize(("tech", "place"), CASES)
def test_technique_is_refused_or_contained(tech: Technique, place: str, tmp_path: Path):
    marker = tmp_path / "escaped"
    outcome = try_technique(tech, place, str(marker))
    stage, needle = tech.expected(place)
    element = ELEMENT[place]
    assert not marker.exists(), f"{tech.id} in a {place} escaped: it created {marker}"
    assert outcome["stage"] == stage, f"{tech.id} in a {place}: expected {stage}, got {outcome}"
    if stage == "deploy":
        named = [message for problem_element, message in outcome["problems"] if problem_element == element]
        assert named, f"no problem names {element}: {outcome['problems']}"
        assert any(needle.lower() in message.lower() for message in named), (needle, named)
    else:
        assert outcome["element"] == RUN_ELEMENT[place], outcome
        text = f"{outcome['message']} {outcome['cause']}".lower()
        assert needle.lower() in text, (needle, outcome)


# -- other places that carry expressions are checked when the files are built ------------------------
@pytest.mark.parametrize(("element", "needle"), [
    ('<bpmn:intermediateCatchEvent id="evil">{IN}{OUT}<bpmn:timerEventDefinition id="t">'
     '<bpmn:timeDuration>().__class__</bpmn:timeDuration></bpmn:timerEventDefinition>'
     '</bpmn:intermediateCatchEvent>', "__class__"),
    ('<bpmn:userTask id="evil">{IN}{OUT}<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
     '<bpmn:loopCardinality>len(open("x"))</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
     '</bpmn:userTask>', "open"),
])
def test_timer_and_loop_expressions_are_checked_at_deploy(element: str, needle: str):
    built = Engine({}).build({"x.bpmn": bpmn(element)})
    assert [p.element for p in built.problems] == ["evil"], built.problems
    assert needle in built.problems[0].message


def test_dmn_input_expression_is_checked_at_deploy():
    dmn = _dmn("1").replace(b"<text>amount</text>", b"<text>amount.__class__</text>")
    built = Engine({}).build({"r.bpmn": bpmn(RULE_TASK, user_task("after")), "d.dmn": dmn})
    assert [(p.file, p.element) for p in built.problems] == [("d.dmn", "in1")], built.problems
    assert "Input column 1 'Amount'" in built.problems[0].message and "__class__" in built.problems[0].message


# -- what the helpers' public attributes lead to ----------------------------------------------------
def test_helper_attributes_reach_only_plain_values():
    """Walk every public attribute of the date helpers (and call those that take no argument)
    three levels deep: everything reached is plain data, a date class or a method of one;
    never `type`, `object`, a module, a frame or a function's globals."""
    from datetime import date, datetime, time, timedelta, timezone

    from engine.sandbox import HELPERS, _guarded_getattr

    allowed = (str, int, float, bool, type(None), tuple, list, dict, datetime, date, time, timedelta,
               timezone, types.BuiltinFunctionType, types.MethodWrapperType,
               # unbound methods and fields of the date classes: no public attribute of their own
               types.GetSetDescriptorType, types.MemberDescriptorType, types.MethodDescriptorType,
               types.WrapperDescriptorType, types.ClassMethodDescriptorType)
    now = HELPERS["now"]()
    roots = [HELPERS["datetime"], HELPERS["timedelta"], now, now.date(), now.time(), timedelta(1), timezone.utc,
             HELPERS["parse_datetime"]("2024-01-01T10:00:00+02:00")]
    seen, level = set(), roots
    for _ in range(3):
        below = []
        for obj in level:
            for name in dir(obj):
                try:
                    value = _guarded_getattr(obj, name)
                except Exception:  # refused, or not an attribute of this object
                    continue
                if callable(value) and not isinstance(value, type):
                    try:
                        value = value()
                    except Exception:  # needs arguments
                        continue
                key = (type(value), repr(value)[:80])
                if key in seen:
                    continue
                seen.add(key)
                assert isinstance(value, allowed) or value in (datetime, date, time, timedelta, timezone), \
                    f"{type(obj).__name__}.{name} reaches {value!r}"
                below.append(value)
        level = below
    assert len(seen) > 50  # the walk did reach things
