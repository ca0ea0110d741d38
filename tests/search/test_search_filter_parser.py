"""Filter strings -> syntax trees, and bad filters -> MLflow's error messages."""
from __future__ import annotations

import re

import pytest

from mltracker.service.errors import MlflowError
from mltracker.service.search.experiment_vocabulary import ExperimentVocabulary
from mltracker.service.search.filter_parser import parse_filter, parse_raw_filter
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.search.syntax import Comparison, Entity, ListLiteral, Literal, RawComparison, RawName

M, P, T, A, D = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE, Entity.DATASET


def runs(text):
    return parse_filter(text, RunVocabulary())


def experiments(text):
    return parse_filter(text, ExperimentVocabulary())


RUN_TREES = [
    (None, ()),
    ("", ()),
    ("metrics.acc > 0.5", ((M, "acc", ">", 0.5),)),
    ("metric.acc >= 1", ((M, "acc", ">=", 1.0),)),
    ("metrics.loss < -1e-3", ((M, "loss", "<", -0.001),)),
    ("metrics.x != .5", ((M, "x", "!=", 0.5),)),
    ("metrics.x = 5.", ((M, "x", "=", 5.0),)),
    ("metrics.`top-5 acc` <= 3", ((M, "top-5 acc", "<=", 3.0),)),
    ("params.lr = '0.01'", ((P, "lr", "=", "0.01"),)),
    ("param.lr != \"0.1\"", ((P, "lr", "!=", "0.1"),)),
    ("parameters.model LIKE 'cnn%'", ((P, "model", "LIKE", "cnn%"),)),
    ("parameter.model ilike '%CNN'", ((P, "model", "ILIKE", "%CNN"),)),
    ("params.lr IS NULL", ((P, "lr", "IS NULL", None),)),
    ("params.lr is not null", ((P, "lr", "IS NOT NULL", None),)),
    ("tags.mlflow.runName = 'x'", ((T, "mlflow.runName", "=", "x"),)),
    ("tag.`a b` = 'x'", ((T, "a b", "=", "x"),)),
    ('tags."a.b-c" = \'x\'', ((T, "a.b-c", "=", "x"),)),
    ("tags.`x y`.z = 'v'", ((T, "x y.z", "=", "v"),)),
    ("`tags`.team = 'v'", ((T, "team", "=", "v"),)),
    ("tags.t = 'it''s'", ((T, "t", "=", "it's"),)),
    ("tags.t = 'it\\'s'", ((T, "t", "=", "it's"),)),
    ("tags.t = 'C:\\data'", ((T, "t", "=", "C:\\data"),)),
    ("tags.t = ''", ((T, "t", "=", ""),)),
    ("tags.t = 'a AND b'", ((T, "t", "=", "a AND b"),)),
    ("tags.t IS NOT NULL", ((T, "t", "IS NOT NULL", None),)),
    ("status = 'FINISHED'", ((A, "status", "=", "FINISHED"),)),
    ("attributes.status != 'RUNNING'", ((A, "status", "!=", "RUNNING"),)),
    ("attribute.user_id LIKE 'al%'", ((A, "user_id", "LIKE", "al%"),)),
    ("attr.artifact_uri ILIKE 's3://%'", ((A, "artifact_uri", "ILIKE", "s3://%"),)),
    ("run.run_name = 'r'", ((A, "run_name", "=", "r"),)),
    ("attributes.`Run name` = 'r'", ((A, "run_name", "=", "r"),)),
    ('attributes."run name" = \'r\'', ((A, "run_name", "=", "r"),)),
    ("created > 5", ((A, "start_time", ">", 5),)),
    ("attributes.Created <= 5", ((A, "start_time", "<=", 5),)),
    ("start_time = 1.5", ((A, "start_time", "=", 1.5),)),
    ("end_time != 7", ((A, "end_time", "!=", 7),)),
    ("run_id IN ('a', 'b')", ((A, "run_id", "IN", ("a", "b")),)),
    ("run_id in ('a',)", ((A, "run_id", "IN", ("a",)),)),
    ('attributes.run_id NOT IN ("a", \'b\')', ((A, "run_id", "NOT IN", ("a", "b")),)),
    ("run_id = 'a'", ((A, "run_id", "=", "a"),)),
    ("datasets.name = 'mnist'", ((D, "name", "=", "mnist"),)),
    ("dataset.digest IN ('d1', 'd2')", ((D, "digest", "IN", ("d1", "d2")),)),
    ("datasets.context NOT IN ('train')", ((D, "context", "NOT IN", ("train",)),)),
    ("datasets.context ILIKE 'TR%'", ((D, "context", "ILIKE", "TR%"),)),
    (
        "metrics.acc > 0.5 AND params.lr = '0.01' and tags.t != 'x' AnD status = 'FINISHED'",
        ((M, "acc", ">", 0.5), (P, "lr", "=", "0.01"), (T, "t", "!=", "x"), (A, "status", "=", "FINISHED")),
    ),
]


