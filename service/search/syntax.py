"""Syntax tree of search filters and order_by entries.

The parser produces `Raw*` nodes (what was written); a vocabulary (runs or experiments) resolves
them into `Comparison` / `OrderKey`, the validated form the SQL compilers consume.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Union


class Comparator(str, Enum):
    """Every comparator of MLflow's filter grammar; one vocabulary for runs, experiments, the
    registry and logged models. Members are their own text, so they print as MLflow writes them."""

    EQ = "="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"

    __str__ = str.__str__
    __format__ = str.__format__

    def __repr__(self) -> str:
        return repr(self.value)


NUMERIC_COMPARATORS = frozenset({Comparator.GT, Comparator.GE, Comparator.NE, Comparator.EQ,
                                 Comparator.LT, Comparator.LE})
TEXT_COMPARATORS = frozenset({Comparator.NE, Comparator.EQ, Comparator.LIKE, Comparator.ILIKE})
LIST_COMPARATORS = frozenset({Comparator.IN, Comparator.NOT_IN})
NULL_COMPARATORS = frozenset({Comparator.IS_NULL, Comparator.IS_NOT_NULL})
KEY_VALUE_COMPARATORS = TEXT_COMPARATORS | NULL_COMPARATORS  # tags, params, metadata: "has no such key" too
STRING_ATTRIBUTE_COMPARATORS = TEXT_COMPARATORS | LIST_COMPARATORS


class Entity(str, Enum):
    METRIC = "metric"
    PARAM = "parameter"
    TAG = "tag"
    ATTRIBUTE = "attribute"
    DATASET = "dataset"


@dataclass(frozen=True)
class Literal:
    kind: str  # "number" | "string" | "word" (an unquoted word such as NULL or b)
    value: Union[int, float, str]
    text: str  # as written, for error messages


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Literal, ...]
    text: str


@dataclass(frozen=True)
class RawName:
    parts: tuple[str, ...]  # unquoted; `tags.a.b` -> ("tags", "a", "b")
    text: str

    @property
    def entity_and_key(self) -> tuple[str | None, str]:
        if len(self.parts) == 1:
            return None, self.parts[0]
        return self.parts[0], ".".join(self.parts[1:])


@dataclass(frozen=True)
class RawComparison:
    name: RawName
    comparator: Comparator | str  # a str only for an operator outside the grammar (`==`, `<>`)
    value: Literal | ListLiteral | None  # None for IS [NOT] NULL


@dataclass(frozen=True)
class Comparison:
    entity: Entity
    key: str  # canonical: aliases resolved ("created" -> "start_time")
    comparator: Comparator
    value: Union[int, float, str, tuple, None]


@dataclass(frozen=True)
class OrderKey:
    entity: Entity
    key: str  # canonical
    ascending: bool
