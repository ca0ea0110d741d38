"""Seed data for the UI tests, written through the domain functions (and the storage port)."""
from __future__ import annotations

import io
import json
import random
import uuid
from dataclasses import dataclass, field

from sqlalchemy import insert

from mltracker.service.artifacts.factory import storage_from_destination
from mltracker.service.db.engine import Database
from mltracker.service.db.migrate import upgrade
from mltracker.service.db.schema import latest_metrics, metrics, params, runs, tags
from mltracker.service.tracking.experiments import artifact_location_for, create_experiment, ensure_default_experiment
from mltracker.service.tracking.runs import MetricPoint, create_run, log_batch, update_run

XSS = "<script>alert(1)</script>"
T0 = 1_760_000_000_000  # a fixed start time, ms

# A small PNG (1x1, red) and other artifact bodies the download tests compare byte for byte.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000"
    "00030101001895c9460000000049454e44ae426082"
)
ARTIFACTS = {
    "model/MLmodel": b"artifact_path: model\nflavors:\n  sklearn:\n    sklearn_version: 1.5.0\n",
    "model/model.pkl": bytes(range(256)) * 40,
    "model/conda/env.yaml": b"name: train\ndependencies:\n  - python=3.11\n",
    "metrics.json": json.dumps({"acc": 0.91, "loss": 0.2, "note": XSS}).encode(),
    "plots/confusion.png": PNG,
    "README.txt": ("Trained on the churn data set.\n" + XSS + "\n").encode(),
}


@dataclass
class Seeded:
    project_id: int
    experiment_id: int
    xss_experiment_id: int
    runs: dict[str, str] = field(default_factory=dict)  # name -> run id
    artifact_run: str = ""
    xss_run: str = ""


def _artifact_key(project_id: int, experiment_id: int, run_id: str, path: str) -> str:
    return f"{project_id}/{experiment_id}/{run_id}/artifacts/{path}"


def seed_demo(backend_uri: str, artifacts_destination: str, project_id: int = 0, n_runs: int = 60,
              ci: bool = True, local: bool = True) -> Seeded:
    db = Database(backend_uri)
    upgrade(db)
    rng = random.Random(7)
    with db.write() as conn:
        if local:
            ensure_default_experiment(conn, project_id, use_alias_id=True)
        exp_id = create_experiment(conn, project_id, "churn-model", tags=[
            {"key": "mltracker.primary_metric", "value": "acc"}])
        xss_exp = create_experiment(conn, project_id, "exp " + XSS)
        seeded = Seeded(project_id, exp_id, xss_exp)
        for i in range(n_runs):
            name = f"run-{i:03d}"
            run_id = create_run(conn, project_id, exp_id, "alice", T0 + i * 60_000,
                                [{"key": "mlflow.user", "value": "alice"},
                                 {"key": "mlflow.source.name", "value": "train.py"}], name)
            lr = ["0.01", "0.1", "0.001"][i % 3]
            acc_final = round(0.70 + 0.25 * (i / max(n_runs - 1, 1)) + rng.uniform(-0.01, 0.01), 4)
            points = []
            for step in range(10):
                acc = acc_final - (9 - step) * 0.02
                points.append(MetricPoint("acc", acc, T0 + i * 60_000 + step * 1000, step))
                points.append(MetricPoint("loss", round(1.5 - step * 0.1 - i * 0.005, 4), T0 + i * 60_000 + step * 1000, step))
            run_tags = [{"key": "team", "value": "growth"}]
            if ci and i % 2 == 0:
                run_tags += [
                    {"key": "gitlab.CI_JOB_ID", "value": str(9000 + i)},
                    {"key": "gitlab.CI_PIPELINE_ID", "value": str(500 + i // 10)},
                    {"key": "gitlab.CI_COMMIT_SHA", "value": f"{i:02d}" + "ab3f91c0e2d4b5a69788123456789abcdef012"},
                    {"key": "gitlab.CI_COMMIT_REF_NAME", "value": "feature/tune"},
                    {"key": "gitlab.CI_MERGE_REQUEST_IID", "value": str(40 + i // 20)},
                    {"key": "gitlab.user", "value": "alice"},
                ]
            log_batch(conn, project_id, run_id, points,
                      [{"key": "lr", "value": lr}, {"key": "depth", "value": str(3 + i % 4)},
                       {"key": "optimizer", "value": "adam"}], run_tags)
            update_run(conn, project_id, run_id, "FAILED" if i == 7 else "FINISHED",
                       T0 + i * 60_000 + 95_000 + i * 1000, None)
            seeded.runs[name] = run_id
        # The escaping probe: everything a user can name carries markup.
        xss_run = create_run(conn, project_id, exp_id, XSS, T0 - 1000, [{"key": "mlflow.user", "value": XSS}], XSS)
        # Keys are limited to [\w .:/-] by MLflow's validation; values and names are not.
        log_batch(conn, project_id, xss_run, [MetricPoint("acc", 0.5, T0, 0), MetricPoint("acc", 0.6, T0 + 1, 1)],
                  [{"key": "note", "value": XSS}, {"key": "lr", "value": XSS}],
                  [{"key": "note", "value": XSS}, {"key": "gitlab.user", "value": XSS}])
        update_run(conn, project_id, xss_run, "FINISHED", T0 + 5000, None)
        seeded.xss_run = xss_run
        seeded.runs[XSS] = xss_run
        other = create_run(conn, project_id, xss_exp, XSS, T0, [], XSS)
        update_run(conn, project_id, other, "FINISHED", T0 + 1000, None)
    storage = storage_from_destination(artifacts_destination)
    seeded.artifact_run = seeded.runs["run-001"]
    for path, body in ARTIFACTS.items():
        storage.write(_artifact_key(project_id, exp_id, seeded.artifact_run, path), io.BytesIO(body))
    storage.write(_artifact_key(project_id, exp_id, xss_run, XSS + ".txt"), io.BytesIO(XSS.encode()))
    db.dispose()
    return seeded


def seed_many(backend_uri: str, project_id: int, experiment_name: str, n: int) -> int:
    """n candidates in one experiment, inserted in bulk (the domain functions would take minutes)."""
    db = Database(backend_uri)
    upgrade(db)
    with db.write() as conn:
        exp_id = create_experiment(conn, project_id, experiment_name)
        run_rows, metric_rows, latest_rows, param_rows, tag_rows = [], [], [], [], []
        for i in range(n):
            run_id = uuid.uuid4().hex
            run_rows.append(dict(run_uuid=run_id, experiment_id=exp_id, project_id=project_id, name=f"big-{i:05d}",
                                 user_id="bob", status="FINISHED", start_time=T0 + i, end_time=T0 + i + 1000,
                                 lifecycle_stage="active",
                                 artifact_uri=f"{artifact_location_for(exp_id)}/{run_id}/artifacts"))
            for key, value in (("acc", (i * 7919 % 10007) / 10007), ("loss", 1 - i / n)):
                row = dict(run_uuid=run_id, key=key, value=value, timestamp=T0 + i, step=0, is_nan=False)
                metric_rows.append(row)
                latest_rows.append(row)
            param_rows += [dict(run_uuid=run_id, key="lr", value=str(i % 5)),
                           dict(run_uuid=run_id, key="seed", value=str(i))]
            tag_rows.append(dict(run_uuid=run_id, key="mlflow.runName", value=f"big-{i:05d}"))
        for table, rows in ((runs, run_rows), (metrics, metric_rows), (latest_metrics, latest_rows),
                            (params, param_rows), (tags, tag_rows)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start:start + 5000])
    db.dispose()
    return exp_id