@pytest.mark.parametrize("text, expected", RUN_TREES)
def test_run_filter_trees(text, expected):
    assert runs(text) == tuple(Comparison(*clause) for clause in expected)


def test_operators_need_no_spaces():
    assert runs("metrics.acc>1 AND params.lr='x'") == (
        Comparison(M, "acc", ">", 1.0),
        Comparison(P, "lr", "=", "x"),
    )


def test_raw_tree_keeps_what_was_written():
    assert parse_raw_filter("tags.`a b`.c LIKE \"x%\" AND run_id IN ('r1', 2)") == (
        RawComparison(RawName(("tags", "a b", "c"), "tags.`a b`.c"), "LIKE", Literal("string", "x%", '"x%"')),
        RawComparison(
            RawName(("run_id",), "run_id"),
            "IN",
            ListLiteral((Literal("string", "r1", "'r1'"), Literal("number", 2, "2")), "('r1', 2)"),
        ),
    )


EXPERIMENT_TREES = [
    ("name = 'x'", ((A, "name", "=", "x"),)),
    ("attribute.name LIKE 'x%'", ((A, "name", "LIKE", "x%"),)),
    ("name ilike 'X%'", ((A, "name", "ILIKE", "X%"),)),
    ("creation_time >= 10", ((A, "creation_time", ">=", 10),)),
    ("last_update_time != 10", ((A, "last_update_time", "!=", 10),)),
    ("experiment_id = '3'", ((A, "experiment_id", "=", 3),)),
    ("experiment_id NOT IN ('3', '4')", ((A, "experiment_id", "NOT IN", (3, 4)),)),
    ("tags.owner = 'ann'", ((T, "owner", "=", "ann"),)),
    ("tag.`a b` IS NULL", ((T, "a b", "IS NULL", None),)),
    ("tags.owner IS NOT NULL AND name != 'x'", ((T, "owner", "IS NOT NULL", None), (A, "name", "!=", "x"))),
]


@pytest.mark.parametrize("text, expected", EXPERIMENT_TREES)
def test_experiment_filter_trees(text, expected):
    assert experiments(text) == tuple(Comparison(*clause) for clause in expected)


# Errors whose text is MLflow's, checked against the installed MLflow below.
RUN_ERRORS_AS_MLFLOW = [
    "metrics.acc > 0.5 OR params.a = 'b'",
    "   ",
    "(metrics.acc > 1)",
    "params.a = 'x' AND (params.b = 'y')",
    "metrics.acc",
    "params.a = 'x';",
    "params.a = 'x'; params.b = 'y'",
    "params.a = b",
    "params.a = 1",
    "tags.a = NULL",
    "metrics.a = '1'",
    "metrics.a LIKE '1'",
    "metrics.a != nan",
    "metrics.a IS NULL",
    "status IS NOT NULL",
    "datasets.name IS NULL",
    "tags.a > 'x'",
    "params.a >= 'x'",
    "params.a NOT LIKE 'x'",
    "metrics.acc == 1",
    "metrics.acc <> 1",
    "status > 'a'",
    "datasets.name < 'a'",
    "attributes.status IN ('a')",
    "tags.a IN ('x')",
    "params.a NOT IN ('x')",
    "run_id IN ()",
    "run_id IN (1, 2)",
    "datasets.foo = 'x'",
    "foo.bar = 'x'",
    "attributes.foo = 'x'",
    "lifecycle_stage = 'active'",
    "start_time > 'x'",
    "start_time LIKE '1'",
    "attributes.end_time = \"1\"",
    "status = 1",
    "datasets.name = 1",
]

EXPERIMENT_ERRORS_AS_MLFLOW = [
    "attributes.name = 'x'",
    "metrics.a > 1",
    "foo = 'x'",
    "name IS NULL",
    "experiment_id = 1",
    "name IN ('a')",
    "creation_time > 'x'",
    "creation_time > 1.5",
    "experiment_id LIKE '1'",
    "experiment_id = 'abc'",
    "experiment_id IN ('1', 'x')",
    "tags.a > 'x'",
    "name > 'x'",
    "tags.a = b",
]


