"""The restricted evaluator: what conditions and mappings may compute, and escape attempts it refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telora.workflows.engine.evaluator import ExpressionError, compile_expression, evaluate
from telora.workflows.engine.spiff import RestrictedScriptEngine

DATA = {"amount": 150, "plan": "gold", "items": [1, 2, 3], "customer": {"country": "NL", "age": 30},
        "start": "2026-03-01", "flag": True}


@pytest.mark.parametrize(("expression", "expected"), [
    ("amount > 100", True),
    ("amount > 100 and plan == 'gold'", True),
    ("not flag or amount < 10", False),
    ("customer['country'] in ['NL', 'BE']", True),
    ("len(items) * 2 + 1", 7),
    ("items[0] + items[-1]", 4),
    ("'big' if amount >= 150 else 'small'", "big"),
    ("decimal('9.99') * 2", Decimal("19.98")),
    ("days_between(start, '2026-03-31')", 30),
    ("upper(plan) + '!'", "GOLD!"),
    ("max(amount, 200) // 3 % 7", 3),
    ("{'a': amount}['a']", 150),
    ("1 < amount <= 150", True),
    ("null is None and true", True),
])
def test_allowed_expressions(expression, expected):
    assert evaluate(expression, DATA) == expected


@pytest.mark.parametrize(("expression", "reason"), [
    ("__import__('os').system('id')", "Attribute is not allowed"),
    ("__import__('os')", "function '__import__' is not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "Attribute is not allowed"),
    ("plan.upper()", "Attribute is not allowed"),
    ("open('/etc/passwd')", "function 'open' is not allowed"),
    ("eval('1')", "function 'eval' is not allowed"),
    ("getattr(plan, '__class__')", "function 'getattr' is not allowed"),
    ("[x for x in items]", "ListComp is not allowed"),
    ("(lambda: 1)()", "Lambda is not allowed"),
    ("(y := 1)", "NamedExpr is not allowed"),
    ("9 ** 9 ** 9", "Pow is not allowed"),
    ("import os", "syntax error"),
    ("amount; amount", "syntax error"),
    ("f'{amount}'", "JoinedStr is not allowed"),
    ("len(*items)", "plain positional arguments"),
    ("int(x=1)", "plain positional arguments"),
    ("{**customer}", "** in a dict is not allowed"),
    ("items[0:2]", "Slice is not allowed"),
    ("_secret", "names starting with _ are private"),
    ("'x' * 1000000000", "larger than 10000"),
    ("[1] * 20000", "larger than 10000"),
    ("10000000000 * 10000000000 * 10000000000 * 10000000000 * 10000000000 * 10000000000 * 10000000000 "
     "* 10000000000 * 10000000000", "bits"),
    ("missing > 1", "unknown name 'missing'"),
    ("1 / 0", "ZeroDivisionError"),
    ("x" * 2001, "longer than 2000"),
    ("+".join(["1"] * 400), "more than 300 parts"),
])
def test_escapes_and_costs_are_refused(expression, reason):
    with pytest.raises(ExpressionError) as err:
        evaluate(expression, DATA)
    assert reason in str(err.value)


def test_the_step_budget_stops_a_costly_expression():
    # 300 nodes cannot loop, but nested sizeable work still counts: a long chain within the node limit
    long = " + ".join(["len(items)"] * 35)
    assert evaluate(long, DATA) == 105
    from telora.workflows.engine import evaluator

    old = evaluator.MAX_STEPS
    evaluator.MAX_STEPS = 50
    try:
        with pytest.raises(ExpressionError, match="more than 50 steps"):
            evaluate(long, DATA)
    finally:
        evaluator.MAX_STEPS = old


def test_data_cannot_smuggle_objects_in():
    with pytest.raises(ExpressionError, match="not allowed"):
        evaluate("thing", {"thing": object()})


def test_spiff_never_evals_python():
    engine = RestrictedScriptEngine()
    with pytest.raises(ExpressionError):
        engine.validate("__import__('os')")
    with pytest.raises(ExpressionError, match="script tasks are not allowed"):
        engine.environment.execute("x = 1", {})
    assert engine.environment.evaluate("amount > 1", {"amount": 2}) is True
    compile_expression("amount > 1")
