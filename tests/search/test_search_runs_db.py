"""search_run_ids against real SQLite and PostgreSQL databases holding the sample data.

Every expectation is also checked against MLflow's own in-memory search (SearchUtils.filter /
sort) over the same data, so the tables cannot drift from MLflow's semantics unnoticed.
"""
from __future__ import annotations

import pytest

from mltracker.service.errors import MlflowError
from mltracker.service.search.runs import search_run_ids

SEARCHED_EXPERIMENTS = ("alpha-exp", "Beta-exp")


def ids(spec: str) -> list[str]:
    return [f"run{n}" for n in spec.split()]


def search(sample_conn, exp_ids, filter_string=None, order_by=None, view="ACTIVE_ONLY", max_results=1000, token=None):
    return search_run_ids(
        sample_conn,
        experiment_ids=[exp_ids[name] for name in SEARCHED_EXPERIMENTS],
        filter_string=filter_string,
        run_view_type=view,
        max_results=max_results,
        order_by=order_by,
        page_token=token,
    )


def mlflow_runs(sample_runs, view="ACTIVE_ONLY"):
    """The sample runs as MLflow entities, limited like a search would be."""
    from mlflow.entities import (
        Dataset, DatasetInput, InputTag, Metric, Param, Run, RunData, RunInfo, RunInputs, RunTag,
    )

    stages = {"ACTIVE_ONLY": {"active"}, "DELETED_ONLY": {"deleted"}, "ALL": {"active", "deleted"}}[view]
    result = []
    for r in sample_runs:
        if r["experiment"] not in SEARCHED_EXPERIMENTS or r["lifecycle_stage"] not in stages:
            continue
        info = RunInfo(r["run_uuid"], r["experiment"], r["user_id"], r["status"], r["start_time"],
                       r["end_time"], r["lifecycle_stage"], r["artifact_uri"], r["name"])
        data = RunData(
            metrics=[Metric(k, v, 1, 0) for k, v in r["metrics"].items()],
            params=[Param(k, v) for k, v in r["params"].items()],
            tags=[RunTag(k, v) for k, v in r["tags"].items()],
        )
        inputs = RunInputs([
            DatasetInput(Dataset(name, digest, "local", "{}"),
                         [InputTag("mlflow.data.context", context)] if context else [])
            for name, digest, context in r["inputs"]
        ])
        result.append(Run(info, data, inputs))
    return result


def mlflow_filter(sample_runs, filter_string, view="ACTIVE_ONLY"):
    from mlflow.utils.search_utils import SearchUtils

    return {r.info.run_id for r in SearchUtils.filter(mlflow_runs(sample_runs, view), filter_string)}


def mlflow_sort(sample_runs, order_by):
    from mlflow.utils.search_utils import SearchUtils

    return [r.info.run_id for r in SearchUtils.sort(mlflow_runs(sample_runs), order_by)]


