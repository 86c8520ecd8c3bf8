"""The restricted evaluator for gateway conditions, data mappings and timer expressions of stored flows.

A flow is a document an operator edits, so its expressions are data, not Python: SpiffWorkflow's
default script engine runs them with `eval`, which would hand every flow author the server. Here an
expression is parsed with `ast` and walked by a small interpreter that knows only an allow-list:

- literals (numbers, strings, True/False/None, lists, tuples, dicts), names read from the instance data;
- comparisons, `and`/`or`/`not`, `x if c else y`, arithmetic `+ - * / // %` (no `**`), subscripts;
- calls of the whitelisted functions in FUNCTIONS, by name, without keyword tricks or `*args`.

Nothing else parses: no attribute access at all (so no `__class__`, no `.format`), no imports, no
lambdas or comprehensions, no walrus. Cost is bounded: the source length and node count at compile
time, a step budget while walking, and the size of every string, list and integer made on the way.
Pure Python: no Django, so the engine is testable alone.
"""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal, InvalidOperation

MAX_SOURCE = 2_000  # characters of one expression
MAX_NODES = 300  # AST nodes of one expression
MAX_STEPS = 10_000  # interpreter steps of one evaluation
MAX_SIZE = 10_000  # characters of a string / items of a collection made by an expression
MAX_INT_BITS = 256


class ExpressionError(ValueError):
    """An expression that does not compile or cannot be evaluated; `column` is 1-based when known."""

    def __init__(self, message: str, *, expression: str = "", column: int | None = None):
        super().__init__(message)
        self.expression = expression
        self.column = column


def _decimal(value):
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ExpressionError(f"decimal(): {str(value)[:40]!r} is not a number") from None


def _date(value):
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ExpressionError(f"date(): {str(value)[:40]!r} is not an ISO date") from None


def _days_between(start, end):
    return (_date(end) - _date(start)).days


def _contains(haystack, needle):
    return needle in haystack


FUNCTIONS = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "int": int, "str": str, "bool": bool,
    "decimal": _decimal, "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper(),
    "strip": lambda s: str(s).strip(), "startswith": lambda s, p: str(s).startswith(str(p)),
    "contains": _contains, "date": _date, "days_between": _days_between,
}

_COMPARE = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}
_BINARY = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
}
_UNARY = {ast.Not: lambda a: not a, ast.USub: lambda a: -a, ast.UAdd: lambda a: +a}
_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.BinOp,
    ast.Compare, ast.IfExp, ast.Subscript, ast.List, ast.Tuple, ast.Dict, ast.Call,
    *_COMPARE, *_BINARY, *_UNARY,
)
_PLAIN = (str, int, float, bool, type(None), Decimal, dt.date, list, tuple, dict)


def compile_expression(source: str) -> ast.Expression:
    """Parse and check an expression; raises ExpressionError naming what is refused and where."""
    if not isinstance(source, str):
        raise ExpressionError("an expression is text")
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"expression longer than {MAX_SOURCE} characters", expression=source[:80])
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", expression=source, column=exc.offset) from None
    count = 0
    for node in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} parts", expression=source)
        column = getattr(node, "col_offset", -1) + 1 or None
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{type(node).__name__} is not allowed in an expression",
                                  expression=source, column=column)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"name {node.id!r} is not allowed (names starting with _ are private)",
                                  expression=source, column=column)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > MAX_SIZE:
            raise ExpressionError("string literal too long", expression=source, column=column)
        if isinstance(node, ast.Constant) and not isinstance(node.value, (str, int, float, bool, type(None))):
            raise ExpressionError(f"literal of type {type(node.value).__name__} is not allowed",
                                  expression=source, column=column)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ExpressionError(f"only functions named plainly may be called ({type(node.func).__name__} "
                                      "is not allowed)", expression=source, column=column)
            if node.func.id not in FUNCTIONS:
                raise ExpressionError(f"function {node.func.id!r} is not allowed (allowed: "
                                      f"{', '.join(sorted(FUNCTIONS))})", expression=source, column=column)
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise ExpressionError("function calls take plain positional arguments only",
                                      expression=source, column=column)
    return tree


class _Run:
    def __init__(self, data: dict, source: str):
        self.data = data
        self.source = source
        self.steps = 0

    def fail(self, message: str, node=None):
        column = getattr(node, "col_offset", None)
        raise ExpressionError(message, expression=self.source, column=None if column is None else column + 1)

    def bounded(self, value, node):
        if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_SIZE:
            self.fail(f"value larger than {MAX_SIZE} items", node)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            self.fail(f"number larger than {MAX_INT_BITS} bits", node)
        if not isinstance(value, _PLAIN):
            self.fail(f"value of type {type(value).__name__} is not allowed", node)
        return value

    def eval(self, node):
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.fail(f"expression took more than {MAX_STEPS} steps", node)
        method = getattr(self, "_" + type(node).__name__)
        return self.bounded(method(node), node)

    def _Expression(self, node):
        return self.eval(node.body)

    def _Constant(self, node):
        return node.value

    def _Name(self, node):
        if node.id in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[node.id]
        if node.id not in self.data:
            self.fail(f"unknown name {node.id!r}", node)
        return self.data[node.id]

    def _BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        value = None
        for operand in node.values:
            value = self.eval(operand)
            if is_and and not value or not is_and and value:
                return value
        return value

    def _UnaryOp(self, node):
        return self._apply(_UNARY[type(node.op)], node, self.eval(node.operand))

    def _BinOp(self, node):
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.Mult):  # bound before making: "x" * 10**9 must not be built
            for a, b in ((left, right), (right, left)):
                if isinstance(a, (str, list, tuple)) and isinstance(b, int) and len(a) * max(b, 0) > MAX_SIZE:
                    self.fail(f"value larger than {MAX_SIZE} items", node)
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                self.fail(f"number larger than {MAX_INT_BITS} bits", node)
        return self._apply(_BINARY[type(node.op)], node, left, right)

    def _Compare(self, node):
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            if not self._apply(_COMPARE[type(op)], node, left, right):
                return False
            left = right
        return True

    def _IfExp(self, node):
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Subscript(self, node):
        container = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            self.fail("slices are not allowed", node)
        key = self.eval(node.slice)
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            self.fail(f"no item {key!r}", node)

    def _List(self, node):
        return [self.eval(item) for item in node.elts]

    def _Tuple(self, node):
        return tuple(self.eval(item) for item in node.elts)

    def _Dict(self, node):
        if any(key is None for key in node.keys):
            self.fail("** in a dict is not allowed", node)
        return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values, strict=True)}

    def _Call(self, node):
        args = [self.eval(arg) for arg in node.args]
        return self._apply(FUNCTIONS[node.func.id], node, *args)

    def _apply(self, function, node, *args):
        try:
            return function(*args)
        except ExpressionError:
            raise
        except (TypeError, ValueError, ZeroDivisionError, ArithmeticError) as exc:
            self.fail(f"{type(exc).__name__}: {exc}", node)


_CACHE: dict[str, ast.Expression] = {}


def evaluate(source: str, data: dict):
    """The value of `source` over `data` (the instance data: a dict of plain JSON-like values)."""
    tree = _CACHE.get(source)
    if tree is None:
        tree = compile_expression(source)
        if len(_CACHE) < 2_000:
            _CACHE[source] = tree
    return _Run(data, source).eval(tree)
