"""order_by entries -> sort keys, and paging tokens, without a database."""
from __future__ import annotations

import base64
import json
import re

import pytest

from mltracker.service.errors import MlflowError
from mltracker.service.search.experiment_vocabulary import ExperimentVocabulary
from mltracker.service.search.limits import check_max_results, lifecycle_stages
from mltracker.service.search.order_by import experiment_ordering, parse_order_by, parse_run_order_by, run_ordering
from mltracker.service.search.page_token import decode_offset, encode_offset
from mltracker.service.search.run_vocabulary import RunVocabulary
from mltracker.service.search.syntax import Entity, OrderKey

M, P, T, A = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE

RUN_ORDER_KEYS = [
    ("metrics.acc DESC", (M, "acc", False)),
    ("metric.acc desc", (M, "acc", False)),
    ("params.lr", (P, "lr", True)),
    ("param.lr ASC", (P, "lr", True)),
    ("attributes.start_time ASC", (A, "start_time", True)),
    ("start_time", (A, "start_time", True)),
    ("created DESC", (A, "start_time", False)),
    ("Created", (A, "start_time", True)),
    ("run_name", (A, "run_name", True)),
    ("attr.run_id DESC", (A, "run_id", False)),
    ("tags.`x y`", (T, "x y", True)),
    ("tags.`x y` DESC", (T, "x y", False)),
    ("tags.mlflow.runName", (T, "mlflow.runName", True)),
    ("metrics.`a.b`", (M, "a.b", True)),
    ('metrics."a b" asc', (M, "a b", True)),
]


@pytest.mark.parametrize("entry, expected", RUN_ORDER_KEYS)
def test_run_order_keys(entry, expected):
    assert parse_order_by(entry, RunVocabulary()) == OrderKey(*expected)


def _mlflow_order_error(entry):
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    try:
        SearchUtils.parse_order_by_for_search_runs(entry)
    except MlflowException as e:
        return e.message
    return None


RUN_ORDER_ERRORS_AS_MLFLOW = [
    "metrics.acc DOWN",
    "metrics.acc DESC extra",
    "",
    "foo.bar",
    "attributes.foo",
    "run name",
    "metrics.acc,params.b",
]


@pytest.mark.parametrize("entry", RUN_ORDER_ERRORS_AS_MLFLOW)
def test_run_order_errors_match_mlflow(entry):
    expected = _mlflow_order_error(entry)
    assert expected is not None
    with pytest.raises(MlflowError) as info:
        parse_order_by(entry, RunVocabulary())
    assert info.value.message == _sorted_sets(expected)


def _sorted_sets(message):
    """MLflow prints sets in hash order; we print them sorted."""
    def sort(match):
        return "{" + ", ".join(sorted(re.findall(r"'[^']*'", match.group(0)))) + "}"

    return re.sub(r"\{[^{}]*\}", sort, message)


@pytest.mark.parametrize(
    "order_by, message",
    [
        (["datasets.name"], "Invalid identifier type 'dataset'"),
        (["`Run name`"], "Invalid attribute key 'Run name' specified. Valid keys are "
                         "'{'Created', 'artifact_uri', 'created', 'end_time', 'run_id', 'run_name', "
                         "'start_time', 'status', 'user_id'}'"),
        (["metrics.a", "metrics.a DESC"], "`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']"),
        (["start_time", "created DESC"], "`order_by` contains duplicate fields: ['start_time', 'created DESC']"),
        (["params.a", "tags.a", "params.a"], "`order_by` contains duplicate fields: ['params.a', 'tags.a', 'params.a']"),
    ],
)
def test_run_ordering_errors(order_by, message):
    with pytest.raises(MlflowError) as info:
        parse_run_order_by(order_by)
    assert info.value.message == message


def test_same_key_of_different_entities_is_not_a_duplicate():
    ordering = run_ordering(parse_run_order_by(["params.a", "tags.a", "metrics.a"]), "sqlite")
    # 3 keys x (missing-last rank, value) + start_time + run_uuid
    assert len(ordering.clauses) == 8


