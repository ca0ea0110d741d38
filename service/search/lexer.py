"""Tokenizer shared by the filter and order_by parsers.

Names are lexed part by part: `tags.mlflow.runName` is WORD DOT WORD DOT WORD, and
tags.`a b` is WORD DOT BACKTICK. A dot glued to the end of a name part is a DOT; anywhere
else a dot can only start a number (`.5`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    WORD = "word"
    NUMBER = "number"
    SQ_STRING = "single-quoted string"
    DQ_STRING = "double-quoted string"
    BACKTICK = "backticked name"
    DOT = "."
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    OP = "operator"
    SEMICOLON = ";"
    EOF = "end of input"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # exactly as written
    value: str  # unquoted content for strings and backticks, else the text
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind is Kind.WORD and self.text.upper() in words


class LexError(Exception):
    def __init__(self, position: int):
        super().__init__(f"unexpected character at {position}")
        self.position = position


_NAME_PART_KINDS = (Kind.WORD, Kind.BACKTICK, Kind.DQ_STRING)
_WORD = re.compile(r"[^\W\d]\w*")
_NAME_PART = re.compile(r"\w+")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_OPERATOR = re.compile(r"==|!=|<>|<=|>=|=|<|>")
_PUNCTUATION = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA, ";": Kind.SEMICOLON}
_QUOTES = {"'": Kind.SQ_STRING, '"': Kind.DQ_STRING, "`": Kind.BACKTICK}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        after_name_part = bool(tokens) and tokens[-1].kind in _NAME_PART_KINDS and tokens[-1].end == pos
        after_dot = bool(tokens) and tokens[-1].kind is Kind.DOT and tokens[-1].end == pos
        if char == "." and after_name_part:
            token = Token(Kind.DOT, ".", ".", pos, pos + 1)
        elif char in _QUOTES:
            token = _quoted(text, pos, _QUOTES[char])
        elif char in _PUNCTUATION:
            token = Token(_PUNCTUATION[char], char, char, pos, pos + 1)
        elif after_dot and (m := _NAME_PART.match(text, pos)):
            token = Token(Kind.WORD, m.group(), m.group(), pos, m.end())
        elif m := _NUMBER.match(text, pos):
            token = Token(Kind.NUMBER, m.group(), m.group(), pos, m.end())
        elif m := _WORD.match(text, pos):
            token = Token(Kind.WORD, m.group(), m.group(), pos, m.end())
        elif m := _OPERATOR.match(text, pos):
            token = Token(Kind.OP, m.group(), m.group(), pos, m.end())
        else:
            raise LexError(pos)
        tokens.append(token)
        pos = token.end
    tokens.append(Token(Kind.EOF, "", "", len(text), len(text)))
    return tokens


def _quoted(text: str, start: int, kind: Kind) -> Token:
    """A quoted run; the quote is escaped by doubling it or by a backslash before it."""
    quote = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == quote and text[pos + 1 : pos + 2] == quote:
            chars.append(quote)
            pos += 2
        elif char == quote:
            return Token(kind, text[start : pos + 1], "".join(chars), start, pos + 1)
        elif char == "\\" and text[pos + 1 : pos + 2] == quote:
            chars.append(quote)
            pos += 2
        else:
            chars.append(char)
            pos += 1
    raise LexError(start)
