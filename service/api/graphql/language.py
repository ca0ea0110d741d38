"""A small GraphQL reader: the executable subset of the GraphQL language (operations, variables,
fields with aliases, arguments and directives, fragments, every literal), with bounded nesting.

It reads what MLflow's web UI and MLflow's own tests send to /graphql, without graphene (which only
comes with the mlflow package)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 100_000
# Nesting of selection sets and of literal values the reader accepts at all; MLflow's own limit
# on selection depth (10) is checked afterwards, with its message.
MAX_NESTING = 40


class GraphQLSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Directive:
    name: str
    arguments: dict


@dataclass
class Field:
    name: str
    alias: str | None = None
    arguments: dict = field(default_factory=dict)
    directives: list[Directive] = field(default_factory=list)
    selections: list | None = None

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass
class FragmentSpread:
    name: str
    directives: list[Directive] = field(default_factory=list)


@dataclass
class InlineFragment:
    type_condition: str | None
    directives: list[Directive]
    selections: list


@dataclass
class VariableDefinition:
    name: str
    type: str  # as written: "MlflowGetRunInput!", "[String]"
    default: object = None
    has_default: bool = False


@dataclass
class Operation:
    kind: str  # "query" | "mutation" | "subscription"
    name: str | None
    variables: list[VariableDefinition]
    directives: list[Directive]
    selections: list


@dataclass
class Fragment:
    name: str
    type_condition: str
    directives: list[Directive]
    selections: list


@dataclass
class Document:
    operations: list[Operation]
    fragments: dict[str, Fragment]


_TOKEN = re.compile(r"""
    (?P<ignored>(?:[\s,\ufeff]+|\#[^\n\r]*)+)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\:=@\[\]{|}])
  | (?P<number>-?(?:0|[1-9][0-9]*)(?P<frac>\.[0-9]+)?(?P<exp>[eE][+-]?[0-9]+)?)(?![_A-Za-z0-9.])
  | (?P<block>\"\"\"(?:\\\"\"\"|(?!\"\"\").)*\"\"\")
  | (?P<string>"(?:[^"\\\n\r]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*")
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
""", re.VERBOSE | re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise GraphQLSyntaxError(f"Syntax Error: Unexpected character {text[pos]!r} at offset {pos}.")
        kind = match.lastgroup if match.lastgroup not in ("frac", "exp") else "number"
        if kind != "ignored":
            out.append((kind, match.group(), pos))
        pos = match.end()
    out.append(("eof", "", pos))
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    # ---- tokens
    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        tok_kind, tok_value, _ = self.tokens[self.i]
        return (kind is None or tok_kind == kind) and (value is None or tok_value == value)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        tok_kind, tok_value, pos = self.tokens[self.i]
        if not self.peek(value, kind):
            wanted = repr(value) if value else (kind or "token").capitalize()
            found = "<EOF>" if tok_kind == "eof" else repr(tok_value)
            raise GraphQLSyntaxError(f"Syntax Error: Expected {wanted}, found {found} at offset {pos}.")
        self.i += 1
        return tok_value

    def skip(self, value: str) -> bool:
        if self.peek(value) and self.tokens[self.i][0] in ("punct", "spread"):
            self.i += 1
            return True
        return False

    def nested(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise GraphQLSyntaxError(f"Syntax Error: nested more than {MAX_NESTING} levels deep.")

    # ---- document
    def document(self) -> Document:
        operations, fragments = [], {}
        while not self.peek(kind="eof"):
            if self.peek("{", "punct"):
                operations.append(Operation("query", None, [], [], self.selection_set()))
            elif self.peek("fragment", "name"):
                fragment = self.fragment()
                if fragment.name in fragments:
                    raise GraphQLSyntaxError(f"There can be only one fragment named '{fragment.name}'.")
                fragments[fragment.name] = fragment
            elif self.peek(kind="name") and self.tokens[self.i][1] in ("query", "mutation", "subscription"):
                operations.append(self.operation())
            else:
                _, value, pos = self.tokens[self.i]
                raise GraphQLSyntaxError(f"Syntax Error: Unexpected {value or '<EOF>'!r} at offset {pos}.")
        if not operations and not fragments:
            raise GraphQLSyntaxError("Syntax Error: Unexpected <EOF>.")
        return Document(operations, fragments)

    def operation(self) -> Operation:
        kind = self.take(kind="name")
        name = self.take(kind="name") if self.peek(kind="name") else None
        variables = self.variable_definitions() if self.peek("(", "punct") else []
        return Operation(kind, name, variables, self.directives(), self.selection_set())

    def fragment(self) -> Fragment:
        self.take("fragment")
        name = self.take(kind="name")
        if name == "on":
            raise GraphQLSyntaxError("Syntax Error: Unexpected Name 'on'.")
        self.take("on")
        type_condition = self.take(kind="name")
        return Fragment(name, type_condition, self.directives(), self.selection_set())

    def variable_definitions(self) -> list[VariableDefinition]:
        self.take("(")
        found = []
        while not self.skip(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            type_text = self.type_reference()
            definition = VariableDefinition(name, type_text)
            if self.skip("="):
                definition.default, definition.has_default = self.value(const=True), True
            self.directives()
            found.append(definition)
        return found

    def type_reference(self) -> str:
        if self.skip("["):
            self.nested()
            inner = self.type_reference()
            self.take("]")
            self.depth -= 1
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")
        return text + ("!" if self.skip("!") else "")

    def directives(self) -> list[Directive]:
        found = []
        while self.skip("@"):
            name = self.take(kind="name")
            found.append(Directive(name, self.arguments() if self.peek("(", "punct") else {}))
        return found

    def arguments(self, const: bool = False) -> dict:
        self.take("(")
        args = {}
        while not self.skip(")"):
            name = self.take(kind="name")
            self.take(":")
            args[name] = self.value(const)
        return args

    def selection_set(self) -> list:
        self.take("{")
        self.nested()
        selections = []
        while not self.skip("}"):
            selections.append(self.selection())
        if not selections:
            raise GraphQLSyntaxError("Syntax Error: Expected Name, found '}'.")
        self.depth -= 1
        return selections

    def selection(self):
        if self.skip("..."):
            if self.peek(kind="name") and not self.peek("on"):
                return FragmentSpread(self.take(kind="name"), self.directives())
            type_condition = None
            if self.peek("on", "name"):
                self.take("on")
                type_condition = self.take(kind="name")
            return InlineFragment(type_condition, self.directives(), self.selection_set())
        name = self.take(kind="name")
        alias = None
        if self.skip(":"):
            alias, name = name, self.take(kind="name")
        arguments = self.arguments() if self.peek("(", "punct") else {}
        directives = self.directives()
        selections = self.selection_set() if self.peek("{", "punct") else None
        return Field(name, alias, arguments, directives, selections)

    # ---- values
    def value(self, const: bool = False):
        kind, text, pos = self.tokens[self.i]
        if kind == "punct" and text == "$" and not const:
            self.i += 1
            return Variable(self.take(kind="name"))
        if kind == "number":
            self.i += 1
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            self.i += 1
            return json.loads(text)
        if kind == "block":
            self.i += 1
            return _block_string(text[3:-3])
        if kind == "name":
            self.i += 1
            literals = {"true": True, "false": False, "null": None}
            return literals[text] if text in literals else EnumValue(text)
        if kind == "punct" and text == "[":
            self.i += 1
            self.nested()
            items = []
            while not self.skip("]"):
                items.append(self.value(const))
            self.depth -= 1
            return items
        if kind == "punct" and text == "{":
            self.i += 1
            self.nested()
            fields = {}
            while not self.skip("}"):
                name = self.take(kind="name")
                self.take(":")
                fields[name] = self.value(const)
            self.depth -= 1
            return fields
        found = "<EOF>" if kind == "eof" else repr(text)
        raise GraphQLSyntaxError(f"Syntax Error: Unexpected {found} at offset {pos}.")


def _block_string(raw: str) -> str:
    lines = raw.replace('\\"""', '"""').splitlines()
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines[1:] if line.strip()]
    common = min(indents) if indents else 0
    lines = lines[:1] + [line[common:] for line in lines[1:]]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def parse(text: str) -> Document:
    if len(text) > MAX_QUERY_CHARS:
        raise GraphQLSyntaxError(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    return _Parser(text).document()
