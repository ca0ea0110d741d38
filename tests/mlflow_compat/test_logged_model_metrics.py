"""Metrics logged with model_id= belong to the logged model too, and search_logged_models finds
models by them and by the datasets they were measured on: side by side on `mlflow server` and
mltracker, through the stock client."""
from __future__ import annotations

import uuid

import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, Metric

from tests.e2e.helpers import tracking_uri_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def models(side_by_side):
    with tracking_uri_env(side_by_side.url):
        client = MlflowClient(side_by_side.url)
        experiment_id = client.create_experiment(f"lm-metrics-{uuid.uuid4().hex[:8]}")
        run_id = client.create_run(experiment_id).info.run_id
        client.log_inputs(run_id, [DatasetInput(Dataset("val", "dv1", "local", "/d/val")),
                                   DatasetInput(Dataset("test", "dt1", "local", "/d/test"))])
        good = client.create_logged_model(experiment_id, name="good", source_run_id=run_id).model_id
        poor = client.create_logged_model(experiment_id, name="poor", source_run_id=run_id).model_id
        bare = client.create_logged_model(experiment_id, name="bare").model_id
        client.log_metric(run_id, "acc", 0.70, timestamp=10, step=1, model_id=good, dataset_name="val",
                          dataset_digest="dv1")
        client.log_metric(run_id, "acc", 0.95, timestamp=20, step=2, model_id=good, dataset_name="val",
                          dataset_digest="dv1")
        client.log_batch(run_id, metrics=[
            Metric("acc", 0.60, 30, 2, model_id=poor, dataset_name="test", dataset_digest="dt1"),
            Metric("loss", 1.5, 30, 2, model_id=poor),
        ])
        yield client, experiment_id, run_id, {"good": good, "poor": poor, "bare": bare}


def _names(found, ids) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[m.model_id] for m in found]


def test_model_metrics_are_on_the_logged_model_and_the_run(models):
    client, _, run_id, ids = models
    good = client.get_logged_model(ids["good"])
    points = sorted((m.key, m.value, m.timestamp, m.step, m.dataset_name, m.dataset_digest, m.run_id, m.model_id)
                    for m in good.metrics)
    assert points == [("acc", 0.70, 10, 1, "val", "dv1", run_id, ids["good"]),
                      ("acc", 0.95, 20, 2, "val", "dv1", run_id, ids["good"])]
    poor = client.get_logged_model(ids["poor"])
    assert sorted((m.key, m.value, m.dataset_name) for m in poor.metrics) == [("acc", 0.60, "test"),
                                                                             ("loss", 1.5, None)]
    assert client.get_logged_model(ids["bare"]).metrics == []
    run = client.get_run(run_id)
    assert run.data.metrics["acc"] == 0.60 and run.data.metrics["loss"] == 1.5


VAL = {"dataset_name": "val", "dataset_digest": "dv1"}
TEST = {"dataset_name": "test", "dataset_digest": "dt1"}


@pytest.mark.parametrize("filter_string,datasets,order_by,expected", [
    ("metrics.acc > 0.8", None, None, ["good"]),
    ("metrics.acc > 0.5", [TEST], None, ["poor"]),
    ("metrics.acc < 0.65", [VAL], None, []),
    (None, [VAL], None, ["good"]),
    (None, [{**VAL, "dataset_digest": "other"}], None, []),
    # without a digest, a dataset matches only metrics logged without one (as mlflow server does)
    (None, [{"dataset_name": "val"}], None, []),
    (None, [VAL, TEST], [{"field_name": "metrics.acc", "ascending": False}], ["good", "poor"]),
    (None, None, [{"field_name": "metrics.acc", "ascending": True}], ["poor", "good", "bare"]),
    (None, None, [{"field_name": "metrics.loss", "ascending": False}], ["poor", "good", "bare"]),
    ("metrics.loss >= 1.5", None, None, ["poor"]),
])
def test_search_by_model_metrics_and_datasets(models, filter_string, datasets, order_by, expected):
    client, experiment_id, _, ids = models
    found = client.search_logged_models([experiment_id], filter_string=filter_string, datasets=datasets,
                                        order_by=order_by)
    if order_by is None or order_by[0]["field_name"] == "metrics.loss":
        assert sorted(_names(found, ids)) == sorted(expected)
    else:
        assert _names(found, ids) == expected
