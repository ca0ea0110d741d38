"""Tracking as a user sees it: train.py through the stock mlflow client, then the
results read back with MlflowClient, on SQLite + local folder and on PostgreSQL + S3."""
from __future__ import annotations

import getpass
import hashlib
import json
import math
import re
import sys
import tempfile
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from tests.e2e.helpers import (
    ACTIVE,
    BAD_ORDER_BYS,
    BAD_RUN_FILTERS,
    HERE,
    RUN_FILTERS,
    RUN_ORDERINGS,
    mltracker_only,
    search_names,
    tracking_uri_env,
    unique,
)

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(HERE))
import train  # noqa: E402  (the script itself: its data generators give the expected values)

STATUS = {"baseline": "FINISHED", "baseline-fold-0": "FINISHED", "baseline-fold-1": "FINISHED",
          "unnamed": "FINISHED", "diverged": "FAILED", "interrupted": "KILLED", "Tuned-Model": "FINISHED",
          "discarded": "FINISHED"}

PARAMS = {
    "baseline": {"lr": "0.1", "optimizer": "sgd", "epochs": "10", "model.type": "cnn"},
    "baseline-fold-0": {"fold": "0"},
    "baseline-fold-1": {"fold": "1"},
    "unnamed": {"lr": "0.01", "optimizer": "adam", "epochs": "20"},
    "diverged": {"lr": "0.5", "optimizer": "sgd", "epochs": "10"},
    "interrupted": {"lr": "0.05", "optimizer": "Adam"},
    "Tuned-Model": {"lr": "0.001", "optimizer": "adamw", "epochs": "30", "model.type": "transformer"},
    "discarded": {"lr": "0.3"},
}

LATEST_METRICS = {
    "baseline": {"loss": 0.2, "accuracy": 0.905, "val loss": 0.25, "batch_loss": 0.81, "shuffled": 92.0},
    "baseline-fold-0": {"fold_score": 0.8},
    "baseline-fold-1": {"fold_score": 0.85},
    "unnamed": {"loss": 0.3, "accuracy": 0.88, "nan_metric": math.nan, "pos_inf": math.inf,
                "neg_inf": -math.inf, "wild": 2.0},
    "diverged": {"loss": 12.25, "accuracy": 0.05},
    "interrupted": {"loss": 0.7},
    "Tuned-Model": {"loss": 0.05, "accuracy": 0.97, "val loss": 0.08},
    "discarded": {"loss": 5.0},
}

USER_TAGS = {
    "baseline": {"team": "vision", "stage": "dev", "data-version": "v1", "note": "first try"},
    "baseline-fold-0": {"fold": "0"},
    "baseline-fold-1": {"fold": "1"},
    "unnamed": {"team": "nlp", "stage": "prod"},
    "diverged": {"team": "vision", "stage": "dev"},
    "interrupted": {"stage": "dev"},
    "Tuned-Model": {"team": "NLP", "stage": "prod", "data-version": "v2"},
    "discarded": {"team": "vision"},
}

# MLflow's generated run names: <predicate>-<noun>-<number>, at most 20 characters.
GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,4}$")


def same_number(actual: float, expected: float) -> bool:
    """NaN equals NaN. An infinity may come back as +-DBL_MAX: MLflow's SQL store clamps infinite
    values to the largest finite double when storing them (SqlAlchemyStore._get_metric_value_details),
    so that is what `mlflow server` returns; the differential test pins the exact value."""
    if math.isnan(expected):
        return math.isnan(actual)
    if math.isinf(expected):
        return actual in (expected, math.copysign(sys.float_info.max, expected))
    return actual == expected or math.isclose(actual, expected, rel_tol=1e-12)


def assert_same_numbers(actual: dict, expected: dict):
    assert set(actual) == set(expected)
    for key in expected:
        assert same_number(actual[key], expected[key]), (key, actual[key], expected[key])


# --------------------------------------------------------------------------- runs


@pytest.mark.parametrize("logical", list(STATUS))
def test_run_fields(trained, logical):
    run = trained.runs[logical]
    info = run.info
    start, end = trained.summary["wall_clock"]
    assert info.run_id == trained.id(logical)
    assert info.experiment_id == trained.experiment_id
    assert info.status == STATUS[logical]
    assert info.lifecycle_stage == ("deleted" if logical == "discarded" else "active")
    assert start - 1000 <= info.start_time <= info.end_time <= end + 1000
    if logical == "unnamed":
        assert GENERATED_NAME.match(info.run_name) and len(info.run_name) <= 20, info.run_name
    else:
        assert info.run_name == logical
    assert run.data.tags["mlflow.runName"] == info.run_name
    assert info.user_id == getpass.getuser() == run.data.tags["mlflow.user"]
    assert run.data.tags["mlflow.source.name"].endswith("train.py")
    assert info.artifact_uri


