"""CloudWatch Logs JSON filter patterns, parsed into a normal form and compared by meaning.

A pattern such as `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }` becomes a
disjunction of conjunctions of terms (field, operator, value): spacing, term order, parentheses and quoting do not
survive parsing, so two patterns that say the same thing have the same normal form.

`covers(account, required)` answers the question the CIS monitoring recommendations ask: does every log event the
benchmark's pattern matches also match the account's pattern? Extra OR branches in the account's pattern keep it
at least as broad; an extra AND term that the benchmark's pattern does not imply narrows it. The comparison is
sound (a True answer is always right) and complete for the patterns the benchmark uses: each conjunction of the
required pattern must fit inside one conjunction of the account's.

Grammar (the JSON subset of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):

    pattern    := "{" or "}"
    or         := and ("||" and)*
    and        := primary ("&&" primary)*
    primary    := "(" or ")" | comparison
    comparison := selector ("=" | "!=" | "<" | "<=" | ">" | ">=") value
                | selector "EXISTS" | selector "NOT" "EXISTS" | selector "IS" ("NULL" | "TRUE" | "FALSE")

`&&` binds tighter than `||`. Values are double-quoted strings (with backslash escapes) or bare words; `*` in a
value is a wildcard.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import product
from typing import Iterable


class FilterPatternError(ValueError):
    """The text is not a JSON filter pattern this parser understands."""


class Op(str, Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EXISTS = "EXISTS"
    NOT_EXISTS = "NOT EXISTS"
    IS_NULL = "IS NULL"
    IS_TRUE = "IS TRUE"
    IS_FALSE = "IS FALSE"


# Operators that only match an event in which the field is present.
_PRESENCE_IMPLYING = frozenset({Op.EQ, Op.LT, Op.LE, Op.GT, Op.GE, Op.EXISTS, Op.IS_TRUE, Op.IS_FALSE})


@dataclass(frozen=True, order=True)
class Term:
    """One comparison: `$.eventName = "CreateTrail"` is Term("$.eventName", Op.EQ, "CreateTrail")."""

    field: str
    op: Op
    value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.field} {self.op.value}"
        return f'{self.field} {self.op.value} "{self.value}"'


Conjunction = frozenset[Term]


@dataclass(frozen=True)
class FilterPattern:
    """A pattern in disjunctive normal form: it matches an event when every term of some conjunction does."""

    conjunctions: frozenset[Conjunction]

    def __str__(self) -> str:
        branches = sorted(" && ".join(f"({t})" for t in sorted(c)) for c in self.conjunctions)
        return "{ " + " || ".join(f"({b})" if len(branches) > 1 else b for b in branches) + " }"


# -- tokens -----------------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<punct>\|\||&&|!=|<=|>=|=|<|>|\(|\)|\{|\})
    | (?P<word>[^\s()"{}=!<>|&]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # "string", "punct" or "word"
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterPatternError(f"unexpected character {text[position:].strip()[:1]!r} at {position}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(token: _Token) -> str:
    if token.kind != "string":
        return token.text
    return re.sub(r"\\(.)", r"\1", token.text[1:-1])


# -- parser ---------------------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._at = 0

    def _peek(self) -> _Token | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise FilterPatternError("the pattern ends too early")
        self._at += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._next()
        if token.kind == "string" or token.text != text:
            raise FilterPatternError(f"expected {text!r}, found {token.text!r}")

    def _is(self, text: str, kind: str = "punct") -> bool:
        token = self._peek()
        return token is not None and token.kind == kind and token.text == text

    def pattern(self) -> frozenset[Conjunction]:
        self._expect("{")
        result = self._or()
        self._expect("}")
        extra = self._peek()
        if extra is not None:
            raise FilterPatternError(f"unexpected {extra.text!r} after the closing brace")
        return result

    def _or(self) -> frozenset[Conjunction]:
        result = self._and()
        while self._is("||"):
            self._next()
            result = result | self._and()
        return result

    def _and(self) -> frozenset[Conjunction]:
        result = self._primary()
        while self._is("&&"):
            self._next()
            right = self._primary()
            result = frozenset(left | other for left, other in product(result, right))
        return result

    def _primary(self) -> frozenset[Conjunction]:
        if self._is("("):
            self._next()
            inner = self._or()
            self._expect(")")
            return inner
        return frozenset({frozenset({self._comparison()})})

    def _comparison(self) -> Term:
        selector = self._next()
        if selector.kind != "word" or not selector.text.startswith("$"):
            raise FilterPatternError(f"expected a selector such as $.eventName, found {selector.text!r}")
        field = selector.text
        token = self._next()
        if token.kind == "punct" and token.text in {op.value for op in Op}:
            value = self._next()
            if value.kind == "punct":
                raise FilterPatternError(f"expected a value after {field} {token.text}, found {value.text!r}")
            return Term(field, Op(token.text), _unquote(value))
        keyword = token.text.upper() if token.kind == "word" else ""
        if keyword == "EXISTS":
            return Term(field, Op.EXISTS)
        if keyword == "NOT":
            if self._next().text.upper() != "EXISTS":
                raise FilterPatternError(f"expected EXISTS after {field} NOT")
            return Term(field, Op.NOT_EXISTS)
        if keyword == "IS":
            state = self._next().text.upper()
            if state not in ("NULL", "TRUE", "FALSE"):
                raise FilterPatternError(f"expected NULL, TRUE or FALSE after {field} IS")
            return Term(field, Op(f"IS {state}"))
        raise FilterPatternError(f"expected an operator after {field}, found {token.text!r}")


def parse(text: str) -> FilterPattern:
    """The normal form of a JSON filter pattern; `FilterPatternError` for anything else."""
    return FilterPattern(_Parser(_tokens(text)).pattern())


# -- meaning ----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _within(narrow: str, broad: str) -> bool:
    """Every string the value `narrow` matches is matched by `broad` (both may hold `*` wildcards).

    `broad`'s literal characters never match a `*` of `narrow`, only its own wildcards can, so matching `broad`
    against the text of `narrow` proves inclusion for every expansion of `narrow`'s wildcards.
    """
    return _glob(broad).fullmatch(narrow) is not None


def _disjoint(a: str, b: str) -> bool:
    """No string matches both values (decided when at least one of them has no wildcard)."""
    if "*" not in a:
        return _glob(b).fullmatch(a) is None
    if "*" not in b:
        return _glob(a).fullmatch(b) is None
    return False


def implies(given: Term, wanted: Term) -> bool:
    """Every event that satisfies `given` satisfies `wanted`."""
    if given == wanted:
        return True
    if given.field != wanted.field:
        return False
    if wanted.op is Op.EQ:
        return given.op is Op.EQ and _within(str(given.value), str(wanted.value))
    if wanted.op is Op.NE:
        if given.op is Op.EQ:
            return _disjoint(str(given.value), str(wanted.value))
        return given.op is Op.NE and _within(str(wanted.value), str(given.value))
    if wanted.op is Op.EXISTS:
        return given.op in _PRESENCE_IMPLYING
    return False


def _conjunction_implies(given: Iterable[Term], wanted: Conjunction) -> bool:
    terms = tuple(given)
    return all(any(implies(term, need) for term in terms) for need in wanted)


def covers(account: FilterPattern, required: FilterPattern) -> bool:
    """The account's pattern matches every event the required pattern matches (it is at least as broad)."""
    return all(
        any(_conjunction_implies(branch, candidate) for candidate in account.conjunctions)
        for branch in required.conjunctions
    )
