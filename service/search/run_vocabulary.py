"""What search_runs filters and order_by entries may name, following mlflow.utils.search_utils.

Checks run in MLflow's order (entity, key, IS NULL support, value type, comparator) so the
first error a client sees is the one MLflow would give.
"""
from __future__ import annotations

from mltracker.service.errors import invalid
from mltracker.service.search.syntax import Comparison, Entity, ListLiteral, OrderKey, RawComparison, RawName
from mltracker.service.search.vocabulary import (
    KEY_VALUE_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_ATTRIBUTE_COMPARATORS,
    check_list_comparator,
    check_list_supported,
    invalid_attribute_key,
    invalid_comparator,
    number_value,
    set_repr,
    string_list,
    string_value,
)

ENTITY_ALIASES = {
    "metric": Entity.METRIC,
    "metrics": Entity.METRIC,
    "parameter": Entity.PARAM,
    "parameters": Entity.PARAM,
    "param": Entity.PARAM,
    "params": Entity.PARAM,
    "tag": Entity.TAG,
    "tags": Entity.TAG,
    "attribute": Entity.ATTRIBUTE,
    "attributes": Entity.ATTRIBUTE,
    "attr": Entity.ATTRIBUTE,
    "run": Entity.ATTRIBUTE,
    "dataset": Entity.DATASET,
    "datasets": Entity.DATASET,
}
CANONICAL_ENTITIES = ["metric", "parameter", "tag", "attribute", "dataset"]

ATTRIBUTE_ALIASES = {
    "created": "start_time",
    "Created": "start_time",
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
}
ATTRIBUTES = frozenset({"run_id", "run_name", "status", "start_time", "end_time", "artifact_uri", "user_id"})
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time", "created", "Created"})
SEARCH_KEYS = ATTRIBUTES | ATTRIBUTE_ALIASES.keys()
ORDER_BY_KEYS = ATTRIBUTES | {"created", "Created"}
LIST_KEYS = frozenset({"run_id"})
DATASET_KEYS = frozenset({"name", "digest", "context"})


class RunVocabulary:
    def resolve(self, raw: RawComparison) -> Comparison:
        entity, key = _entity_and_key(raw.name, SEARCH_KEYS)
        comparator = raw.comparator
        if raw.value is None:
            if entity not in (Entity.TAG, Entity.PARAM):
                raise invalid(
                    "IS NULL / IS NOT NULL is only supported for tags and params, "
                    f"not for '{entity.value}' '{key}'"
                )
            return Comparison(entity, key, comparator, None)
        value = _value(entity, key, raw.value)
        _check_comparator(entity, key, comparator)
        check_list_comparator(comparator, value)
        return Comparison(entity, ATTRIBUTE_ALIASES.get(key, key), comparator, value)

    def resolve_order(self, name: RawName, ascending: bool) -> OrderKey:
        entity, key = _entity_and_key(name, ORDER_BY_KEYS)
        if entity is Entity.DATASET:
            raise invalid("Invalid identifier type 'dataset'")
        return OrderKey(entity, ATTRIBUTE_ALIASES.get(key, key), ascending)


def _entity_and_key(name: RawName, attribute_keys) -> tuple[Entity, str]:
    prefix, key = name.entity_and_key
    if prefix is None:
        entity = Entity.ATTRIBUTE
    elif prefix in ENTITY_ALIASES:
        entity = ENTITY_ALIASES[prefix]
    else:
        raise invalid(f"Invalid entity type '{prefix}'. Valid values are {CANONICAL_ENTITIES}")
    if entity is Entity.ATTRIBUTE and key not in attribute_keys:
        raise invalid_attribute_key(key, attribute_keys)
    if entity is Entity.DATASET and key not in DATASET_KEYS:
        raise invalid(f"Invalid dataset key '{key}' specified. Valid keys are '{set_repr(DATASET_KEYS)}'")
    return entity, key


def _value(entity: Entity, key: str, value):
    if entity is Entity.METRIC:
        return float(number_value(value, "Expected numeric value type for metric"))
    if entity in (Entity.PARAM, Entity.TAG):
        return string_value(value, f"{entity.value} (e.g. 'my-value')")
    if entity is Entity.ATTRIBUTE and key in NUMERIC_ATTRIBUTES:
        return number_value(value, f"Expected numeric value type for numeric attribute: {key}")
    if isinstance(value, ListLiteral):
        if entity is Entity.ATTRIBUTE:
            check_list_supported(key, LIST_KEYS)
        return string_list(value)
    what = "attributes" if entity is Entity.ATTRIBUTE else "dataset attributes"
    return string_value(value, what)


def _check_comparator(entity: Entity, key: str, comparator: str) -> None:
    if entity is Entity.METRIC and comparator not in NUMERIC_COMPARATORS:
        raise invalid_comparator(comparator, NUMERIC_COMPARATORS, closing_quote=False)
    if entity is Entity.PARAM and comparator not in KEY_VALUE_COMPARATORS:
        raise invalid_comparator(comparator, KEY_VALUE_COMPARATORS)
    if entity is Entity.TAG and comparator not in KEY_VALUE_COMPARATORS:
        raise invalid_comparator(comparator, KEY_VALUE_COMPARATORS, closing_quote=False)
    if entity is Entity.ATTRIBUTE and key in NUMERIC_ATTRIBUTES and comparator not in NUMERIC_COMPARATORS:
        raise invalid_comparator(comparator, NUMERIC_COMPARATORS, closing_quote=False)
    if entity is Entity.ATTRIBUTE and key not in NUMERIC_ATTRIBUTES and comparator not in STRING_ATTRIBUTE_COMPARATORS:
        raise invalid_comparator(comparator, STRING_ATTRIBUTE_COMPARATORS)
    if entity is Entity.DATASET and comparator not in STRING_ATTRIBUTE_COMPARATORS:
        raise invalid_comparator(comparator, STRING_ATTRIBUTE_COMPARATORS, closing_quote=False)