def test_nested_runs_point_to_their_parent(trained):
    for fold in ("baseline-fold-0", "baseline-fold-1"):
        assert trained.runs[fold].data.tags["mlflow.parentRunId"] == trained.id("baseline")
    for top in ("baseline", "unnamed", "diverged", "interrupted", "Tuned-Model"):
        assert "mlflow.parentRunId" not in trained.runs[top].data.tags


def test_run_start_times_follow_creation_order(trained):
    starts = [trained.runs[name].info.start_time for name in ACTIVE]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


@pytest.mark.parametrize("logical", list(PARAMS))
def test_params(trained, logical):
    assert trained.runs[logical].data.params == PARAMS[logical]


@pytest.mark.parametrize("logical", list(LATEST_METRICS))
def test_latest_metrics(trained, logical):
    assert_same_numbers(trained.runs[logical].data.metrics, LATEST_METRICS[logical])


@pytest.mark.parametrize("logical", list(USER_TAGS))
def test_user_tags(trained, logical):
    tags = {k: v for k, v in trained.runs[logical].data.tags.items() if not k.startswith("mlflow.")}
    assert tags == USER_TAGS[logical]


def test_experiment_as_created_by_set_experiment(trained, client):
    exp = client.get_experiment(trained.experiment_id)
    assert exp.name == trained.summary["experiment_name"]
    assert exp.lifecycle_stage == "active"
    assert {k: v for k, v in exp.tags.items() if not k.startswith("mlflow.")} == {
        "owner": "e2e", "purpose": "acceptance", "team": "vision"}
    assert client.get_experiment_by_name(exp.name).experiment_id == exp.experiment_id
    assert client.get_experiment_by_name(unique("no-such-experiment")) is None


# --------------------------------------------------------------------------- metric history


def points(history):
    return [(m.step, m.value) for m in history]


def test_metric_history_in_order(trained, client):
    base = trained.summary["base_ts"]
    loss = client.get_metric_history(trained.id("baseline"), "loss")
    assert points(loss) == [(s, round(1.0 / (s + 1) + 0.1, 4)) for s in range(10)]
    assert all(m.key == "loss" for m in loss)

    batch = client.get_metric_history(trained.id("baseline"), "batch_loss")
    n = trained.summary["history_points"]
    assert [(m.timestamp, m.step, m.value) for m in batch] == [
        (base + i, i, round(2.0 - i * 0.01, 4)) for i in range(n)]

    # by timestamp, not by step; two values at step 3 are both kept
    shuffled = client.get_metric_history(trained.id("baseline"), "shuffled")
    assert points(shuffled) == [(5, 50.0), (3, 31.0), (9, 92.0), (1, 13.0), (3, 34.0)]


def test_metric_history_keeps_nan_and_infinities(trained, client):
    wild = client.get_metric_history(trained.id("unnamed"), "wild")
    expected = [1.0, math.nan, math.inf, -math.inf, 2.0]
    assert [m.step for m in wild] == [0, 1, 2, 3, 4]
    assert all(same_number(m.value, e) for m, e in zip(wild, expected, strict=True)), points(wild)
    (nan,) = client.get_metric_history(trained.id("unnamed"), "nan_metric")
    assert math.isnan(nan.value)


def test_metric_history_unknown_key_is_empty(trained, client):
    assert list(client.get_metric_history(trained.id("baseline"), "never_logged")) == []


