"""A realistic training script, as a data scientist writes it: the fluent MLflow API only.

The tracking server comes from MLFLOW_TRACKING_URI (as in a CI job); the experiment name from
E2E_EXPERIMENT_NAME (so that several test modules can share one server). Everything logged is
deterministic (seeded) except ids and timestamps, so that two servers fed by this script can be
compared. Prints a JSON summary on the last line of stdout.

Runs (in creation order; every run starts at least a few ms after the previous one):
  baseline            FINISHED  params, metric histories, tags, all kinds of artifacts, datasets
    baseline-fold-0   FINISHED  nested
    baseline-fold-1   FINISHED  nested
  <generated name>    FINISHED  unnamed; NaN / +inf / -inf metric values
  diverged            FAILED
  interrupted         KILLED
  Tuned-Model         FINISHED
  discarded           FINISHED, then deleted
"""
from __future__ import annotations

import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import pandas as pd  # noqa: E402

EXPERIMENT = os.environ.get("E2E_EXPERIMENT_NAME", "e2e-train")
HISTORY_POINTS = 120  # more than one page of get_metric_history in the tests
BASE_TS = 1_700_000_000_000  # explicit timestamps where the order of points is under test


def pause():
    """Distinct start times, so that MLflow's start_time tie-break makes orderings deterministic."""
    time.sleep(0.02)


def iris_like_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame({
        "sepal_length": [round(rng.uniform(4, 8), 2) for _ in range(rows)],
        "sepal_width": [round(rng.uniform(2, 4.5), 2) for _ in range(rows)],
        "label": [rng.choice(["setosa", "versicolor", "virginica"]) for _ in range(rows)],
    })


def write_output_folder(root: Path) -> None:
    """outputs/ with nested subfolders, text and binary files."""
    rng = random.Random(7)
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "summary.txt").write_text("accuracy: 0.91\nloss: 0.20\n")
    (root / "sub" / "weights.bin").write_bytes(rng.randbytes(150_000))
    (root / "sub" / "deeper" / "layers.json").write_text(json.dumps({"layers": [64, 32, 3]}))
    (root / "sub" / "deeper" / "empty.txt").write_bytes(b"")


def loss_figure(values):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(range(len(values)), values)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    return fig


