"""Compile resolved filters (see syntax.Comparison) to SQLAlchemy Core WHERE clauses.

Every non-attribute clause is an EXISTS over the child table, so a run lacking the key never
matches a comparison (including "!="), and IS NULL means "has no such key" - as in MLflow.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from mltracker.service.db.schema import (
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    params,
    run_inputs,
    runs,
    tags,
)
from mltracker.service.search.syntax import Comparator, Comparison, Entity
from mltracker.service.search.text_match import compare_text, compare_value

DATASET_CONTEXT_TAG = "mlflow.data.context"

RUN_ATTRIBUTE_COLUMNS = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "artifact_uri": runs.c.artifact_uri,
    "user_id": runs.c.user_id,
}
NUMERIC_RUN_ATTRIBUTES = {"start_time", "end_time"}
NUMERIC_EXPERIMENT_ATTRIBUTES = {"creation_time", "last_update_time"}


def compile_run_filter(comparisons, dialect: str, run_id: ColumnElement = runs.c.run_uuid) -> list[ColumnElement]:
    """run_id: the column the metric, param, tag and dataset clauses are correlated on (any
    column equal to the run's id in the query)."""
    return [_run_clause(c, dialect, run_id) for c in comparisons]


def compile_experiment_filter(comparisons, dialect: str) -> list[ColumnElement]:
    return [_experiment_clause(c, dialect) for c in comparisons]


def _run_clause(c: Comparison, dialect: str, run_id: ColumnElement) -> ColumnElement:
    if c.entity is Entity.ATTRIBUTE:
        column = RUN_ATTRIBUTE_COLUMNS[c.key]
        if c.key in NUMERIC_RUN_ATTRIBUTES:
            return compare_value(column, c.comparator, c.value)
        return compare_text(column, c.comparator, c.value, dialect)
    if c.entity is Entity.METRIC:
        return _metric_exists(c, run_id)
    if c.entity is Entity.DATASET:
        return _dataset_exists(c, dialect, run_id)
    table = params if c.entity is Entity.PARAM else tags
    return _key_value_clause(table, table.c.run_uuid == run_id, c, dialect)


def _metric_exists(c: Comparison, run_id: ColumnElement) -> ColumnElement:
    m = latest_metrics
    # NaN is stored as value 0 with is_nan set: every comparison with NaN is false except "!=".
    if c.comparator is Comparator.NE:
        matches = or_(m.c.value != c.value, m.c.is_nan == true())
    else:
        matches = and_(compare_value(m.c.value, c.comparator, c.value), m.c.is_nan == false())
    return exists().where(m.c.run_uuid == run_id, m.c.key == c.key, matches)


def _key_value_clause(table, owner, c: Comparison, dialect: str) -> ColumnElement:
    has_key = exists().where(owner, table.c.key == c.key)
    if c.comparator is Comparator.IS_NULL:
        return ~has_key
    if c.comparator is Comparator.IS_NOT_NULL:
        return has_key
    return has_key.where(compare_text(table.c.value, c.comparator, c.value, dialect))


def _dataset_exists(c: Comparison, dialect: str, run_id: ColumnElement) -> ColumnElement:
    linked = run_inputs.c.run_uuid == run_id
    if c.key == "context":
        return exists().where(
            linked,
            input_tags.c.input_uuid == run_inputs.c.input_uuid,
            input_tags.c.name == DATASET_CONTEXT_TAG,
            compare_text(input_tags.c.value, c.comparator, c.value, dialect),
        )
    return exists().where(
        linked,
        datasets.c.dataset_uuid == run_inputs.c.dataset_uuid,
        compare_text(datasets.c[c.key], c.comparator, c.value, dialect),
    )


def _experiment_clause(c: Comparison, dialect: str) -> ColumnElement:
    if c.entity is Entity.TAG:
        owner = experiment_tags.c.experiment_id == experiments.c.experiment_id
        return _key_value_clause(experiment_tags, owner, c, dialect)
    column = experiments.c[c.key]
    if c.key in NUMERIC_EXPERIMENT_ATTRIBUTES:
        return compare_value(column, c.comparator, c.value)
    return compare_text(column, c.comparator, c.value, dialect)  # name; experiment_id: =, !=, IN