@pytest.mark.parametrize("page_size", [1, 25, 119, 120, 1000])
def test_metric_history_pages(trained, client, page_size):
    """The REST store's paged get_metric_history (what MlflowClient uses): every point once, in order."""
    store = client._tracking_client.store
    run_id = trained.id("baseline")
    collected, token, pages = [], None, 0
    while True:
        page = store.get_metric_history(run_id, "batch_loss", max_results=page_size, page_token=token)
        assert len(page) <= page_size
        collected.extend(page)
        pages += 1
        token = page.token
        if not token:
            break
        assert pages < 200, "page tokens never end"
    n = trained.summary["history_points"]
    assert [m.step for m in collected] == list(range(n))
    assert pages == math.ceil(n / page_size) or (n % page_size == 0 and pages == n // page_size + 1)


# --------------------------------------------------------------------------- search_runs


@pytest.mark.parametrize(("filter_string", "expected"), RUN_FILTERS, ids=[f or "<empty>" for f, _ in RUN_FILTERS])
def test_search_runs_filter(trained, client, filter_string, expected):
    got = search_names(client, trained, filter_string)
    assert len(got) == len(set(got))
    assert set(got) == expected


@pytest.mark.parametrize(("filter_string", "order_by", "expected"), RUN_ORDERINGS,
                         ids=[f"{f}|{','.join(o)}" for f, o, _ in RUN_ORDERINGS])
def test_search_runs_order_by(trained, client, filter_string, order_by, expected):
    assert search_names(client, trained, filter_string, order_by=order_by) == expected


@pytest.mark.parametrize(("view", "expected"), [
    (ViewType.ACTIVE_ONLY, set(ACTIVE)),
    (ViewType.DELETED_ONLY, {"discarded"}),
    (ViewType.ALL, set(ACTIVE) | {"discarded"}),
])
def test_search_runs_view_type(trained, client, view, expected):
    assert set(search_names(client, trained, run_view_type=view)) == expected
    # filters apply within the view
    assert set(search_names(client, trained, "params.lr = '0.3'", run_view_type=view)) == expected & {"discarded"}


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 50])
@pytest.mark.parametrize("order_by", [[], ["metrics.loss DESC"], ["params.lr ASC", "attributes.start_time DESC"]])
def test_search_runs_pages_cover_every_run_once(trained, client, page_size, order_by):
    unpaged = search_names(client, trained, order_by=order_by)
    assert len(unpaged) == len(ACTIVE)
    paged, token, pages = [], None, 0
    while True:
        page = client.search_runs([trained.experiment_id], max_results=page_size, order_by=order_by,
                                  page_token=token)
        assert len(page) <= page_size
        paged.extend(trained.logical_name(r.info.run_id) for r in page)
        pages += 1
        token = page.token
        if not token:
            break
        assert pages < 50
    assert paged == unpaged
    assert pages >= math.ceil(len(ACTIVE) / page_size)


@pytest.mark.parametrize(("filter_string", "fragment"), BAD_RUN_FILTERS, ids=[f for f, _ in BAD_RUN_FILTERS])
def test_search_runs_bad_filter(trained, client, filter_string, fragment):
    with pytest.raises(MlflowException) as info:
        search_names(client, trained, filter_string)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert fragment in info.value.message


@pytest.mark.parametrize(("order_by", "fragment"), BAD_ORDER_BYS, ids=[o[0] for o, _ in BAD_ORDER_BYS])
def test_search_runs_bad_order_by(trained, client, order_by, fragment):
    with pytest.raises(MlflowException) as info:
        search_names(client, trained, order_by=order_by)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert fragment in info.value.message


@pytest.mark.parametrize("max_results", [0, -1, 50001])
def test_search_runs_bad_max_results(trained, client, max_results):
    with pytest.raises(MlflowException) as info:
        client.search_runs([trained.experiment_id], max_results=max_results)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_runs_across_experiments_and_unknown_ones(trained, client):
    other = client.create_experiment(unique("other"))
    run = client.create_run(other, run_name="elsewhere")
    client.set_terminated(run.info.run_id)
    both = client.search_runs([trained.experiment_id, other])
    assert {r.info.run_id for r in both} == set(trained.id(n) for n in ACTIVE) | {run.info.run_id}
    assert [r.info.run_name for r in client.search_runs([other])] == ["elsewhere"]


def test_fluent_search_runs_dataframe(trained, client):
    import mlflow

    df = mlflow.search_runs(experiment_ids=[trained.experiment_id], order_by=["attributes.start_time ASC"])
    assert list(df["run_id"]) == [trained.id(n) for n in ACTIVE]
    for column in ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time",
                   "metrics.loss", "metrics.accuracy", "metrics.val loss", "params.lr", "params.optimizer",
                   "params.model.type", "tags.team", "tags.mlflow.runName", "tags.mlflow.parentRunId"]:
        assert column in df.columns, column
    rows = df.set_index("run_id")
    assert list(df["status"]) == [STATUS[n] for n in ACTIVE]
    assert rows.loc[trained.id("diverged"), "params.lr"] == "0.5"
    assert rows.loc[trained.id("diverged"), "metrics.loss"] == 12.25
    assert rows.loc[trained.id("baseline-fold-0"), "tags.mlflow.parentRunId"] == trained.id("baseline")
    assert str(df["start_time"].dtype).startswith("datetime64")
    by_name = mlflow.search_runs(experiment_names=[trained.summary["experiment_name"]],
                                 filter_string="tags.team = 'vision'")
    assert set(by_name["tags.mlflow.runName"]) == {"baseline", "diverged"}


