"""Evaluation datasets through the stock client (`mlflow.genai.datasets`), side by side on
`mlflow server` and mltracker (SQLite + local folder, PostgreSQL + S3)."""
from __future__ import annotations

import uuid

import pytest
from mlflow.exceptions import MlflowException, RestException

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e

QUESTIONS = [
    {"inputs": {"question": "What is 2+2?"}, "expectations": {"expected_response": "4"}},
    {"inputs": {"question": "Capital of France?"}, "expectations": {"expected_response": "Paris"},
     "tags": {"topic": "geo"}},
    {"inputs": {"question": "Colour of the sky?", "context": ["daytime"]}, "outputs": "blue"},
]


@pytest.fixture
def genai(side_by_side):
    from mlflow import MlflowClient

    with tracking_uri_env(side_by_side.url):
        client = MlflowClient(side_by_side.url)
        yield client, client.create_experiment(f"eval-ds-{uuid.uuid4().hex[:8]}")


def test_dataset_round_trip(genai):
    from mlflow.genai import datasets

    client, experiment_id = genai
    name = f"qa-{uuid.uuid4().hex[:8]}"
    created = datasets.create_dataset(name=name, experiment_id=experiment_id, tags={"team": "qa"})
    assert created.name == name and created.dataset_id.startswith("d-")
    assert created.tags["team"] == "qa" and created.created_by == created.tags["mlflow.user"]

    created.merge_records(QUESTIONS)
    fetched = datasets.get_dataset(dataset_id=created.dataset_id)
    assert fetched.name == name
    assert fetched.experiment_ids == [experiment_id]
    assert fetched.profile is not None and '"num_records": 3' in fetched.profile
    assert fetched.digest != created.digest
    frame = fetched.to_df().sort_values("inputs", key=lambda c: c.map(str)).reset_index(drop=True)
    assert [r["question"] for r in frame["inputs"]] == ["Capital of France?", "Colour of the sky?", "What is 2+2?"]
    assert frame["expectations"][0] == {"expected_response": "Paris"}
    assert frame["outputs"][1] == "blue"
    assert frame["tags"][0]["topic"] == "geo"

    # Same inputs again: the record is updated (expectations merged), not duplicated.
    fetched.merge_records([{"inputs": {"question": "What is 2+2?"}, "expectations": {"difficulty": "easy"}}])
    again = datasets.get_dataset(dataset_id=created.dataset_id).to_df()
    assert len(again) == 3
    two_plus_two = next(r for r in again.to_dict("records") if r["inputs"] == {"question": "What is 2+2?"})
    assert two_plus_two["expectations"] == {"expected_response": "4", "difficulty": "easy"}

    by_name = datasets.get_dataset(name=name)
    assert by_name.dataset_id == created.dataset_id

    datasets.set_dataset_tags(created.dataset_id, {"stage": "gold", "team": "eval"})
    datasets.delete_dataset_tag(created.dataset_id, "stage")
    tags = datasets.get_dataset(dataset_id=created.dataset_id).tags
    assert tags["team"] == "eval" and "stage" not in tags

    datasets.delete_dataset(dataset_id=created.dataset_id)
    with pytest.raises(MlflowException, match="not found"):
        datasets.get_dataset(dataset_id=created.dataset_id)


def test_records_page_through_the_client(genai):
    from mlflow import MlflowClient

    client, experiment_id = genai
    created = client.create_dataset(name=f"pages-{uuid.uuid4().hex[:8]}", experiment_id=[experiment_id])
    store = client._tracking_client.store
    inserted = store.upsert_dataset_records(
        created.dataset_id, [{"inputs": {"n": n}, "outputs": {"double": 2 * n}} for n in range(7)])
    assert inserted == {"inserted": 7, "updated": 0}
    seen, token = [], None
    while True:
        page, token = store._load_dataset_records(created.dataset_id, max_results=3, page_token=token)
        assert len(page) <= 3
        seen += [r.inputs["n"] for r in page]
        if not token:
            break
    assert sorted(seen) == list(range(7)) and len(seen) == 7
    removed = store.delete_dataset_records(created.dataset_id, [page[0].dataset_record_id])
    assert removed == 1
    records, _ = store._load_dataset_records(created.dataset_id)
    assert len(records) == 6
    assert isinstance(MlflowClient, type)


def test_search_and_experiment_links(genai):
    from mlflow.genai import datasets

    client, experiment_id = genai
    other = client.create_experiment(f"eval-ds-other-{uuid.uuid4().hex[:8]}")
    prefix = f"srch-{uuid.uuid4().hex[:6]}"
    a = datasets.create_dataset(name=f"{prefix}-a", experiment_id=experiment_id, tags={"env": "prod"})
    b = datasets.create_dataset(name=f"{prefix}-b", experiment_id=experiment_id, tags={"env": "dev"})
    c = datasets.create_dataset(name=f"{prefix}-c", experiment_id=other)

    found = datasets.search_datasets(experiment_ids=[experiment_id], filter_string=f"name LIKE '{prefix}%'",
                                     order_by=["name ASC"])
    assert [d.name for d in found] == [f"{prefix}-a", f"{prefix}-b"]
    prod = datasets.search_datasets(filter_string=f"tags.env = 'prod' AND name LIKE '{prefix}%'")
    assert [d.dataset_id for d in prod] == [a.dataset_id]
    everything = datasets.search_datasets(filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"],
                                          max_results=2)
    assert [d.name for d in everything] == [f"{prefix}-c", f"{prefix}-b"]
    paged = client.search_datasets(filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"], max_results=2)
    assert [d.name for d in paged] == [f"{prefix}-a", f"{prefix}-b"] and paged.token
    rest = client.search_datasets(filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"], max_results=2,
                                  page_token=paged.token)
    assert [d.name for d in rest] == [f"{prefix}-c"] and not rest.token

    linked = datasets.add_dataset_to_experiments(c.dataset_id, [experiment_id])
    assert sorted(linked.experiment_ids) == sorted([experiment_id, other])
    unlinked = datasets.remove_dataset_from_experiments(c.dataset_id, [other])
    assert unlinked.experiment_ids == [experiment_id]
    assert {d.dataset_id for d in datasets.search_datasets(experiment_ids=[other])} == set()
    assert b.dataset_id in {d.dataset_id for d in datasets.search_datasets(experiment_ids=[experiment_id])}


def test_bad_requests_answer_in_mlflow_format(genai):
    from mlflow.genai import datasets

    client, experiment_id = genai
    with pytest.raises(MlflowException, match="Invalid attribute key"):
        datasets.search_datasets(filter_string="colour = 'red'")
    with pytest.raises(RestException) as missing:
        client.set_dataset_tags("d-0123456789abcdef0123456789abcdef", {"a": "b"})
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
