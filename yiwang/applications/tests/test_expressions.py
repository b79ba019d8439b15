"""The restricted evaluator: what is allowed evaluates, everything else is refused before running."""

import pytest
from django.utils import translation

from yiwang.applications import expressions
from yiwang.applications.expressions import UnsafeExpression, check, evaluate


@pytest.fixture(autouse=True)
def _english():
    """The messages are asserted in English; the site's default language is zh-Hans."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("expr", "names", "expected"),
    [
        ('decision == "accept"', {"decision": "accept"}, True),
        ("60 <= age < 120", {"age": 61}, True),
        ("age >= 60 and not blocked or vip", {"age": 50, "blocked": False, "vip": False}, False),
        ("(a + b) * 2 - c // 3 % 2 / 1", {"a": 1, "b": 2, "c": 9}, 5.0),
        ("-x", {"x": 3}, -3),
        ('kind in ("a", "b")', {"kind": "b"}, True),
        ("n not in [1, 2, -3]", {"n": -3}, False),
        ('items[0] == "x" and person["age"] > 1', {"items": ["x"], "person": {"age": 2}}, True),
        ("value is None", {"value": None}, True),
        ("flag == True", {"flag": True}, True),
        ('instant_result == ["pass"]', {"instant_result": ["pass"]}, True),
    ],
)
def test_allowed_expressions_evaluate(expr, names, expected):
    assert evaluate(expr, names) == expected


@pytest.mark.parametrize(
    ("expr", "construct"),
    [
        ('__import__("os").system("echo pwned")', "function call"),
        ('open("/etc/passwd")', "function call"),
        ("().__class__", "attribute access"),
        ("decision.upper", "attribute access"),
        ("(lambda: 1)", "lambda"),
        ("[x for x in items]", "comprehension"),
        ("__builtins__", "names starting with _"),
        ("_private == 1", "names starting with _"),
        ("2 ** 1000000", "power operator"),
        ("(y := 1)", "assignment"),
        ("{1: 2}", "dictionary"),
        ('f"{x}"', "f-string"),
        ("items[a]", "subscript whose index is not a constant"),
        ("items[1:2]", "subscript whose index is not a constant"),
        ("[a, b]", "list or tuple"),
        ("1 if a else 2", "conditional expression"),
    ],
)
def test_unsafe_expressions_are_refused_with_the_construct_named(expr, construct):
    with pytest.raises(UnsafeExpression) as info:
        check(expr)
    assert construct in str(info.value)
    with pytest.raises(UnsafeExpression):
        evaluate(expr, {"items": [1], "a": 0, "x": 1})


def test_syntax_errors_and_statements_are_refused():
    for expr in ("decision ==", "import os", "x = 1", ""):
        with pytest.raises(UnsafeExpression):
            check(expr)


def test_too_long_expression_is_refused():
    with pytest.raises(UnsafeExpression, match="too long"):
        check("1 + " * 1000 + "1")


def test_builtins_are_empty_and_underscore_names_are_hidden():
    with pytest.raises(NameError):
        evaluate("len", {})
    # a data field called __builtins__ cannot bring builtins back
    with pytest.raises(NameError):
        evaluate("x", {"__builtins__": __builtins__})


def test_unknown_name_is_a_name_error():
    with pytest.raises(NameError):
        evaluate("age > 1", {})


def test_compile_is_cached():
    expressions._compile.cache_clear()
    evaluate("a == 1", {"a": 1})
    evaluate("a == 1", {"a": 2})
    assert expressions._compile.cache_info().hits >= 1


def test_environment_refuses_scripts(tmp_path):
    marker = tmp_path / "pwned"
    env = expressions.RestrictedEnvironment()
    with pytest.raises(UnsafeExpression):
        env.execute(f'open("{marker}", "w")', {})
    with pytest.raises(UnsafeExpression):
        env.evaluate(f'__import__("os").system("touch {marker}")', {})
    assert not marker.exists()
    assert env.evaluate("a + b", {"a": 1}, {"b": 2}) == 3


@pytest.mark.parametrize(
    "expr",
    ['"x" * 4000000000 == decision', "decision * 3", '"%0999999999d" % 1', "[0] * 1000000000", "big * 10"],
)
def test_repetition_and_formatting_are_refused_at_run_time(expr):
    # * and % repeat and format text and lists: only numbers may use them, so no model can make
    # the server build gigabytes when a citizen submits.
    with pytest.raises(UnsafeExpression):
        evaluate(expr, {"decision": "approve", "big": 10**20})


def test_arithmetic_on_numbers_still_works():
    assert evaluate("age * 12 >= 720 and age % 2 == 0 and 7 * 1.5 == 10.5", {"age": 60}) is True


@pytest.mark.parametrize("expr", ["-" * 1999 + "1", "1+" * 999 + "1", "(" * 500 + "1" + ")" * 500])
def test_deep_nesting_is_refused_not_crashing(expr):
    with pytest.raises(UnsafeExpression):
        check(expr)
