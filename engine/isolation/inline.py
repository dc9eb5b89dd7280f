"""Which expressions are provably cheap enough to evaluate in the web worker itself.

Crossing to a worker process costs a round trip (see docs/operations.md, "Scripts"); most
gateway conditions and decision cells are one comparison. An expression stays in-process only if
its syntax alone bounds what it can do — on top of the sandbox, which still compiles, guards and
times it:

- it is short (``MAX_SOURCE`` characters, ``MAX_NODES`` syntax nodes);
- it has no loop: the only iteration allowed is ``any(...)``/``all(...)`` over a generator whose
  source is a *literal* tuple/list of constants (``any(w in text for w in ("a", "b"))``), one per
  expression, not nested — at most ``MAX_LITERAL_ITEMS`` turns;
- the only calls are ``any``, ``all``, ``len`` and ``.get(key[, default])`` with names or constants;
- the only arithmetic is ``+ - * /``, at most ``MAX_ARITHMETIC`` of them (each result capped by
  the sandbox: strings 1 M characters, sequences 100 000 items); no ``**``, ``<<``, ``%``,
  ``//``, f-strings, comprehensions that build, slices, dict displays, attributes other than
  ``get``;
- names, constants, comparisons (``== != < <= > >= in not in is is not``), ``and``/``or``/``not``,
  unary ``-``/``+``, ``x if c else y``, tuple/list/set displays, subscripts by a constant.

So the number of operations is bounded by the expression's size times ``MAX_LITERAL_ITEMS``,
each one is a single comparison, lookup or capped arithmetic step on task data the sandbox has
already bounded (its data limits), and at most ``MAX_ARITHMETIC`` new values larger than the
source can be made (≤ a few MB each). Nothing can loop, recurse, call out, or allocate without
bound. Everything else — every script, every expression with a loop or another call — goes to
a worker process.
"""
from __future__ import annotations

import ast

MAX_SOURCE = 600
MAX_NODES = 80
MAX_ARITHMETIC = 3
MAX_LITERAL_ITEMS = 64
_CALLS = frozenset({"any", "all", "len"})
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_UNARY = (ast.Not, ast.USub, ast.UAdd)


class _NotCheap(Exception):
    pass


def provably_cheap(source: str) -> bool:
    """Whether the expression ``source`` (eval mode) may be evaluated in-process."""
    if len(source) > MAX_SOURCE:
        return False
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        return False
    checker = _Checker()
    try:
        checker.check(tree.body, in_generator=False)
    except _NotCheap:
        return False
    return True


def _constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bytes)


class _Checker:
    def __init__(self) -> None:
        self.arithmetic = 0
        self.generators = 0

    def check(self, node: ast.expr, in_generator: bool) -> None:
        if _constant(node) or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            return
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.check(value, in_generator)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
            self.check(node.operand, in_generator)
        elif isinstance(node, ast.Compare) and all(isinstance(op, _COMPARISONS) for op in node.ops):
            for part in (node.left, *node.comparators):
                self.check(part, in_generator)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            self.arithmetic += 1
            if self.arithmetic > MAX_ARITHMETIC:
                raise _NotCheap
            self.check(node.left, in_generator)
            self.check(node.right, in_generator)
        elif isinstance(node, ast.IfExp):
            for part in (node.test, node.body, node.orelse):
                self.check(part, in_generator)
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and not isinstance(getattr(node, "ctx", ast.Load()),
                                                                                  ast.Store):
            if len(node.elts) > MAX_LITERAL_ITEMS:
                raise _NotCheap
            for item in node.elts:
                if isinstance(item, ast.Starred):
                    raise _NotCheap
                self.check(item, in_generator)
        elif isinstance(node, ast.Subscript) and _constant(node.slice):
            self.check(node.value, in_generator)
        elif isinstance(node, ast.Call) and not node.keywords:
            self._call(node, in_generator)
        else:
            raise _NotCheap

    def _call(self, node: ast.Call, in_generator: bool) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(node.args) <= 2 \
                and all(_constant(arg) or isinstance(arg, ast.Name) for arg in node.args):
            self.check(func.value, in_generator)
        elif isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1:
            self.check(node.args[0], in_generator)
        elif isinstance(func, ast.Name) and func.id in _CALLS and len(node.args) == 1 \
                and isinstance(node.args[0], ast.GeneratorExp):
            self._generator(node.args[0], in_generator)
        elif isinstance(func, ast.Name) and func.id in _CALLS and len(node.args) == 1:
            self.check(node.args[0], in_generator)  # any((a, b)), all([x, y]): a display, checked as such
            if not isinstance(node.args[0], (ast.Tuple, ast.List, ast.Set)):
                raise _NotCheap  # any(data) would walk a value of any length
        else:
            raise _NotCheap

    def _generator(self, node: ast.GeneratorExp, in_generator: bool) -> None:
        self.generators += 1
        if in_generator or self.generators > 1 or len(node.generators) != 1:
            raise _NotCheap
        loop = node.generators[0]
        if loop.is_async or loop.ifs or not isinstance(loop.target, ast.Name):
            raise _NotCheap
        source = loop.iter
        if not isinstance(source, (ast.Tuple, ast.List)) or len(source.elts) > MAX_LITERAL_ITEMS \
                or not all(_constant(item) for item in source.elts):
            raise _NotCheap
        self.check(node.elt, in_generator=True)
