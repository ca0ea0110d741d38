"""What search_experiments filters and order_by entries may name (MLflow's
SearchExperimentsUtils plus the checks its SQL store makes)."""
from __future__ import annotations

from mltracker.service.errors import invalid
from mltracker.service.search.syntax import (
    Comparator,
    Comparison,
    Entity,
    ListLiteral,
    OrderKey,
    RawComparison,
    RawName,
)
from mltracker.service.search.vocabulary import (
    LIST_COMPARATORS,
    NUMERIC_COMPARATORS,
    STRING_ATTRIBUTE_COMPARATORS,
    TEXT_COMPARATORS,
    check_list_comparator,
    check_list_supported,
    invalid_attribute_key,
    invalid_comparator,
    number_value,
    string_list,
    string_value,
)

ENTITY_ALIASES = {"attribute": Entity.ATTRIBUTE, "tag": Entity.TAG, "tags": Entity.TAG}
ATTRIBUTES = frozenset({"name", "experiment_id", "creation_time", "last_update_time"})
NUMERIC_ATTRIBUTES = frozenset({"creation_time", "last_update_time"})
LIST_KEYS = frozenset({"experiment_id"})


class ExperimentVocabulary:
    def resolve(self, raw: RawComparison) -> Comparison:
        entity, key = _entity_and_key(raw.name)
        comparator = raw.comparator
        if raw.value is None:
            if entity is not Entity.TAG:
                raise invalid(
                    f"IS NULL / IS NOT NULL is only supported for tags, not for attribute '{key}'"
                )
            return Comparison(entity, key, comparator, None)
        if entity is Entity.TAG:
            value = string_value(raw.value, "tag (e.g. 'my-value')")
            if comparator not in TEXT_COMPARATORS:
                raise invalid(f"Invalid comparator for tag: {comparator}")
            return Comparison(entity, key, comparator, value)
        if key in NUMERIC_ATTRIBUTES:
            value = number_value(raw.value, f"Expected numeric value type for numeric attribute: {key}")
            if comparator not in NUMERIC_COMPARATORS:
                raise invalid_comparator(comparator, NUMERIC_COMPARATORS, closing_quote=False)
            if isinstance(value, float):
                raise invalid(f"Invalid value for numeric attribute '{key}': {str(value)!r}")
            return Comparison(entity, key, comparator, value)
        if isinstance(raw.value, ListLiteral):
            check_list_supported(key, LIST_KEYS)
            value = string_list(raw.value)
        else:
            value = string_value(raw.value, "attributes")
        if key == "experiment_id":
            return _experiment_id_comparison(comparator, value)
        if comparator not in STRING_ATTRIBUTE_COMPARATORS:
            raise invalid_comparator(comparator, STRING_ATTRIBUTE_COMPARATORS)
        if comparator in LIST_COMPARATORS:
            raise invalid(f"Invalid comparator for string attribute: {comparator}")
        return Comparison(entity, key, comparator, value)

    def resolve_order(self, name: RawName, ascending: bool) -> OrderKey:
        entity, key = _entity_and_key(name)
        if entity is not Entity.ATTRIBUTE:
            raise invalid(f"Invalid order_by entity: {entity.value}")
        return OrderKey(entity, key, ascending)


def _entity_and_key(name: RawName) -> tuple[Entity, str]:
    prefix, key = name.entity_and_key
    if prefix is None:
        entity = Entity.ATTRIBUTE
    elif prefix in ENTITY_ALIASES:
        entity = ENTITY_ALIASES[prefix]
    else:
        raise invalid(
            f"Invalid entity type '{prefix}'. Valid entity types are ('attribute', 'tag', 'tags')"
        )
    if entity is Entity.ATTRIBUTE and key not in ATTRIBUTES:
        raise invalid_attribute_key(key, ATTRIBUTES)
    return entity, key


_EXPERIMENT_ID_COMPARATORS = frozenset({Comparator.EQ, Comparator.NE}) | LIST_COMPARATORS


def _experiment_id_comparison(comparator: str, value) -> Comparison:
    if comparator not in _EXPERIMENT_ID_COMPARATORS:
        raise invalid(f"Invalid comparator for experiment_id: {comparator}")
    check_list_comparator(comparator, value)
    if isinstance(value, tuple):
        return Comparison(Entity.ATTRIBUTE, "experiment_id", comparator, tuple(map(_experiment_id, value)))
    return Comparison(Entity.ATTRIBUTE, "experiment_id", comparator, _experiment_id(value))


def _experiment_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(
            f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."
        ) from None
