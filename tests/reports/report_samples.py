"""Representative report inputs shared by the tests (and handy to look at rendered output)."""
from __future__ import annotations

import math

from mltracker.reports import BaselineData, CandidateData, ExperimentData
from mltracker.service.comparison.rules import ComparisonRules

RULES = ComparisonRules()  # the rules the service applies to an untagged experiment


def _curve(start: float, end: float, steps: int = 20, wiggle: float = 0.0) -> list[tuple[int, float]]:
    points = []
    for i in range(steps):
        t = i / (steps - 1)
        points.append((i * 100, start + (end - start) * (1 - math.exp(-4 * t)) + wiggle * math.sin(i)))
    return points


def candidate(name: str, acc: float, loss: float, lr: str, **extra) -> CandidateData:
    metrics = {"val_acc": acc, "val_loss": loss, "train_loss": loss * 0.8, "epoch_time_s": extra.pop("time", 62.5)}
    metrics.update(extra.pop("metrics", {}))
    return CandidateData(
        run_id=f"run-{name}",
        name=name,
        metrics=metrics,
        params={"lr": lr, "batch_size": "64", "optimizer": extra.pop("optimizer", "adam")},
        history={"val_acc": _curve(0.5, acc, wiggle=0.003), "val_loss": _curve(1.2, loss, wiggle=0.01)},
        metric_order=["val_acc", "val_loss", "train_loss", "epoch_time_s"],
        ui_url=f"https://mltracker.example.com/projects/7/candidates/run-{name}",
        job_url=f"https://gitlab.example.com/ml/cls/-/jobs/{extra.pop('job', 1000)}",
        **extra,
    )


def pipeline_experiment() -> ExperimentData:
    """Three candidates against `main`: one better, one worse, one failed with a missing metric."""
    base = candidate("resnet-main", 0.912, 0.301, "0.1", time=64.0, duration_s=3725)
    return ExperimentData(
        name="cls-resnet",
        rules=ComparisonRules({"mltracker.primary_metric": "val_acc"}),
        baseline=BaselineData("main", base, "https://gitlab.example.com/ml/cls/-/pipelines/100"),
        candidates=[
            candidate("lr-0.01", 0.931, 0.254, "0.01", duration_s=3602, job=1001),
            candidate("lr-0.001", 0.9051, 0.322, "0.001", time=61.0, duration_s=3550, job=1002),
            CandidateData(
                run_id="run-sgd", name="lr-0.1-sgd", status="FAILED",
                metrics={"val_acc": 0.4, "val_loss": float("nan")},
                params={"lr": "0.1", "batch_size": "64", "optimizer": "sgd"},
                history={"val_acc": _curve(0.5, 0.4, steps=8)},
                ui_url="https://mltracker.example.com/projects/7/candidates/run-sgd",
                job_url="https://gitlab.example.com/ml/cls/-/jobs/1003",
                duration_s=42.3,
            ),
        ],
        ui_url="https://mltracker.example.com/projects/7/experiments/3",
    )


def no_baseline_experiment() -> ExperimentData:
    """First pipeline of a project: two candidates, lower-is-better primary metric, no baseline."""
    def run(name: str, rmse: float, mae: float, depth: str, rows: float) -> CandidateData:
        return CandidateData(
            run_id=f"run-{name}", name=name,
            metrics={"test/rmse": rmse, "test/mae": mae, "rows_seen": rows},
            params={"max_depth": depth, "n_estimators": "500"},
            history={"test/rmse": [(s, rmse + 2.0 / (s + 1)) for s in range(0, 50, 5)]},
            metric_order=["test/rmse", "test/mae", "rows_seen"],
            ui_url=f"https://mltracker.example.com/projects/7/candidates/run-{name}",
            job_url=None,
        )
    return ExperimentData(
        name="house-prices",
        candidates=[run("depth-6", 0.123456, 0.0812, "6", 1_250_000), run("depth-8", 0.123449, 0.0799, "8", 1_250_000)],
        rules=RULES,
    )


def hostile_experiment() -> ExperimentData:
    """Every user-controlled string tries something."""
    evil = CandidateData(
        run_id="run-evil",
        name="@admin|`x`[a](https://e.vil)</details>",
        metrics={"acc|<b>": 0.5, "loss\n/close": 0.2},
        params={"note": "line1\n/merge\n@all #1 ~bug", "lr": "0.1"},
        metric_order=["acc|<b>", "loss\n/close"],
        ui_url="javascript:alert(1)",
        job_url="https://gitlab.example.com/jobs/1) [x](https://evil.example",
    )
    base = CandidateData(run_id="run-base", name="base", metrics={"acc|<b>": 0.4, "loss\n/close": 0.3},
                         params={"note": "plain", "lr": "0.1"})
    return ExperimentData(
        name="exp <img src=x onerror=alert(1)> @group",
        candidates=[evil],
        baseline=BaselineData("main @dev `", base, None),
        rules=ComparisonRules({"mltracker.direction.acc|<b>": "sideways"}),
    )


def genai_experiment() -> ExperimentData:
    """Two prompt variants evaluated with `mlflow.genai.evaluate` against `main`'s: scorer means
    (pass rates for pass/fail scorers) compared like any metric, higher is better for scorers even
    when their names suggest otherwise, a configured direction winning, and links to each
    evaluation's failing examples."""
    scorers = frozenset({"correctness/mean", "latency_ok/mean", "response_time_s/mean"})

    def evaluation(name: str, correctness: float, latency_ok: float, seconds: float, prompt: str,
                   job: int | None) -> CandidateData:
        return CandidateData(
            run_id=f"run-{name}", name=name,
            metrics={"correctness/mean": correctness, "latency_ok/mean": latency_ok,
                     "response_time_s/mean": seconds},
            params={"prompt_version": prompt},
            metric_order=["correctness/mean", "latency_ok/mean", "response_time_s/mean"],
            ui_url=f"https://mltracker.example.com/projects/7/candidates/run-{name}",
            job_url=f"https://gitlab.example.com/ml/bot/-/jobs/{job}" if job else None,
            duration_s=95,
            failing_examples_url=f"https://mltracker.example.com/projects/7/candidates/run-{name}/traces"
                                 "?assessment=failing",
        )

    return ExperimentData(
        name="support-bot-eval",
        rules=ComparisonRules({"mltracker.direction.response_time_s/mean": "min"}, scorer_metrics=scorers),
        baseline=BaselineData("main", evaluation("prompt-v3", 0.75, 1.0, 1.8, "v3", None),
                              "https://gitlab.example.com/ml/bot/-/pipelines/200"),
        candidates=[
            evaluation("prompt-v4", 0.875, 1.0, 2.1, "v4", 2001),
            evaluation("prompt-v4-short", 0.625, 0.875, 1.2, "v4-short", 2002),
        ],
        ui_url="https://mltracker.example.com/projects/7/experiments/5",
    )