def test_start_time_tie_break_is_not_repeated_when_ordered_on():
    assert len(run_ordering(parse_run_order_by(["created"]), "sqlite").clauses) == 2 + 1
    assert len(run_ordering([], "sqlite").clauses) == 2


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("name", (A, "name", True)),
        ("attribute.experiment_id DESC", (A, "experiment_id", False)),
        ("last_update_time desc", (A, "last_update_time", False)),
    ],
)
def test_experiment_order_keys(entry, expected):
    assert parse_order_by(entry, ExperimentVocabulary()) == OrderKey(*expected)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("tags.a", "Invalid order_by entity: tag"),
        ("foo", "Invalid attribute key 'foo' specified. Valid keys are "
                "'{'creation_time', 'experiment_id', 'last_update_time', 'name'}'"),
        ("metrics.a", "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"),
        ("name sideways", "Invalid ordering key in order_by clause 'name sideways'."),
    ],
)
def test_experiment_order_errors(entry, message):
    with pytest.raises(MlflowError) as info:
        experiment_ordering([entry], "sqlite")
    assert info.value.message == message


# ---------------------------------------------------------------- page tokens


@pytest.mark.parametrize("offset", [1, 2, 1000, 49999])
def test_page_token_round_trip(offset):
    assert decode_offset(encode_offset(offset)) == offset


def test_page_token_is_mlflows_format():
    from mlflow.utils.search_utils import SearchUtils

    assert encode_offset(7) == SearchUtils.create_page_token(7).decode()
    assert SearchUtils.parse_start_offset_from_page_token(encode_offset(7)) == 7
    assert decode_offset(SearchUtils.create_page_token(9).decode()) == 9


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_offset_zero(token):
    assert decode_offset(token) == 0


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "token",
    [
        "abc",  # bad padding
        _b64(b"not json"),
        _b64(json.dumps({"offset": 0}).encode()),
        _b64(json.dumps({"other": 3}).encode()),
        _b64(json.dumps({"offset": "x"}).encode()),
        _b64(json.dumps({"offset": "12"}).encode()),
    ],
)
def test_bad_page_tokens_match_mlflow(token):
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    try:
        expected = SearchUtils.parse_start_offset_from_page_token(token)
    except MlflowException as e:
        with pytest.raises(MlflowError) as info:
            decode_offset(token)
        assert info.value.message == e.message
    else:
        assert decode_offset(token) == expected


@pytest.mark.parametrize(
    "token",
    [
        _b64(json.dumps([1]).encode()),
        _b64(json.dumps({"offset": -4}).encode()),
        _b64(json.dumps({"offset": 2.5}).encode()),
        _b64(json.dumps({"offset": True}).encode()),
        "ünicode",
    ],
)
def test_tokens_mlflow_would_crash_on_are_rejected(token):
    with pytest.raises(MlflowError, match="Invalid page token"):
        decode_offset(token)


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "max_results, message",
    [
        (0, "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer"),
        (-1, "Invalid value -1 for parameter 'max_results' supplied. It must be a positive integer"),
        (None, "Invalid value None for parameter 'max_results' supplied. It must be a positive integer"),
        (50001, "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000"),
    ],
)
def test_max_results_limits(max_results, message):
    with pytest.raises(MlflowError) as info:
        check_max_results(max_results)
    assert info.value.message == message


def test_max_results_bounds_are_accepted():
    check_max_results(1)
    check_max_results(50000)
    check_max_results(None, allow_none=True)


@pytest.mark.parametrize(
    "view_type, stages",
    [("ACTIVE_ONLY", ("active",)), (None, ("active",)), ("DELETED_ONLY", ("deleted",)),
     ("ALL", ("active", "deleted")), ("all", ("active", "deleted"))],
)
def test_view_types(view_type, stages):
    assert lifecycle_stages(view_type) == stages


def test_bad_view_type():
    with pytest.raises(MlflowError, match="Invalid view type 'SOME'"):
        lifecycle_stages("SOME")
