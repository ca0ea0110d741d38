"""Recursive-descent parser for MLflow search filters.

    filter     := clause ( AND clause )* EOF
    clause     := name comparison
    name       := part ( "." part )*          part: word | `backticked` | "double-quoted"
    comparison := OP value | [NOT] (LIKE | ILIKE) value | [NOT] IN list | IS [NOT] NULL
    value      := number | 'string' | "string" | word | list
    list       := "(" [ literal ( "," literal )* [","] ] ")"

AND is case-insensitive. There is no OR and no parenthesised grouping (MLflow has neither).
Syntax errors use MLflow's "Invalid clause(s) in filter string: ..." quoting the bad clause.
"""
from __future__ import annotations

from typing import Protocol

from mltracker.service.errors import invalid
from mltracker.service.search.limits import check_filter_size
from mltracker.service.search.lexer import Kind, LexError, Token, tokenize
from mltracker.service.search.syntax import (
    LIST_COMPARATORS,
    NULL_COMPARATORS,
    Comparator,
    Comparison,
    ListLiteral,
    Literal,
    OrderKey,
    RawComparison,
    RawName,
)

_COMPARATORS_BY_TEXT = {c.value: c for c in Comparator}
_ILL_FORMED_LIST = (
    "While parsing a list in the query, expected a non-empty list of string values, "
    "but got ill-formed list."
)


class Vocabulary(Protocol):
    """What a search may name (runs or experiments): validates and canonicalises."""

    def resolve(self, raw: RawComparison) -> Comparison: ...

    def resolve_order(self, name: RawName, ascending: bool) -> OrderKey: ...


class SyntaxFault(Exception):
    """A clause that does not fit the grammar; carries the token where the clause started."""

    def __init__(self, token: Token, message: str | None = None):
        super().__init__(message or token.text)
        self.token = token
        self.message = message


def parse_filter(text: str | None, vocabulary: Vocabulary) -> tuple[Comparison, ...]:
    return tuple(vocabulary.resolve(raw) for raw in parse_raw_filter(text))


def parse_raw_filter(text: str | None) -> tuple[RawComparison, ...]:
    if not text:
        return ()
    if not text.strip():
        raise invalid(f"Invalid filter '{text}'. Could not be parsed.")
    try:
        tokens = tokenize(text)
    except LexError as e:
        raise invalid(f"Invalid clause(s) in filter string: '{text[e.position:].strip()}'") from None
    _reject_statement_separators(text, tokens)
    try:
        comparisons = _FilterParser(tokens, text).parse()
    except SyntaxFault as fault:
        if fault.message:
            raise invalid(fault.message) from None
        raise invalid(
            f"Invalid clause(s) in filter string: '{_clause_text(text, tokens, fault.token)}'"
        ) from None
    check_filter_size(comparisons)
    return comparisons


def _reject_statement_separators(text: str, tokens: list[Token]) -> None:
    for i, token in enumerate(tokens):
        if token.kind is Kind.SEMICOLON:
            if tokens[i + 1].kind is not Kind.EOF:
                raise invalid(
                    f"Search filter contained multiple expression {text!r}. "
                    "Provide AND-ed expression list."
                )
            raise invalid("Invalid clause(s) in filter string: ';'")


def _clause_text(text: str, tokens: list[Token], start: Token) -> str:
    """Source text from `start` up to the next top-level AND (or the end)."""
    index = tokens.index(start)
    if start.is_word("OR"):
        return start.text
    if start.kind is Kind.EOF and index > 0:  # e.g. a dangling "AND" at the end
        return tokens[index - 1].text
    depth = 0
    end = start.start
    for token in tokens[index:]:
        if token.kind is Kind.EOF or (depth == 0 and token.is_word("AND") and token is not start):
            break
        depth += {Kind.LPAREN: 1, Kind.RPAREN: -1}.get(token.kind, 0)
        end = token.end
    return text[start.start : end].strip() or start.text