# --------------------------------------------------------------------------- datasets


def test_dataset_inputs_on_the_run(trained):
    import mlflow

    expected = {
        "iris-train": mlflow.data.from_pandas(train.iris_like_frame(50, seed=1),
                                              source="https://example.com/data/iris-train.csv",
                                              name="iris-train", targets="label"),
        "iris-eval": mlflow.data.from_pandas(train.iris_like_frame(20, seed=2),
                                             source="https://example.com/data/iris-eval.csv",
                                             name="iris-eval", targets="label"),
    }
    seen = {}
    for logical, wanted in [("baseline", {("iris-train", "training"), ("iris-eval", "eval")}),
                            ("unnamed", {("iris-train", "training")}),
                            ("diverged", {("iris-train", "training")}),
                            ("Tuned-Model", {("iris-eval", "eval")}),
                            ("interrupted", set())]:
        inputs = trained.runs[logical].inputs.dataset_inputs
        got = set()
        for dataset_input in inputs:
            tags = {t.key: t.value for t in dataset_input.tags}
            got.add((dataset_input.dataset.name, tags["mlflow.data.context"]))
            seen[dataset_input.dataset.name] = dataset_input.dataset
        assert got == wanted, logical
    for name, local in expected.items():
        entity = local._to_mlflow_entity()
        remote = seen[name]
        assert remote.digest == entity.digest == trained.summary[f"{name.split('-')[1]}_digest"]
        assert remote.source_type == entity.source_type == "http"
        assert json.loads(remote.source) == json.loads(entity.source)
        assert json.loads(remote.schema) == json.loads(entity.schema)
        assert json.loads(remote.profile) == json.loads(entity.profile)


# --------------------------------------------------------------------------- artifacts


