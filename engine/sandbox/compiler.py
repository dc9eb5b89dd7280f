"""Compile time: the AST whitelist and the rewrite that routes operations through guards."""
from __future__ import annotations

import ast
import re
from typing import cast

from engine.sandbox.limits import (
    _ALLOWED_NODES,
    _FORBIDDEN_ATTRIBUTES,
    _FORBIDDEN_NAMES,
    _MAX_FORMAT_WIDTH,
    _MUTATING_METHODS,
    SandboxViolation,
)


def _violation(node: ast.AST, message: str) -> SandboxViolation:
    return SandboxViolation(message, getattr(node, "lineno", None))


def check(tree: ast.AST) -> None:
    """Raise :class:`SandboxViolation` for the first construct outside the whitelist."""
    expression = isinstance(tree, ast.Expression)
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
            if expression and node.attr in _MUTATING_METHODS:
                raise _violation(node, f"'{node.attr}' changes data, which an expression must not do")
        elif isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            raise _violation(node, "bytes literals are not allowed")
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) \
                and not isinstance(node.ctx, ast.Load):
            raise _violation(node, "assigning to a slice is not allowed; build a new list")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            _check_format_spec(node)


def _check_format_spec(node: ast.FormattedValue) -> None:
    parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
    if not all(isinstance(p, ast.Constant) for p in parts):
        raise _violation(node, "computed format specifications are not allowed")
    spec = "".join(str(cast(ast.Constant, p).value) for p in parts)
    widths = [int(n) for n in re.findall(r"\d+", spec)]
    if any(w > _MAX_FORMAT_WIDTH for w in widths):
        raise _violation(node, f"format width larger than {_MAX_FORMAT_WIDTH}")


_CHECKED_OPS = {ast.Add: "add", ast.Mult: "mul", ast.Mod: "mod", ast.Pow: "pow",
                ast.LShift: "lshift", ast.FloorDiv: "floordiv"}
_COMPARE_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
                ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in"}


def _helper(name: str, *args: ast.expr, node: ast.AST) -> ast.Call:
    return ast.copy_location(ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[]), node)


class _Guard(ast.NodeTransformer):
    """Route calls, attribute reads, operators and comparisons through checked helpers."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(func=ast.Name("_cf_call", ast.Load()), args=[node.func, *node.args],
                        keywords=node.keywords)
        return ast.copy_location(call, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return _helper("_cf_getattr", node.value, ast.Constant(node.attr), node=node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = _CHECKED_OPS.get(type(node.op))
        return node if name is None else _helper(f"_cf_{name}", node.left, node.right, node=node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        name = _CHECKED_OPS.get(type(node.op))
        if name is None:
            return node
        if isinstance(node.target, ast.Name):  # x += y  ->  x = _cf_iadd(x, y)
            value = _helper(f"_cf_i{name}", ast.Name(node.target.id, ast.Load()), node.value, node=node)
            return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)
        # d[k] += y  ->  _cf_augitem(d, k, 'add', y)   (attribute targets are refused by check())
        target = cast(ast.Subscript, node.target)
        call = _helper("_cf_augitem", target.value, target.slice, ast.Constant(name), node.value, node=node)
        return ast.copy_location(ast.Expr(call), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node
        if len(node.ops) == 1:
            op = ast.Constant(_COMPARE_OPS[type(node.ops[0])])
            return _helper("_cf_compare", node.left, op, node.comparators[0], node=node)
        node.left = _helper("_cf_operand", node.left, node=node)  # a < b < c: measure each side
        node.comparators = [_helper("_cf_operand", c, node=c) for c in node.comparators]
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or all(isinstance(e, ast.Constant) for e in node.elts) \
                or any(isinstance(e, ast.Slice) for e in node.elts):  # x[1:2, 3] is an index, not a tuple
            return node
        return _helper("_cf_tuple", node, node=node)

    def _visit_display(self, node: ast.List | ast.Set | ast.Dict) -> ast.AST:
        """``[*a, *a]`` or ``{**d}`` copy data without a call: capped, and passing the clock."""
        self.generic_visit(node)
        items = node.keys if isinstance(node, ast.Dict) else node.elts
        if isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)) \
                or not any(item is None or isinstance(item, ast.Starred) for item in items):
            return node
        return _helper("_cf_sized", node, node=node)

    visit_List = _visit_display
    visit_Set = _visit_display
    visit_Dict = _visit_display

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Load):
            node.value = _helper("_cf_pass", node.value, node=node)  # a slice copies
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if any(isinstance(n, ast.Starred) for t in node.targets for n in ast.walk(t)):
            node.value = _helper("_cf_pass", node.value, node=node)  # first, *rest = data copies
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.generic_visit(node)
        return _helper("_cf_text", node, node=node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        # the format spec is a JoinedStr of constants (see check()); it must stay one
        node.value = _helper("_cf_fmt", self.visit(node.value), node=node)
        return node

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