class TokenCursor:
    """Token stream with the look-ahead helpers both parsers use."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.EOF:
            self.index += 1
        return token

    def accept_word(self, *words: str) -> Token | None:
        if self.peek.is_word(*words):
            return self.advance()
        return None

    def name(self, source: str) -> RawName:
        first = self.peek
        parts = [self._name_part()]
        while self.peek.kind is Kind.DOT:
            self.advance()
            parts.append(self._name_part())
        return RawName(tuple(parts), source[first.start : self.tokens[self.index - 1].end])

    def _name_part(self) -> str:
        token = self.peek
        if token.kind not in (Kind.WORD, Kind.BACKTICK, Kind.DQ_STRING):
            raise SyntaxFault(token)
        self.advance()
        return token.value


class _FilterParser(TokenCursor):
    def __init__(self, tokens: list[Token], source: str):
        super().__init__(tokens)
        self.source = source

    def parse(self) -> tuple[RawComparison, ...]:
        clauses = [self._clause()]
        while self.accept_word("AND"):
            if self.peek.kind is Kind.EOF:
                break  # MLflow ignores one dangling AND at the end
            clauses.append(self._clause())
        if self.peek.kind is not Kind.EOF:
            raise SyntaxFault(self.peek)
        return tuple(clauses)

    def _clause(self) -> RawComparison:
        start = self.peek
        try:
            name = self.name(self.source)
            comparator = self._comparator()
            if comparator in NULL_COMPARATORS:
                return RawComparison(name, comparator, None)
            if comparator in LIST_COMPARATORS:
                return RawComparison(name, comparator, self._list())
            return RawComparison(name, comparator, self._value())
        except SyntaxFault as fault:
            if fault.message:
                raise
            raise SyntaxFault(start) from None

    def _comparator(self) -> Comparator | str:
        token = self.peek
        if token.kind is Kind.OP:
            self.advance()
            # `==` and `<>` lex as operators but are not MLflow's: kept as written for the
            # vocabulary's "Invalid comparator" message.
            return _COMPARATORS_BY_TEXT.get(token.text, token.text)
        if self.accept_word("LIKE", "ILIKE", "IN"):
            return Comparator(token.text.upper())
        if self.accept_word("NOT"):
            if negated := self.accept_word("LIKE", "ILIKE", "IN"):
                text = "NOT " + negated.text.upper()  # NOT LIKE / NOT ILIKE are not MLflow's either
                return _COMPARATORS_BY_TEXT.get(text, text)
        elif self.accept_word("IS"):
            negated = self.accept_word("NOT")
            if self.accept_word("NULL"):
                return Comparator.IS_NOT_NULL if negated else Comparator.IS_NULL
        raise SyntaxFault(token)

    def _value(self) -> Literal | ListLiteral:
        if self.peek.kind is Kind.LPAREN:
            return self._list()
        return self._literal()

    def _literal(self) -> Literal:
        token = self.advance()
        if token.kind is Kind.NUMBER:
            return Literal("number", _number(token.text), token.text)
        if token.kind in (Kind.SQ_STRING, Kind.DQ_STRING):
            return Literal("string", token.value, token.text)
        if token.kind is Kind.WORD:
            return Literal("word", token.text, token.text)
        raise SyntaxFault(token)

    def _list(self) -> ListLiteral:
        open_paren = self.peek
        if open_paren.kind is not Kind.LPAREN:
            raise SyntaxFault(open_paren)
        self.advance()
        items: list[Literal] = []
        while self.peek.kind is not Kind.RPAREN:
            if self.peek.kind not in (Kind.NUMBER, Kind.SQ_STRING, Kind.DQ_STRING):
                raise SyntaxFault(self.peek, _ILL_FORMED_LIST)
            items.append(self._literal())
            if self.peek.kind is Kind.COMMA:
                self.advance()
            elif self.peek.kind is not Kind.RPAREN:
                raise SyntaxFault(self.peek, _ILL_FORMED_LIST)
        close_paren = self.advance()
        return ListLiteral(tuple(items), self.source[open_paren.start : close_paren.end])


def _number(text: str) -> int | float:
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)