def expected_baseline_files() -> dict[str, bytes]:
    """The deterministic artifacts of the baseline run, rebuilt the way train.py builds them."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "outputs"
        train.write_output_folder(out)
        files = {f"outputs/{p.relative_to(out).as_posix()}": p.read_bytes() for p in out.rglob("*") if p.is_file()}
    card = "# Baseline\n\nA small CNN. Unicode: äöü ✓\n".encode()
    files.update({"model_card.md": card, "docs/model_card.md": card,
                  "notes/log.txt": b"trained for 10 epochs\n"})
    return files


def test_list_artifacts_nested(trained, client):
    run_id = trained.id("baseline")
    files = expected_baseline_files()
    root = {(a.path, a.is_dir) for a in client.list_artifacts(run_id)}
    assert root == {("config", True), ("docs", True), ("model_card.md", False), ("notes", True),
                    ("outputs", True), ("plots", True)}

    def walk(path=None) -> dict[str, int]:
        sizes = {}
        for info in client.list_artifacts(run_id, path):
            if info.is_dir:
                assert info.file_size is None or info.file_size == 0
                sizes.update(walk(info.path))
            else:
                sizes[info.path] = info.file_size
        return sizes

    sizes = walk()
    assert set(sizes) == set(files) | {"config/params.json", "config/params.yaml", "plots/loss.png"}
    for path, content in files.items():
        # an empty file: MLflow omits file_size (proto3 zero), so the client sees None
        assert (sizes[path] or 0) == len(content), path
    outputs_sub = client.list_artifacts(run_id, "outputs/sub")
    assert [(a.path, a.is_dir) for a in sorted(outputs_sub, key=lambda a: a.path)] == [
        ("outputs/sub/deeper", True), ("outputs/sub/weights.bin", False)]
    assert client.list_artifacts(run_id, "no/such/folder") == []
    assert client.list_artifacts(trained.id("interrupted")) == []


def test_download_artifacts_same_bytes(trained, client, tmp_path):
    import mlflow

    run_id = trained.id("baseline")
    files = expected_baseline_files()
    whole = Path(client.download_artifacts(run_id, "", str(tmp_path / "all")))
    downloaded = {p.relative_to(whole).as_posix(): p.read_bytes() for p in whole.rglob("*") if p.is_file()}
    assert set(downloaded) == set(files) | {"config/params.json", "config/params.yaml", "plots/loss.png"}
    for path, content in files.items():
        assert hashlib.sha256(downloaded[path]).hexdigest() == hashlib.sha256(content).hexdigest(), path
    assert json.loads(downloaded["config/params.json"]) == {"lr": 0.1, "layers": [64, 32, 3]}
    assert b"optimizer: sgd" in downloaded["config/params.yaml"]
    assert downloaded["plots/loss.png"].startswith(b"\x89PNG\r\n\x1a\n")

    folder = Path(client.download_artifacts(run_id, "outputs/sub", str(tmp_path / "sub")))
    assert (folder / "weights.bin").read_bytes() == files["outputs/sub/weights.bin"]
    assert (folder / "deeper" / "empty.txt").read_bytes() == b""
    single = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="outputs/summary.txt",
                                                      dst_path=str(tmp_path / "one")))
    assert single.read_bytes() == files["outputs/summary.txt"]
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/params.json") == {"lr": 0.1, "layers": [64, 32, 3]}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/log.txt") == "trained for 10 epochs\n"
    # the same relative path in another run is another file
    assert mlflow.artifacts.load_text(f"runs:/{trained.id('unnamed')}/notes/log.txt") == "unnamed run\n"


def test_download_missing_artifact_fails(trained, client, tmp_path):
    with pytest.raises(Exception):
        client.download_artifacts(trained.id("baseline"), "no-such-file.txt", str(tmp_path))


# --------------------------------------------------------------------------- lifecycle and edits


def test_delete_and_restore_run(client):
    exp = client.create_experiment(unique("lifecycle"))
    keep = client.create_run(exp, run_name="keep").info.run_id
    gone = client.create_run(exp, run_name="gone").info.run_id
    client.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"
    assert [r.info.run_id for r in client.search_runs([exp])] == [keep]
    assert [r.info.run_id for r in client.search_runs([exp], run_view_type=ViewType.DELETED_ONLY)] == [gone]
    client.restore_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "active"
    assert {r.info.run_id for r in client.search_runs([exp])} == {keep, gone}
    assert client.get_run(gone).info.run_name == "gone"


def test_delete_restore_and_rename_experiment(client):
    name = unique("exp-lifecycle")
    exp = client.create_experiment(name, tags={"k": "v"})
    run = client.create_run(exp).info.run_id
    client.delete_experiment(exp)
    assert client.get_experiment(exp).lifecycle_stage == "deleted"
    assert client.get_experiment_by_name(name).lifecycle_stage == "deleted"
    assert exp not in {e.experiment_id for e in client.search_experiments()}
    assert exp in {e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)}
    with pytest.raises(MlflowException) as info:
        client.create_experiment(name)
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.restore_experiment(exp)
    assert client.get_experiment(exp).lifecycle_stage == "active"
    assert client.get_run(run).info.lifecycle_stage == "active"

    new_name = unique("renamed")
    client.rename_experiment(exp, new_name)
    assert client.get_experiment(exp).name == new_name
    assert client.get_experiment_by_name(new_name).experiment_id == exp
    assert client.get_experiment_by_name(name) is None
    assert client.get_experiment(exp).tags["k"] == "v"


def test_delete_tags(client):
    exp = client.create_experiment(unique("tags"), tags={"keep": "1", "drop": "2"})
    run = client.create_run(exp, tags={"keep": "a", "drop": "b"}).info.run_id
    client.delete_tag(run, "drop")
    tags = client.get_run(run).data.tags
    assert tags["keep"] == "a" and "drop" not in tags
    with pytest.raises(MlflowException) as info:
        client.delete_tag(run, "drop")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_experiment_tag(exp, "drop")
    exp_tags = client.get_experiment(exp).tags
    assert exp_tags["keep"] == "1" and "drop" not in exp_tags
    client.set_tag(run, "drop", "again")
    assert client.get_run(run).data.tags["drop"] == "again"


def test_update_run_name_and_tag_stay_in_sync(client):
    exp = client.create_experiment(unique("rename-run"))
    run = client.create_run(exp, run_name="before").info.run_id
    client.update_run(run, name="after")
    got = client.get_run(run)
    assert got.info.run_name == "after" == got.data.tags["mlflow.runName"]
    client.set_tag(run, "mlflow.runName", "via-tag")
    got = client.get_run(run)
    assert got.info.run_name == "via-tag" == got.data.tags["mlflow.runName"]


# --------------------------------------------------------------------------- search_experiments


@pytest.fixture(scope="module")
def experiment_family(live_server):
    prefix = unique("family")
    client = MlflowClient(live_server.url)
    ids = {
        "alpha": client.create_experiment(f"{prefix}-alpha", tags={"kind": "cnn", "owner": "ana"}),
        "beta": client.create_experiment(f"{prefix}-beta", tags={"kind": "rnn", "owner": "bob"}),
        "gamma": client.create_experiment(f"{prefix}-Gamma", tags={"kind": "cnn"}),
        "deleted": client.create_experiment(f"{prefix}-deleted", tags={"kind": "cnn"}),
    }
    client.delete_experiment(ids["deleted"])
    return prefix, ids


EXPERIMENT_FILTERS = [
    ("", {"alpha", "beta", "gamma"}),
    ("name = '{prefix}-alpha'", {"alpha"}),
    ("name != '{prefix}-alpha'", {"beta", "gamma"}),
    ("name LIKE '%-beta'", {"beta"}),
    ("name LIKE '%-gamma'", set()),
    ("name ILIKE '%-gamma'", {"gamma"}),
    ("attribute.name LIKE '{prefix}-%a'", {"alpha", "beta", "gamma"}),
    ("tags.kind = 'cnn'", {"alpha", "gamma"}),
    ("tags.kind != 'cnn'", {"beta"}),
    ("tags.owner LIKE 'b%'", {"beta"}),
    ("tags.owner ILIKE 'ANA'", {"alpha"}),
    ("tags.`kind` = 'rnn'", {"beta"}),
    ("tags.kind = 'cnn' AND tags.owner = 'ana'", {"alpha"}),
]


@pytest.mark.parametrize(("filter_string", "expected"), EXPERIMENT_FILTERS, ids=[f or "<empty>" for f, _ in EXPERIMENT_FILTERS])
def test_search_experiments_filter(client, experiment_family, filter_string, expected):
    prefix, ids = experiment_family
    scoped = f"name LIKE '{prefix}-%'" + (f" AND {filter_string.format(prefix=prefix)}" if filter_string else "")
    found = client.search_experiments(filter_string=scoped)
    names = {k for k, v in ids.items() if v in {e.experiment_id for e in found}}
    assert names == expected
    assert len(found) == len(expected)


def test_search_experiments_view_order_and_pages(client, experiment_family):
    prefix, ids = experiment_family
    scoped = f"name LIKE '{prefix}-%'"
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=scoped)
    assert [e.experiment_id for e in deleted] == [ids["deleted"]]
    everything = client.search_experiments(view_type=ViewType.ALL, filter_string=scoped, order_by=["name DESC"])
    assert [e.name for e in everything] == [f"{prefix}-{n}" for n in ("deleted", "beta", "alpha", "Gamma")]
    by_id = client.search_experiments(filter_string=scoped, order_by=["experiment_id ASC"])
    assert [e.experiment_id for e in by_id] == [ids["alpha"], ids["beta"], ids["gamma"]]
    paged, token = [], None
    while True:
        page = client.search_experiments(filter_string=scoped, max_results=1, page_token=token,
                                         order_by=["creation_time DESC"])
        paged.extend(e.experiment_id for e in page)
        token = page.token
        if not token:
            break
    assert paged == [ids["gamma"], ids["beta"], ids["alpha"]]


@pytest.mark.parametrize("filter_string", ["name > 'a'", "tags.kind > 'a'", "foo = 'x'", "name = alpha", "attributes.name = 'x'",
                                           "creation_time = 'x'"])
def test_search_experiments_bad_filter(client, filter_string):
    with pytest.raises(MlflowException) as info:
        client.search_experiments(filter_string=filter_string)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# --------------------------------------------------------------------------- projects


@mltracker_only("projects")
def test_projects_are_separate_tracking_spaces(live_server, trained):
    """Local mode: /projects/<id> is another project with its own experiments."""
    other_uri = f"{live_server.url}/projects/7"
    with tracking_uri_env(other_uri):
        other = MlflowClient(other_uri)
        assert other.get_experiment_by_name(trained.summary["experiment_name"]) is None
        exp = other.create_experiment(trained.summary["experiment_name"])
        run = other.create_run(exp, run_name="project-7-run")
        other.log_param(run.info.run_id, "where", "p7")
        assert [r.info.run_name for r in other.search_runs([exp])] == ["project-7-run"]
        with pytest.raises(MlflowException) as info:
            other.get_run(trained.id("baseline"))
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    root = MlflowClient(live_server.url)
    assert root.get_experiment_by_name(trained.summary["experiment_name"]).experiment_id == trained.experiment_id
    with pytest.raises(MlflowException):
        root.get_run(run.info.run_id)
