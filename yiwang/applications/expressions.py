"""A restricted evaluator for the expressions in process models (gateway conditions, DMN cells).

Uploaded BPMN/DMN is code: SpiffWorkflow's default engine hands every expression to ``eval``
with full builtins. Here an expression is parsed, every syntax node is checked against a small
whitelist (names, constants, comparisons, boolean logic, arithmetic, ``in``, constant
subscripts), compiled once and evaluated with empty builtins. Scripts are never run.

Values are bounded too: ``+`` on text or lists refuses to build anything longer than the run
budget's ``WORKFLOW_MAX_VALUE_LENGTH`` (a DMN output fed back through a loop would otherwise
double each pass), and no expression may produce a number that is not finite or absurdly large.
"""

import ast
import functools
import math
from types import CodeType
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_LENGTH = 2000
DEFAULT_MAX_VALUE_LENGTH = 100_000
MAX_INT = 10**100  # far beyond any amount or count a case needs; keeps ints cheap to store

_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_UNARY = (ast.Not, ast.USub, ast.UAdd)


class UnsafeExpression(ValueError):  # noqa: N818 - name fixed by the interface
    """An expression uses syntax the restricted evaluator does not allow; str(e) is translated."""


class ValueTooLarge(ValueError):  # noqa: N818 - named for what happened
    """An expression would build a value over the run budget; str(e) is translated."""


def max_value_length() -> int:
    """The run budget's longest text or list (``WORKFLOW_MAX_VALUE_LENGTH``)."""
    return int(getattr(settings, "WORKFLOW_MAX_VALUE_LENGTH", DEFAULT_MAX_VALUE_LENGTH))


def _describe(node: ast.AST) -> str:
    """A translated name for the construct the user wrote, so the message says what to remove."""
    names = {
        ast.Call: _("function call"),
        ast.Attribute: _("attribute access"),
        ast.Lambda: _("lambda"),
        ast.ListComp: _("comprehension"),
        ast.SetComp: _("comprehension"),
        ast.DictComp: _("comprehension"),
        ast.GeneratorExp: _("comprehension"),
        ast.Pow: _("power operator **"),
        ast.NamedExpr: _("assignment :="),
        ast.IfExp: _("conditional expression"),
        ast.Dict: _("dictionary"),
        ast.Set: _("set"),
        ast.JoinedStr: _("f-string"),
        ast.Starred: _("unpacking *"),
        ast.Slice: _("slice"),
        ast.Await: _("await"),
        ast.Yield: _("yield"),
        ast.YieldFrom: _("yield"),
    }
    return str(names.get(type(node), type(node).__name__))


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_constant(node.operand)


def _check_node(node: ast.AST, expr: str) -> None:
    def refuse(what: str) -> UnsafeExpression:
        return UnsafeExpression(
            _("Expression %(expr)s is not allowed: %(construct)s cannot be used in process models.")
            % {"expr": repr(expr), "construct": what}
        )

    if isinstance(node, ast.Expression):
        _check_node(node.body, expr)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise refuse(_describe(node))
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise refuse(_("a number too large to store (like 1e999)"))
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise refuse(_("the name %(name)s (names starting with _)") % {"name": node.id})
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, _COMPARISONS):
                raise refuse(_describe(op))
        for child in (node.left, *node.comparators):
            _check_node(child, expr)
    elif isinstance(node, ast.BoolOp):
        for child in node.values:
            _check_node(child, expr)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, _UNARY):
            raise refuse(_describe(node.op))
        _check_node(node.operand, expr)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _ARITHMETIC):
            raise refuse(_describe(node.op))
        _check_node(node.left, expr)
        _check_node(node.right, expr)
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            if not _is_constant(element):
                raise refuse(_("a list or tuple of anything but constants"))
    elif isinstance(node, ast.Subscript):
        if not _is_constant(node.slice):
            raise refuse(_("a subscript whose index is not a constant"))
        _check_node(node.value, expr)
    else:
        raise refuse(_describe(node))


@functools.lru_cache(maxsize=4096)
def _compile(expr: str) -> CodeType:
    """Parse, check and compile once; the cache makes repeated evaluation cheap."""
    if len(expr) > MAX_LENGTH:
        raise UnsafeExpression(
            _("Expression is too long (%(length)d characters, at most %(max)d).")
            % {"length": len(expr), "max": MAX_LENGTH}
        )
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeExpression(
            _("Expression %(expr)s is not a valid expression: %(error)s")
            % {"expr": repr(expr), "error": getattr(exc, "msg", str(exc))}
        ) from None
    try:
        _check_node(tree, expr)
        tree = ast.fix_missing_locations(_GuardArithmetic().visit(tree))
        return compile(tree, "<expression>", "eval")
    except RecursionError:
        raise UnsafeExpression(
            _("Expression %(expr)s is not a valid expression: %(error)s")
            % {"expr": repr(expr[:100]), "error": _("it is nested too deeply")}
        ) from None


_MAX_FACTOR = 10**15


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(v, int | float) and abs(v) < _MAX_FACTOR for v in (a, b))