def main() -> dict:
    experiment = mlflow.set_experiment(EXPERIMENT)
    mlflow.set_experiment_tags({"owner": "e2e", "purpose": "acceptance", "team": "vision"})
    runs: dict[str, str] = {}
    train_df = iris_like_frame(50, seed=1)
    eval_df = iris_like_frame(20, seed=2)
    train_ds = mlflow.data.from_pandas(
        train_df, source="https://example.com/data/iris-train.csv", name="iris-train", targets="label"
    )
    eval_ds = mlflow.data.from_pandas(
        eval_df, source="https://example.com/data/iris-eval.csv", name="iris-eval", targets="label"
    )

    # ------------------------------------------------------------------ baseline (+ nested folds)
    with mlflow.start_run(run_name="baseline") as run:
        runs["baseline"] = run.info.run_id
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"optimizer": "sgd", "epochs": 10, "model.type": "cnn"})
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev", "data-version": "v1", "note": "first try"})
        losses = []
        for step in range(10):
            loss = round(1.0 / (step + 1) + 0.1, 4)
            losses.append(loss)
            mlflow.log_metrics({"loss": loss, "accuracy": round(0.5 + step * 0.045, 4)}, step=step)
        mlflow.log_metric("val loss", 0.25, step=9)
        for i in range(HISTORY_POINTS):
            mlflow.log_metric("batch_loss", round(2.0 - i * 0.01, 4), step=i, timestamp=BASE_TS + i)
        # points logged out of step order: history comes back by timestamp, then step
        for i, step in enumerate([5, 3, 9, 1, 3]):
            mlflow.log_metric("shuffled", float(step * 10 + i), step=step, timestamp=BASE_TS + 1000 + i)

        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            card = tmp / "model_card.md"
            card.write_text("# Baseline\n\nA small CNN. Unicode: äöü ✓\n", encoding="utf-8")
            mlflow.log_artifact(str(card))
            mlflow.log_artifact(str(card), artifact_path="docs")
            outputs = tmp / "outputs"
            write_output_folder(outputs)
            mlflow.log_artifacts(str(outputs), artifact_path="outputs")
        mlflow.log_dict({"lr": 0.1, "layers": [64, 32, 3]}, "config/params.json")
        mlflow.log_dict({"lr": 0.1, "optimizer": "sgd"}, "config/params.yaml")
        mlflow.log_text("trained for 10 epochs\n", "notes/log.txt")
        fig = loss_figure(losses)
        mlflow.log_figure(fig, "plots/loss.png", save_kwargs={"metadata": {"Software": None}})
        plt.close(fig)
        mlflow.log_input(train_ds, context="training")
        mlflow.log_input(eval_ds, context="eval")

        for fold in range(2):
            pause()
            with mlflow.start_run(run_name=f"baseline-fold-{fold}", nested=True) as child:
                runs[f"baseline-fold-{fold}"] = child.info.run_id
                mlflow.log_param("fold", fold)
                mlflow.log_metric("fold_score", 0.8 + fold * 0.05)
                mlflow.set_tag("fold", str(fold))

    # ------------------------------------------------------------------ unnamed, odd values
    pause()
    with mlflow.start_run() as run:
        runs["unnamed"] = run.info.run_id
        mlflow.log_params({"lr": 0.01, "optimizer": "adam", "epochs": 20})
        mlflow.set_tags({"team": "nlp", "stage": "prod"})
        for step in range(5):
            mlflow.log_metrics({"loss": round(0.9 - step * 0.15, 4), "accuracy": round(0.6 + step * 0.07, 4)},
                               step=step)
        mlflow.log_metric("nan_metric", math.nan)
        mlflow.log_metric("pos_inf", math.inf)
        mlflow.log_metric("neg_inf", -math.inf)
        for step, value in enumerate([1.0, math.nan, math.inf, -math.inf, 2.0]):
            mlflow.log_metric("wild", value, step=step, timestamp=BASE_TS + step)
        mlflow.log_text("unnamed run\n", "notes/log.txt")
        mlflow.log_input(train_ds, context="training")

    # ------------------------------------------------------------------ failed
    pause()
    mlflow.start_run(run_name="diverged")
    runs["diverged"] = mlflow.active_run().info.run_id
    mlflow.log_params({"lr": 0.5, "optimizer": "sgd", "epochs": 10})
    mlflow.set_tags({"team": "vision", "stage": "dev"})
    mlflow.log_metrics({"loss": 3.5, "accuracy": 0.1}, step=0)
    mlflow.log_metrics({"loss": 12.25, "accuracy": 0.05}, step=1)
    mlflow.log_input(train_ds, context="training")
    mlflow.end_run(status="FAILED")

    # ------------------------------------------------------------------ killed
    pause()
    mlflow.start_run(run_name="interrupted")
    runs["interrupted"] = mlflow.active_run().info.run_id
    mlflow.log_params({"lr": 0.05, "optimizer": "Adam"})
    mlflow.set_tag("stage", "dev")
    mlflow.log_metric("loss", 0.7, step=0)
    mlflow.end_run(status="KILLED")

    # ------------------------------------------------------------------ another finished run
    pause()
    with mlflow.start_run(run_name="Tuned-Model") as run:
        runs["Tuned-Model"] = run.info.run_id
        mlflow.log_params({"lr": 0.001, "optimizer": "adamw", "epochs": 30, "model.type": "transformer"})
        mlflow.set_tags({"team": "NLP", "stage": "prod", "data-version": "v2"})
        mlflow.log_metrics({"loss": 0.05, "accuracy": 0.97, "val loss": 0.08}, step=29)
        mlflow.log_input(eval_ds, context="eval")

    # ------------------------------------------------------------------ deleted
    pause()
    with mlflow.start_run(run_name="discarded") as run:
        runs["discarded"] = run.info.run_id
        mlflow.log_param("lr", 0.3)
        mlflow.log_metric("loss", 5.0)
        mlflow.set_tag("team", "vision")
    mlflow.delete_run(runs["discarded"])

    return {
        "experiment_id": experiment.experiment_id,
        "experiment_name": EXPERIMENT,
        "runs": runs,
        "train_digest": train_ds.digest,
        "eval_digest": eval_ds.digest,
        "history_points": HISTORY_POINTS,
        "base_ts": BASE_TS,
    }


if __name__ == "__main__":
    summary = main()
    sys.stdout.write("\n" + json.dumps(summary) + "\n")