# Active runs of the searched experiments: run01 run02 run03 run04 run06.
FILTERS = [
    (None, "01 02 03 04 06"),
    ("metrics.acc > 0.6", "01 06"),
    ("metrics.acc < 0.6", "03"),
    ("metrics.acc != 0.5", "01 02 06"),  # NaN is != everything
    ("metrics.acc = 0.9", "01"),
    ("metrics.acc >= -1e3", "01 03 06"),  # never NaN, never a missing metric
    ("metrics.zero = 0", "01"),  # NaN is stored as 0 but must not equal 0
    ("metrics.zero != 0", "02"),
    ("metrics.zero <= 0", "01"),
    ("metrics.zero != 1", "01 02"),
    ("metrics.loss > 100", "03"),  # +inf
    ("metrics.loss < 0", "06"),
    ("metrics.missing > 0", ""),
    ("params.lr = '0.01'", "01 06"),
    ("params.lr != '0.01'", "02 03"),  # run04 has no lr: no match
    ("params.model LIKE 'cnn'", "02"),
    ("params.model LIKE 'CNN'", "01"),
    ("params.model ILIKE 'cnn'", "01 02"),
    ("params.model LIKE 'rnn_v1'", "03 04"),  # _ is a wildcard
    ("params.model LIKE 'rnn%'", "03 04"),
    ("params.model LIKE '%N%'", "01"),
    ("params.model ILIKE '%N%'", "01 02 03 04"),
    ("params.path LIKE 'C:\\%'", "03"),  # a backslash is not an escape
    ("params.path = 'C:\\data\\x'", "03"),
    ("params.lr IS NULL", "04"),
    ("params.lr IS NOT NULL", "01 02 03 06"),
    ("tags.team = 'Vision'", "01 06"),
    ("tags.team ILIKE 'vision'", "01 02 06"),
    ("tags.team LIKE 'v%'", "02"),
    ("tags.team LIKE 'V_sion'", "01 06"),  # _ is exactly one character
    ("tags.team LIKE 'V_ion'", ""),
    ("tags.team LIKE 'v_sion'", "02"),
    ("tags.team != 'nlp'", "01 02 06"),
    ("tags.team IS NULL", "04"),
    ("tags.team IS NOT NULL", "01 02 03 06"),
    ("tags.`a b` = 'spaced'", "01"),
    ('tags."a b" = "spaced"', "01"),
    ("tags.`x-y.z` = 'dashed'", "01"),
    ("tags.mlflow.runName = 'Beta'", "02"),
    ("attributes.run_name = 'Beta'", "02"),
    ("run_name ILIKE 'beta'", "02"),
    ("attributes.`Run name` LIKE '%ta'", "02 04 06"),
    ("attributes.status = 'FINISHED'", "01 02"),
    ("status != 'FINISHED'", "03 04 06"),
    ("status LIKE 'fin%'", ""),
    ("status ILIKE 'fin%'", "01 02"),
    ("attributes.user_id = 'alice'", "01 03"),
    ("artifact_uri LIKE 's3://bucket/%'", "01 02 03 04 06"),
    ("run_id IN ('run01', 'run03', 'nope')", "01 03"),
    ("run_id NOT IN ('run01', 'run03')", "02 04 06"),
    ("attributes.run_id = 'run04'", "04"),
    ("start_time >= 200", "02 03 04"),
    ("created < 200", "01 06"),
    ("start_time < 99999999999999999999", "01 02 03 04 06"),  # beyond BIGINT
    ("metrics.loss >= 1e400", "03"),  # inf >= inf
    ("attributes.end_time > 250", "02 04"),  # run03 has no end time
    ("end_time != 300", "01 04 06"),
    ("datasets.name = 'mnist'", "01 02 06"),
    ("datasets.name != 'mnist'", "02 03"),  # some dataset of the run is not mnist
    ("datasets.name IN ('cifar', 'imdb')", "02 03"),
    ("datasets.name NOT IN ('mnist')", "02 03"),
    ("datasets.digest = 'd1'", "01 02"),
    ("datasets.context = 'train'", "01 02 06"),
    ("datasets.context = 'eval'", "02"),
    ("dataset.context ILIKE 'TR%'", "01 02 06"),
    ("datasets.name = 'mnist' AND datasets.context = 'eval'", "02"),
    ("metrics.acc > 0 AND params.lr = '0.01'", "01 06"),
    ("tags.team ILIKE 'vision' and attributes.status = 'FINISHED' AND metrics.loss < 0.15", "01"),
]


@pytest.mark.parametrize("filter_string, expected", FILTERS)
def test_filters(sample_conn, exp_ids, filter_string, expected):
    found, token = search(sample_conn, exp_ids, filter_string)
    assert set(found) == set(ids(expected))
    assert token is None


@pytest.mark.parametrize("filter_string, expected", FILTERS)
def test_filter_table_agrees_with_mlflow(sample_runs, filter_string, expected):
    assert mlflow_filter(sample_runs, filter_string) == set(ids(expected))


# Active runs' start times: run01 100, run06 150, run02 200, run03 300, run04 300.
ORDERS = [
    (None, "03 04 02 06 01"),  # start_time DESC, then run id
    ([], "03 04 02 06 01"),
    (["metrics.acc DESC"], "01 06 03 02 04"),  # NaN after numbers, missing last
    (["metrics.acc ASC"], "03 06 01 02 04"),  # ... in both directions
    (["metrics.zero"], "01 02 03 04 06"),
    (["metrics.loss DESC"], "03 02 01 06 04"),
    (["params.lr"], "03 06 01 02 04"),  # "0.001" < "0.01" < "0.1"; ties by start_time DESC
    (["params.lr DESC"], "02 06 01 03 04"),
    (["tags.team"], "06 01 03 02 04"),  # byte order: "Vision" < "nlp" < "vision"
    (["tags.`a b` DESC"], "01 03 04 02 06"),
    (["attributes.start_time ASC"], "01 06 02 03 04"),
    (["created DESC"], "03 04 02 06 01"),
    (["attributes.end_time"], "01 06 02 04 03"),  # no end time: last
    (["end_time DESC"], "04 02 06 01 03"),
    (["status", "start_time ASC"], "04 01 02 06 03"),
    (["attributes.run_name"], "02 01 04 03 06"),
    (["user_id DESC", "metrics.acc"], "06 04 02 03 01"),
    (["run_id DESC"], "06 04 03 02 01"),
    (["params.lr", "metrics.acc DESC"], "03 01 06 02 04"),
]


