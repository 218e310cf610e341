"""The condition language of ``when`` (SPEC "Conditions and optional steps").

A small tokenizer and recursive-descent parser, never ``eval``: the runbook's author writes
``steps.restore_script.failed``, ``checks.health.ok == false`` or ``captured.error_rate > 0.05``
and the engine evaluates it over the session's results just before the step would run.

Grammar::

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)?
    operand := NAME | NUMBER | STRING | "true" | "false" | "(" expr ")"
    NAME    := ("steps" | "checks") "." ID "." PROPERTY | ("captured" | "params" | "vars") "." ID

Names are looked up through a callback, so this module knows nothing about sessions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

NAMESPACES = ("steps", "checks", "captured", "params", "vars")
PROPERTIES = {"steps": ("ok", "failed", "skipped"), "checks": ("ok", "failed")}
MAX_LENGTH = 2000
MAX_DEPTH = 50

Scalar = bool | float | str


class ConditionError(ValueError):
    """A condition that cannot be parsed or evaluated; ``pos`` is the offset in its text."""

    def __init__(self, message: str, pos: int = 0) -> None:
        super().__init__(message)
        self.pos = pos


@dataclass(frozen=True)
class Name:
    namespace: str
    ident: str
    prop: str  # "" for captured / params / vars
    pos: int

    @property
    def text(self) -> str:
        return ".".join(p for p in (self.namespace, self.ident, self.prop) if p)


@dataclass(frozen=True)
class Literal:
    value: Scalar
    pos: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Logic:
    op: str  # "and" | "or"
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node
    pos: int


Node = Name | Literal | Compare | Logic | Not


@dataclass(frozen=True)
class Condition:
    text: str
    tree: Node
    names: tuple[Name, ...] = field(default=())


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<paren>[()])
  | (?P<word>[A-Za-z0-9_][A-Za-z0-9_.\-]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            if char in "'\"":
                raise ConditionError(f"unterminated string (opened with {char})", pos)
            if char == "=":
                raise ConditionError("'=' is not an operator; compare with '=='", pos)
            raise ConditionError(f"unexpected character {char!r}", pos)
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, match.group(0), pos))
        pos = match.end()
    out.append(_Token("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.names: list[Name] = []

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text in words

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError("the condition is nested too deeply", self.tok.pos)
        parts = [self.conjunction()]
        while self.word("or"):
            self.take()
            parts.append(self.conjunction())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else Logic("or", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.word("and"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Logic("and", tuple(parts))

    def negation(self) -> Node:
        if self.word("not"):
            pos = self.take().pos
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ConditionError("the condition is nested too deeply", pos)
            node = Not(self.negation(), pos)
            self.depth -= 1
            return node
        left = self.operand()
        if self.tok.kind == "op":
            op = self.take()
            right = self.operand()
            if self.tok.kind == "op":
                raise ConditionError("comparisons do not chain; join them with 'and'", self.tok.pos)
            return Compare(op.text, left, right, op.pos)
        return left

    def operand(self) -> Node:
        token = self.tok
        if token.kind == "paren" and token.text == "(":
            self.take()
            node = self.expr()
            if not (self.tok.kind == "paren" and self.tok.text == ")"):
                raise ConditionError(f"expected ')' {self._found()}", self.tok.pos)
            self.take()
            return node
        if token.kind == "number":
            self.take()
            return Literal(float(token.text), token.pos)
        if token.kind == "string":
            self.take()
            return Literal(token.text[1:-1], token.pos)
        if token.kind == "word":
            if token.text in ("true", "false"):
                self.take()
                return Literal(token.text == "true", token.pos)
            if token.text in ("and", "or", "not"):
                raise ConditionError(f"expected a name or a value before '{token.text}'", token.pos)
            self.take()
            name = _name(token)
            self.names.append(name)
            return name
        raise ConditionError(f"expected a name or a value {self._found()}", token.pos)

    def _found(self) -> str:
        return "at the end" if self.tok.kind == "end" else f"but found {self.tok.text!r}"


def _name(token: _Token) -> Name:
    namespace, _, rest = token.text.partition(".")
    if namespace not in NAMESPACES:
        hint = " (write text in quotes: 'text')" if "." not in token.text else ""
        raise ConditionError(f"unknown name {token.text!r}: names start with {', '.join(NAMESPACES)}{hint}", token.pos)
    if not rest:
        raise ConditionError(f"{namespace!r} needs a name after it ({namespace}.NAME)", token.pos)
    if namespace in PROPERTIES:
        ident, _, prop = rest.rpartition(".")
        allowed = PROPERTIES[namespace]
        if not ident or prop not in allowed:
            raise ConditionError(
                f"{token.text!r}: write {namespace}.ID.{' / '.join(allowed)}",
                token.pos + len(token.text) - len(prop) if ident else token.pos,
            )
        return Name(namespace, ident, prop, token.pos)
    return Name(namespace, rest, "", token.pos)


def parse(text: str) -> Condition:
    """The parsed condition; :class:`ConditionError` (with the offset) when it is not one."""
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"a condition is at most {MAX_LENGTH} characters")
    if not text.strip():
        raise ConditionError("the condition is empty")
    parser = _Parser(text)
    tree = parser.expr()
    if parser.tok.kind != "end":
        raise ConditionError(f"unexpected {parser.tok.text!r} (join conditions with 'and' / 'or')", parser.tok.pos)
    return Condition(text, tree, tuple(parser.names))


# --- evaluation ---------------------------------------------------------------------------

Lookup = Callable[[Name], Scalar | None]  # None: the value is not known (yet)


def evaluate(condition: Condition, lookup: Lookup, mask: Callable[[Name], bool] = lambda _: False) -> tuple[bool, str]:
    """Whether ``condition`` holds, and the values it saw ("captured.rate = '0.07'; ...").
    A value that is not known, or a comparison that makes no sense (text < number), raises
    :class:`ConditionError`: the caller must not guess."""
    seen: dict[str, str] = {}

    def value(node: Node) -> Scalar:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Name):
            found = lookup(node)
            if found is None:
                raise ConditionError(f"{node.text} has no value yet", node.pos)
            seen[node.text] = "••••••" if mask(node) else _show(found)
            return found
        return truth(node)

    def truth(node: Node) -> bool:
        if isinstance(node, Logic):
            results = (truth(part) for part in node.parts)
            return all(results) if node.op == "and" else any(results)
        if isinstance(node, Not):
            return not truth(node.operand)
        if isinstance(node, Compare):
            return _compare(node, value(node.left), value(node.right))
        found = value(node)
        as_bool = _as_bool(found)
        if as_bool is None:
            where = node.text if isinstance(node, Name) else repr(found)
            raise ConditionError(f"{where} is {_show(found)}, not true or false (compare it: == ...)", _pos(node))
        return as_bool

    result = truth(condition.tree)
    return result, "; ".join(f"{name} = {shown}" for name, shown in seen.items())


def _pos(node: Node) -> int:
    return getattr(node, "pos", 0)


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _as_bool(value: Scalar) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _as_number(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    try:
        number = float(value.strip().removesuffix("%")) / (100 if value.strip().endswith("%") else 1)
    except ValueError:
        return None
    return number if number == number else None  # NaN compares with nothing


def _compare(node: Compare, left: Scalar, right: Scalar) -> bool:
    op = node.op
    if isinstance(left, bool) or isinstance(right, bool):
        a, b = _as_bool(left), _as_bool(right)
        if a is None or b is None or op not in ("==", "!="):
            raise ConditionError(f"cannot compare {_show(left)} {op} {_show(right)}", node.pos)
        return (a == b) == (op == "==")
    a_num, b_num = _as_number(left), _as_number(right)
    numbers = a_num is not None and b_num is not None
    if numbers and (op not in ("==", "!=") or isinstance(left, float) or isinstance(right, float)):
        return _ordered(op, a_num, b_num)  # type: ignore[arg-type]
    if op in ("==", "!="):
        return (str(left) == str(right)) == (op == "==")
    raise ConditionError(f"cannot order {_show(left)} {op} {_show(right)}: both must be numbers", node.pos)


def _ordered(op: str, a: float, b: float) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
