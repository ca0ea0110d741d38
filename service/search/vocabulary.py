"""Checks shared by the run and experiment vocabularies, with MLflow's error messages.

MLflow formats comparator sets as Python set reprs (in hash order); we print them sorted so
messages are stable.
"""
from __future__ import annotations

from mltracker.service.errors import MlflowError, invalid
from mltracker.service.search.syntax import (  # noqa: F401  (re-exported for the vocabularies)
    KEY_VALUE_COMPARATORS,
    LIST_COMPARATORS,
    NULL_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_ATTRIBUTE_COMPARATORS,
    TEXT_COMPARATORS,
    Comparator,
    ListLiteral,
    Literal,
)

_KEYWORDS = {"NULL", "TRUE", "FALSE"}


def set_repr(values) -> str:
    return "{" + ", ".join(repr(v) for v in sorted(values)) + "}"


def invalid_attribute_key(key: str, valid_keys) -> MlflowError:
    return invalid(f"Invalid attribute key '{key}' specified. Valid keys are '{set_repr(valid_keys)}'")


def invalid_comparator(comparator: str, valid, closing_quote: bool = True) -> MlflowError:
    # MLflow leaves the closing quote off for some entity types; keep its exact text.
    quote = "'" if closing_quote else ""
    return invalid(f"Invalid comparator '{comparator}' not one of '{set_repr(valid)}{quote}")


def number_value(value: Literal | ListLiteral, error: str) -> int | float:
    if isinstance(value, Literal) and value.kind == "number":
        if isinstance(value.value, int) and not -(2**63) <= value.value < 2**63:
            return float(value.value)  # a BIGINT column cannot bind it; as a float it compares fine
        return value.value
    raise invalid(f"{error}. Found {value.text}")


def string_value(value: Literal | ListLiteral, what: str) -> str:
    """A quoted string; `what` completes "Expected a quoted string value for ..."."""
    if isinstance(value, Literal) and value.kind == "string":
        return value.value
    # Bare NULL / TRUE / FALSE are keywords to MLflow's parser, not unquoted strings.
    if isinstance(value, Literal) and value.kind == "word" and value.text.upper() not in _KEYWORDS:
        raise invalid(
            "Parameter value is either not quoted or unidentified quote types used for string "
            f"value {value.text}. Use either single or double quotes."
        )
    raise invalid(f"Expected a quoted string value for {what}. Got value {value.text}")


def string_list(value: ListLiteral) -> tuple[str, ...]:
    if not value.items:
        raise invalid(
            "While parsing a list in the query, expected a non-empty list of string values, "
            "but got empty list"
        )
    items = tuple(item.value for item in value.items)
    if any(item.kind != "string" for item in value.items):
        raise invalid(
            "While parsing a list in the query, expected string value, punctuation, or "
            f"whitespace, but got different type in list: {items!r}"
        )
    return items


def check_list_supported(key: str, supported: frozenset[str]) -> None:
    if key not in supported:
        raise invalid(
            f"Only {sorted(supported)} attributes support comparison with a list of quoted "
            "string values."
        )


def check_list_comparator(comparator: str, value) -> None:
    """IN / NOT IN take a list, and a list is only valid with them (MLflow fails later in SQL)."""
    if isinstance(value, tuple) and comparator not in LIST_COMPARATORS:
        raise invalid(
            f"Invalid comparator '{comparator}' for a list of values; use 'IN' or 'NOT IN'"
        )
