"""The FEEL subset yiwang reads in DMN tables and conditions, translated to the restricted evaluator.

Modelers (dmn-js, Camunda Modeler) write DMN cells in FEEL, while SpiffWorkflow evaluates them
as Python: a FEEL list ``"Fall","Winter"`` became a Python tuple that never equals the input,
and ``true`` a name that does not exist. What the platform supports is translated here, before
the engine sees it, into the Python the restricted evaluator (``expressions.py``) runs; anything
else is left as written and the upload check refuses it with a message (see docs/processes.md).

Input entries (unary tests), where ``?`` stands for the input's value:

====================  ==============================
FEEL                  Python
====================  ==============================
``-`` or empty        any value (no test)
``"Fall"``, ``10``    ``? == "Fall"``, ``? == 10``
``true``, ``false``   ``? == True``, ``? == False``
``null``              ``? == None``
``< 10``, ``>= 60``   ``? < 10``, ``? >= 60``
``[1..10]``           ``1 <= ? <= 10`` (``(``/``]`` open the end: ``1 < ?``)
``"Fall","Winter"``   ``? in ("Fall", "Winter")`` (any of the tests)
``not("a", "b")``     ``not (? in ("a", "b"))``
a field name          ``? == field``
====================  ==============================

Expressions (input expressions, output entries, gateway conditions): ``true``/``false``/``null``
become ``True``/``False``/``None``; in conditions also FEEL's ``=`` becomes ``==``, a leading
``=`` (Camunda 8) is dropped, and Camunda 7's ``${ ... }`` is unwrapped with ``&&``, ``||`` and
``!`` written as ``and``, ``or`` and ``not``. Text inside quotes is never changed.
"""

import re

# A token of a unary test: a string, a number, a name, or punctuation.
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<range>\.\.)
      | (?P<op><=|>=|<|>)
      | (?P<name>[A-Za-z][A-Za-z0-9_]*)
      | (?P<punct>[\[\]\(\),])
    )""",
    re.VERBOSE,
)
_LITERALS = {"true": "True", "false": "False", "null": "None"}


class NotFeel(ValueError):  # noqa: N818 - a parse outcome, not an error shown to anyone
    """The text is not in the supported FEEL subset (it may still be Python)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise NotFeel(text)
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _literal(kind: str, value: str) -> str:
    """A FEEL endpoint or literal as Python source."""
    if kind == "string":
        body = value[1:-1]
        # FEEL escapes \" and \\ like Python; anything else (\n, \u...) is kept as written.
        decoded = re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in '"\\' else m.group(0), body)
        return repr(decoded)
    if kind == "number":
        return value
    if kind == "name":
        return _LITERALS.get(value, value)
    raise NotFeel(value)


def _split(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Split at top-level commas (not inside brackets of a range or not(...))."""
    parts: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for token in tokens:
        if token == ("punct", ","):
            if depth == 0:
                parts.append([])
                continue
        elif token[0] == "punct" and token[1] in "[(":
            depth += 1
        elif token[0] == "punct" and token[1] in "])":
            depth = max(depth - 1, 0)
        parts[-1].append(token)
    if any(not part for part in parts):
        raise NotFeel("empty test")
    return parts


def _single(tokens: list[tuple[str, str]]) -> tuple[str, str | None]:
    """One test → (Python with ``?``, the literal when it is a plain equality)."""
    if len(tokens) == 1:
        kind, value = tokens[0]
        literal = _literal(kind, value)
        return f"? == {literal}", (literal if kind != "name" or value in _LITERALS else None)
    if len(tokens) == 2 and tokens[0][0] == "op":
        return f"? {tokens[0][1]} {_literal(*tokens[1])}", None
    if len(tokens) == 5 and tokens[0][0] == "punct" and tokens[2][0] == "range" and tokens[4][0] == "punct":
        opening, closing = tokens[0][1], tokens[4][1]
        if opening not in "[(]" or closing not in "])[":
            raise NotFeel("range")
        low = "<=" if opening == "[" else "<"
        high = "<=" if closing == "]" else "<"
        return f"{_literal(*tokens[1])} {low} ? {high} {_literal(*tokens[3])}", None
    raise NotFeel("test")


def _tests(tokens: list[tuple[str, str]]) -> str:
    parts = [_single(part) for part in _split(tokens)]
    if len(parts) == 1:
        return parts[0][0]
    literals = [literal for _, literal in parts]
    if all(literal is not None for literal in literals):
        return f"? in ({', '.join(literals)})"  # type: ignore[arg-type]
    return " or ".join(f"({python})" for python, _ in parts)


def unary_tests(cell: str | None) -> str | None:
    """A DMN input entry in the FEEL subset as Python with ``?`` for the input; None for "any
    value" (``-`` or empty). Raises NotFeel when the cell is not in the subset."""
    text = (cell or "").strip()
    if text in ("", "-"):
        return None
    tokens = _tokens(text)
    if tokens[0] == ("name", "not") and len(tokens) > 3 and tokens[1] == ("punct", "("):
        if tokens[-1] != ("punct", ")"):
            raise NotFeel(text)
        return f"not ({_tests(tokens[2:-1])})"
    return _tests(tokens)


_QUOTED = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def _outside_strings(text: str, change) -> str:
    pieces = _QUOTED.split(text)
    return "".join(piece if index % 2 else change(piece) for index, piece in enumerate(pieces))


def _literal_names(piece: str) -> str:
    return re.sub(r"\b(true|false|null)\b", lambda m: _LITERALS[m.group(1)], piece)


def expression(text: str | None) -> str | None:
    """An input expression or output entry: FEEL's literal names as Python's."""
    if text is None:
        return None
    return _outside_strings(text, _literal_names)


def _condition_operators(piece: str) -> str:
    piece = piece.replace("&&", " and ").replace("||", " or ")
    piece = re.sub(r"!(?!=)", " not ", piece)
    piece = re.sub(r"(?<![=!<>])=(?!=)", "==", piece)
    return _literal_names(piece)


def condition(text: str | None) -> str | None:
    """A gateway condition as modelers write it (FEEL, Camunda 7 ``${...}``, Camunda 8 ``=...``)
    in the Python the restricted evaluator runs."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("${") and stripped.endswith("}"):
        stripped = stripped[2:-1]
    elif stripped.startswith("=") and not stripped.startswith("=="):
        stripped = stripped[1:]
    return _outside_strings(stripped, _condition_operators).strip()
