"""A training loop logging one call per step through the stock client, synchronously and with
MLFLOW_ENABLE_ASYNC_LOGGING=true (the client batches the calls in the background): every step,
param and tag is stored, on SQLite and PostgreSQL."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.e2e.helpers import run_script, unique

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).with_name("train_loop.py")
STEPS = 200


@pytest.mark.parametrize("async_logging", ["false", "true"])
def test_every_step_of_a_training_loop_is_stored(live_server, tmp_path, async_logging):
    summary = run_script(sys.executable, SCRIPT, live_server.url, tmp_path, E2E_EXPERIMENT_NAME=unique("loop"),
                         TRAIN_LOOP_STEPS=str(STEPS), MLFLOW_ENABLE_ASYNC_LOGGING=async_logging)
    client = MlflowClient(live_server.url)
    run_id = summary["run_id"]
    loss = client.get_metric_history(run_id, "loss")
    assert sorted((m.step, m.value) for m in loss) == [(s, 1.0 / (s + 1)) for s in range(STEPS)]
    accuracy = client.get_metric_history(run_id, "accuracy")
    assert sorted(m.step for m in accuracy) == list(range(STEPS))
    run = client.get_run(run_id)
    assert run.data.metrics == {"loss": 1.0 / STEPS, "accuracy": (STEPS - 1) / STEPS}
    assert run.data.params == {f"layer_{s}": f"width-{s}" for s in range(STEPS)}
    assert {k: v for k, v in run.data.tags.items() if k.startswith("checkpoint_")} == {
        f"checkpoint_{s}": f"ckpt-{s}.pt" for s in range(STEPS)}
    if async_logging == "true":
        # The client sends its batches from several threads at once: the last one to arrive wins.
        assert run.data.tags["epoch"] in {str(s) for s in range(STEPS)}
    else:
        assert run.data.tags["epoch"] == str(STEPS - 1)
    assert run.info.status == "FINISHED"