@pytest.mark.parametrize("order_by, expected", ORDERS)
def test_order_by(sample_conn, exp_ids, order_by, expected):
    assert search(sample_conn, exp_ids, order_by=order_by)[0] == ids(expected)


@pytest.mark.parametrize("order_by, expected", ORDERS)
def test_order_table_agrees_with_mlflow(sample_runs, order_by, expected):
    assert mlflow_sort(sample_runs, order_by) == ids(expected)


@pytest.mark.parametrize(
    "filter_string, order_by",
    [(None, None), (None, ["metrics.acc DESC"]), ("params.lr IS NOT NULL", ["params.lr"]),
     (None, ["tags.team", "metrics.loss"]), ("metrics.acc != 7", ["end_time DESC"])],
)
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_paging_covers_everything_once(sample_conn, exp_ids, filter_string, order_by, page_size):
    everything, no_more = search(sample_conn, exp_ids, filter_string, order_by)
    assert no_more is None and everything
    pages, token = [], None
    while True:
        page, token = search(sample_conn, exp_ids, filter_string, order_by, max_results=page_size, token=token)
        assert 0 < len(page) <= page_size
        pages.append(page)
        if token is None:
            break
        assert len(pages) <= len(everything), "paging does not end"
    assert [run for page in pages for run in page] == everything
    assert all(len(page) == page_size for page in pages[:-1])


def test_page_exactly_filling_the_results_has_no_next_token(sample_conn, exp_ids):
    everything, _ = search(sample_conn, exp_ids)
    assert search(sample_conn, exp_ids, max_results=len(everything)) == (everything, None)
    first, token = search(sample_conn, exp_ids, max_results=len(everything) - 1)
    assert token is not None
    assert search(sample_conn, exp_ids, max_results=len(everything) - 1, token=token) == (everything[-1:], None)


def test_no_limit(sample_conn, exp_ids):
    assert search(sample_conn, exp_ids, max_results=None) == search(sample_conn, exp_ids)


@pytest.mark.parametrize(
    "view, filter_string, expected",
    [
        ("ACTIVE_ONLY", "tags.team = 'Vision'", "01 06"),
        ("DELETED_ONLY", None, "05"),
        ("DELETED_ONLY", "metrics.acc > 0.9", "05"),
        ("ALL", None, "01 02 03 04 05 06"),
        ("ALL", "tags.team = 'Vision'", "01 05 06"),
        ("ALL", "metrics.acc > 0.9", "05"),
    ],
)
def test_run_view_type(sample_conn, exp_ids, sample_runs, view, filter_string, expected):
    assert set(search(sample_conn, exp_ids, filter_string, view=view)[0]) == set(ids(expected))
    assert mlflow_filter(sample_runs, filter_string, view) == set(ids(expected))


def test_only_the_given_experiments_are_searched(sample_conn, exp_ids):
    def run_ids(names):
        return search_run_ids(sample_conn, experiment_ids=[exp_ids[n] for n in names], filter_string=None,
                              run_view_type="ALL", max_results=100, order_by=None, page_token=None)[0]

    assert run_ids(["Beta-exp"]) == ["run06"]
    assert run_ids(["other-project"]) == ["run07"]
    assert run_ids([]) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(filter_string="metrics.acc > 0.5 OR params.a = 'b'"), "Invalid clause(s) in filter string: 'OR'"),
        (dict(order_by=["metrics.acc sideways"]), "Invalid ordering key in order_by clause 'metrics.acc sideways'."),
        (dict(max_results=0), "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer"),
        (dict(max_results=50001), "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000"),
        (dict(token="abc"), "Invalid page token, could not base64-decode"),
    ],
)
def test_bad_requests(sample_conn, exp_ids, kwargs, message):
    with pytest.raises(MlflowError) as info:
        search(sample_conn, exp_ids, **kwargs)
    assert info.value.message == message
    assert info.value.http_status == 400


def test_filter_values_are_bound_not_spliced(sample_conn, exp_ids):
    assert search(sample_conn, exp_ids, "params.lr = '0.01'' OR 1=1 --'")[0] == []
    assert search(sample_conn, exp_ids, "tags.`team' OR '1'='1` = 'x'")[0] == []