def _guarded_add(a: Any, b: Any) -> Any:
    """``a + b`` with the length of joined text or lists checked *before* they are built, and
    the sum of numbers checked to be finite (1e308 + 1e308 is inf, which no database stores)."""
    if isinstance(a, str | list | tuple) and isinstance(b, str | list | tuple):
        limit = max_value_length()
        if len(a) + len(b) > limit:
            raise ValueTooLarge(
                _("A value would grow to %(length)d characters or items; a run allows at most %(max)d.")
                % {"length": len(a) + len(b), "max": limit}
            )
    return _checked_number(a + b)


def _checked_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise UnsafeExpression(_("A calculation gave a number too large to store (infinity)."))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise ValueTooLarge(_("A calculation gave a number with more than 100 digits."))
    return value


def _check_result(value: Any) -> Any:
    """Whatever an expression returns stays within the run budget (defence in depth: only ``+``
    can grow a value, and it is checked before it builds one)."""
    if isinstance(value, str | list | tuple | dict) and len(value) > max_value_length():
        raise ValueTooLarge(
            _("A value would grow to %(length)d characters or items; a run allows at most %(max)d.")
            % {"length": len(value), "max": max_value_length()}
        )
    return _checked_number(value)


def _guarded_mul(a: Any, b: Any) -> Any:
    """``a * b`` for numbers only: on text or lists ``*`` repeats, and a model could ask for
    gigabytes ("x" * 4000000000) when a citizen submits."""
    if not _numbers(a, b):
        raise UnsafeExpression(_("Only numbers can be multiplied in process models."))
    return _checked_number(a * b)


def _guarded_mod(a: Any, b: Any) -> Any:
    """``a % b`` for numbers only (on text ``%`` formats, e.g. "%0999999999d" % 1)."""
    if not _numbers(a, b):
        raise UnsafeExpression(_("The remainder operator (%%) works on numbers only in process models.") % {})
    return a % b


_GUARDS = {"__yw_add": _guarded_add, "__yw_mul": _guarded_mul, "__yw_mod": _guarded_mod}


class _GuardArithmetic(ast.NodeTransformer):
    """Route ``+``, ``*`` and ``%`` through the guards above. Runs after the whitelist check,
    so the calls it adds are ours (names starting with _ are refused in user input)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802 — NodeTransformer's naming
        self.generic_visit(node)
        guard = {ast.Add: "__yw_add", ast.Mult: "__yw_mul", ast.Mod: "__yw_mod"}.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(
            ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[node.left, node.right], keywords=[]), node
        )


def check(expr: str) -> None:
    """Raise UnsafeExpression (translated, naming the construct) unless expr is allowed."""
    if not isinstance(expr, str):
        raise UnsafeExpression(_("Expression must be text."))
    _compile(expr)


def constant_problem(expr: str) -> str | None:
    """For an allowed expression that names no data (``1e308 + 1e308``, ``1 / 0``): why it
    fails when evaluated (translated), or None. Such an expression fails the same way on every
    case, so the upload check evaluates it instead of leaving the failure to the first citizen."""
    tree = ast.parse(expr.strip(), mode="eval")
    if any(isinstance(node, ast.Name) for node in ast.walk(tree)):
        return None
    try:
        evaluate(expr, {})
    except (UnsafeExpression, ValueTooLarge) as exc:
        return str(exc)
    except (ArithmeticError, TypeError) as exc:  # 1 / 0, "a" + 1
        return _("it fails on every case (%(error)s)") % {"error": exc}
    return None


def evaluate(expr: str, names: dict[str, Any]) -> Any:
    """Evaluate an allowed expression with only `names` visible and no builtins."""
    check(expr)
    code = _compile(expr)
    scope = {key: value for key, value in names.items() if not key.startswith("_")}
    scope.update(_GUARDS)
    scope["__builtins__"] = {}
    return _check_result(eval(code, scope))  # noqa: S307 - the code object passed the whitelist above


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff's expression environment, replaced by the whitelisted evaluator; scripts refused."""

    def evaluate(self, expression, context, external_context=None):
        names = dict(context or {})
        names.update(external_context or {})
        return evaluate(expression, names)

    def execute(self, script, context, external_context=None):
        raise UnsafeExpression(_("Scripts are not allowed in process models."))

    def call_service(self, context, **kwargs):
        raise UnsafeExpression(_("Service calls are not allowed in process models."))


class RestrictedScriptEngine(PythonScriptEngine):
    """The script engine every yiwang workflow runs with (set again after each restore)."""

    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression):
        """Spiff's DMN engine parses a cell to decide how to compare it; a cell of 100,000 ``-``
        signs would exhaust the parser (MemoryError), so refuse what is too long or too deep
        first. A plain SyntaxError goes through: Spiff relies on it."""
        if not isinstance(expression, str) or len(expression) > MAX_LENGTH:
            raise UnsafeExpression(
                _("Expression is too long (%(length)d characters, at most %(max)d).")
                % {"length": len(expression or ""), "max": MAX_LENGTH}
            )
        try:
            ast.parse(expression)
        except (MemoryError, RecursionError, ValueError):
            raise UnsafeExpression(
                _("Expression %(expr)s is not a valid expression: %(error)s")
                % {"expr": repr(expression[:100]), "error": _("it is nested too deeply")}
            ) from None

    def execute(self, task, script, external_context=None):
        raise UnsafeExpression(_("Scripts are not allowed in process models."))

    def call_service(self, task, **kwargs):
        raise UnsafeExpression(_("Service calls are not allowed in process models."))


SCRIPT_ENGINE = RestrictedScriptEngine()
