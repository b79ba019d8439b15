"""The FEEL subset of decision-table cells and conditions, translated to the restricted evaluator."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.applications import engine, expressions, feel


def matches(cell: str, value) -> bool:
    python = feel.unary_tests(cell)
    if python is None:
        return True
    # as the DMN engine will run it: ``?`` (outside quotes) bound to the input's value
    expr = engine.dmn_cell_expression("value", python)
    return bool(expressions.evaluate(expr, {"dmninputexpr": value, "value": value}))


@pytest.mark.parametrize(
    ("cell", "yes", "no"),
    [
        ('"Fall","Winter"', ["Fall", "Winter"], ["Spring", "fall"]),
        ('"Fall"', ["Fall"], ["Winter"]),
        ("true", [True], [False, None]),
        ("false", [False], [True]),
        ("null", [None], [0, ""]),
        ("< 10", [9, -1], [10, 11]),
        (">= 60", [60, 99], [59]),
        ("[1..10]", [1, 5, 10], [0, 11]),
        ("]1..10[", [2, 9], [1, 10]),
        ("(1..10]", [10], [1]),
        ("10, < 5", [10, 4], [5, 9]),
        ('not("a","b")', ["c"], ["a", "b"]),
        ("not(< 5)", [5], [4]),
        ("-", [1, "x", None], []),
        ("", [1], []),
        ('"say \\"hi\\""', ['say "hi"'], ["say hi"]),
        ('"why?"', ["why?"], ["why"]),
    ],
)
def test_feel_cells_mean_what_feel_says(cell, yes, no):
    for value in yes:
        assert matches(cell, value), (cell, value)
    for value in no:
        assert not matches(cell, value), (cell, value)


@pytest.mark.parametrize(
    "cell", ['date("2026-01-01")', "[60..]", "? != True", "a b", "'single'", "1 +", "not("]
)
def test_what_is_not_in_the_subset_is_left_alone(cell):
    with pytest.raises(feel.NotFeel):
        feel.unary_tests(cell)


@given(
    low=st.integers(-1000, 1000),
    high=st.integers(-1000, 1000),
    value=st.integers(-1100, 1100),
    closed_low=st.booleans(),
    closed_high=st.booleans(),
)
def test_ranges_include_exactly_their_closed_ends(low, high, value, closed_low, closed_high):
    cell = f"{'[' if closed_low else '('}{low}..{high}{']' if closed_high else ')'}"
    expected = (low <= value if closed_low else low < value) and (
        value <= high if closed_high else value < high
    )
    assert matches(cell, value) == expected


@pytest.mark.parametrize(
    ("text", "python"),
    [
        ('${decision == "accept"}', 'decision == "accept"'),
        ("${a > 1 && !b || c}", "a > 1  and   not b  or  c"),
        ('=decision = "accept"', 'decision == "accept"'),
        ("x != 1 and y >= 2", "x != 1 and y >= 2"),
        ('decision == "a=b && !c"', 'decision == "a=b && !c"'),
        ("approved = true", "approved == True"),
    ],
)
def test_conditions_from_camunda_and_feel_become_the_platforms(text, python):
    assert feel.condition(text) == python
    expressions.check(feel.condition(text))


def test_output_and_input_expressions_read_feel_literals():
    assert feel.expression("true") == "True" and feel.expression('"null"') == '"null"'
    assert feel.expression("null") == "None"
