"""The evaluation-dataset and scorer domains on SQLite and PostgreSQL: project scoping (another
project's dataset or scorer reads as missing), record merging, and refused input."""
from __future__ import annotations

import json

import pytest

from mltracker.service.errors import MlflowError
from mltracker.service.evaluation_datasets import records, search, store
from mltracker.service.scorers import store as scorers
from tests import factories
from tests.factories import PROJECT


def test_another_projects_dataset_and_scorer_read_as_missing(conn):
    mine, theirs = PROJECT, PROJECT + 1
    experiment = factories.experiment(conn, "evals", project=mine)
    dataset_id = store.create(conn, mine, "qa", {}, [experiment])
    scorers.register(conn, mine, experiment, "exact", '{"name": "exact"}')
    for action in (
        lambda: store.get_row(conn, theirs, dataset_id),
        lambda: store.set_tags(conn, theirs, dataset_id, {"a": "b"}),
        lambda: records.upsert(conn, theirs, dataset_id, [{"inputs": {"q": 1}}]),
        lambda: records.page(conn, theirs, dataset_id, None, None),
        lambda: store.add_experiments(conn, theirs, dataset_id, []),
        lambda: store.resolve_experiments(conn, theirs, [str(experiment)]),
        lambda: scorers.list_latest(conn, theirs, experiment),
        lambda: scorers.get(conn, theirs, experiment, "exact", None),
    ):
        with pytest.raises(MlflowError) as refused:
            action()
        assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    rows, _ = search.search(conn, theirs, None, None, None, None, None)
    assert rows == []
    store.delete_dataset(conn, theirs, dataset_id)  # idempotent, and leaves the owner's dataset alone
    assert store.get_row(conn, mine, dataset_id).name == "qa"


def test_records_with_the_same_inputs_merge_in_one_request_and_across_requests(conn):
    project = PROJECT
    dataset_id = store.create(conn, project, "merge", {}, [])
    first_digest = store.get_row(conn, project, dataset_id).digest
    inserted, updated = records.upsert(conn, project, dataset_id, [
        {"inputs": {"q": "a", "n": 1}, "expectations": {"x": 1}},
        {"inputs": {"n": 1, "q": "a"}, "expectations": {"y": 2}, "outputs": "A"},
        {"inputs": {"q": "b"}},
    ])
    assert (inserted, updated) == (2, 1)
    assert records.upsert(conn, project, dataset_id, [{"inputs": {"q": "b"}, "tags": {"t": "1"}}]) == (0, 1)
    page, token = records.page(conn, project, dataset_id, None, None)
    row = store.get_row(conn, project, dataset_id)
    assert token is None and len(page) == 2
    by_q = {r.inputs["q"]: r for r in page}
    assert by_q["a"].expectations == {"x": 1, "y": 2} and by_q["a"].outputs == "A"
    assert by_q["b"].tags == {"t": "1"} and by_q["b"].outputs == {}
    assert json.loads(row.profile) == {"num_records": 2} and row.digest != first_digest
    assert json.loads(row.schema)["inputs"] == {"q": "string", "n": "integer"}


@pytest.mark.parametrize("call, message", [
    (lambda conn, p, d: records.parse_records("{not json"), "JSON list"),
    (lambda conn, p, d: records.parse_records('[{"inputs": [1]}]'), "inputs must be a JSON object"),
    (lambda conn, p, d: records.upsert(conn, p, d, [{"inputs": {}, "source": {"source_type": "ROBOT"}}]),
     "Invalid dataset record source type"),
    (lambda conn, p, d: records.page(conn, p, d, None, "%%%"), "Invalid page token"),
    (lambda conn, p, d: search.search(conn, p, None, "created_time > 1.5", None, None, None),
     "Invalid value for numeric attribute"),
    (lambda conn, p, d: search.search(conn, p, None, "tags.a > 'x'", None, None, None), "Invalid comparator for tag"),
    (lambda conn, p, d: search.search(conn, p, None, None, None, ["digest ASC"], None), "Invalid attribute key"),
    (lambda conn, p, d: store.parse_tags('["a"]'), "JSON object"),
    (lambda conn, p, d: store.create(conn, p, " ", {}, []), "non-empty"),
    (lambda conn, p, d: scorers.register(conn, p, 10**12, "x", "{}"), "No Experiment"),
])
def test_bad_input_is_refused_with_mlflow_errors(conn, call, message):
    project = PROJECT
    dataset_id = store.create(conn, project, "bad-input", {}, [])
    with pytest.raises(MlflowError, match=message) as refused:
        call(conn, project, dataset_id)
    assert refused.value.error_code in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