def _mlflow_run_error(text):
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import _get_sqlalchemy_filter_clauses
    from mlflow.utils.search_utils import SearchUtils

    try:
        _get_sqlalchemy_filter_clauses(SearchUtils.parse_search_filter(text), None, "sqlite")
    except MlflowException as e:
        return e.message
    except AttributeError:  # got as far as building SQL with our fake session: no error
        return None
    return None


def _mlflow_experiment_error(text):
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import _get_search_experiments_filter_clauses
    from mlflow.utils.search_utils import SearchExperimentsUtils

    try:
        _get_search_experiments_filter_clauses(SearchExperimentsUtils.parse_search_filter(text), "sqlite")
    except MlflowException as e:
        return e.message
    return None


def _sorted_sets(message):
    """MLflow prints sets in hash order; compare them sorted."""
    def sort(match):
        items = sorted(re.findall(r"'[^']*'", match.group(0)))
        return "{" + ", ".join(items) + "}"

    return re.sub(r"\{[^{}]*\}", sort, message)


def _our_error(parse, text):
    with pytest.raises(MlflowError) as info:
        parse(text)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    return info.value.message


@pytest.mark.parametrize("text", RUN_ERRORS_AS_MLFLOW)
def test_run_filter_errors_match_mlflow(text):
    expected = _mlflow_run_error(text)
    assert expected is not None, "MLflow accepts this filter: not an error-parity case"
    assert _our_error(runs, text) == _sorted_sets(expected)


@pytest.mark.parametrize("text", EXPERIMENT_ERRORS_AS_MLFLOW)
def test_experiment_filter_errors_match_mlflow(text):
    expected = _mlflow_experiment_error(text)
    assert expected is not None, "MLflow accepts this filter: not an error-parity case"
    assert _our_error(experiments, text) == _sorted_sets(expected)


def test_one_dangling_and_is_ignored_as_mlflow_does():
    assert runs("metrics.acc > 1 AND") == runs("metrics.acc > 1")


# Where MLflow has no (or a misleading) message, or accepts sloppy input, we say this.
OWN_RUN_ERRORS = [
    ("metrics.acc >", "Invalid clause(s) in filter string: 'metrics.acc >'"),
    ("metrics.a > 1 AND AND metrics.b < 1", "Invalid clause(s) in filter string: 'AND metrics.b < 1'"),
    ("metrics.a > 1 metrics.b < 2", "Invalid clause(s) in filter string: 'metrics.b < 2'"),
    ("params.a IS 'x'", "Invalid clause(s) in filter string: 'params.a IS 'x''"),
    ("run_id IN 'a'", "Invalid clause(s) in filter string: 'run_id IN 'a''"),
    ("params.a = 'unterminated", "Invalid clause(s) in filter string: ''unterminated'"),
    ("run_id IN (a, b)", "While parsing a list in the query, expected a non-empty list of string values, "
                         "but got ill-formed list."),
    ("run_id IN ('a' 'b')", "While parsing a list in the query, expected a non-empty list of string values, "
                            "but got ill-formed list."),
    ("run_id = ('a', 'b')", "Invalid comparator '=' for a list of values; use 'IN' or 'NOT IN'"),
    ("start_time LIKE 5", "Invalid comparator 'LIKE' not one of '{'!=', '<', '<=', '=', '>', '>='}"),
]


@pytest.mark.parametrize("text, message", OWN_RUN_ERRORS)
def test_own_run_filter_errors(text, message):
    assert _our_error(runs, text) == message


def test_in_requires_a_parenthesised_list():
    with pytest.raises(MlflowError, match="Invalid clause"):
        runs("datasets.name IN 'x'")


def test_filter_size_is_bounded_with_a_clear_message():
    from mltracker.service.search.filter_parser import parse_raw_filter
    from mltracker.service.search.limits import MAX_FILTER_CLAUSES, MAX_FILTER_VALUES

    assert len(parse_raw_filter(" AND ".join(f"params.p{i} = 'x'" for i in range(MAX_FILTER_CLAUSES)))) == 100
    with pytest.raises(MlflowError) as too_many:
        parse_raw_filter(" AND ".join(f"params.p{i} = 'x'" for i in range(MAX_FILTER_CLAUSES + 1)))
    assert too_many.value.error_code == "INVALID_PARAMETER_VALUE"
    assert f"at most {MAX_FILTER_CLAUSES}" in too_many.value.message
    values = ",".join(f"'{i}'" for i in range(MAX_FILTER_VALUES + 1))
    with pytest.raises(MlflowError) as too_long:
        parse_raw_filter(f"attributes.run_id IN ({values})")
    assert f"at most {MAX_FILTER_VALUES}" in too_long.value.message
