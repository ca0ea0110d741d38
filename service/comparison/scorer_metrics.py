"""The metrics `mlflow.genai.evaluate` logs on its runs (tagged `mlflow.runType=genai_evaluate`):
`<scorer>/<aggregation>`. A scorer's mean is its pass rate for a pass/fail scorer and its average
score otherwise, so these are higher-is-better unless configured or tagged otherwise, whatever
the scorer's name says (a scorer called `latency_ok` still passes more often when better)."""
from __future__ import annotations

from sqlalchemy import Connection, select

from mltracker.service.db.schema import latest_metrics, runs, tags

RUN_TYPE_TAG = "mlflow.runType"
GENAI_EVALUATE = "genai_evaluate"
# MLflow's scorer aggregations, except `variance` (which says nothing about better or worse).
HIGHER_IS_BETTER_AGGREGATIONS = frozenset({"mean", "median", "min", "max", "p90"})


def is_scorer_aggregate(metric: str) -> bool:
    scorer, _, aggregation = metric.rpartition("/")
    return bool(scorer) and aggregation in HIGHER_IS_BETTER_AGGREGATIONS


def experiment_scorer_metrics(conn: Connection, experiment_id: int | None) -> frozenset[str]:
    """The scorer aggregates logged by the experiment's `mlflow.genai.evaluate` runs."""
    if experiment_id is None:
        return frozenset()
    query = (
        select(latest_metrics.c.key).distinct()
        .join(tags, tags.c.run_uuid == latest_metrics.c.run_uuid)
        .join(runs, runs.c.run_uuid == latest_metrics.c.run_uuid)
        .where(runs.c.experiment_id == experiment_id, tags.c.key == RUN_TYPE_TAG, tags.c.value == GENAI_EVALUATE)
    )
    return frozenset(key for key in conn.execute(query).scalars() if is_scorer_aggregate(key))


def is_genai_evaluation(run_tags) -> bool:
    return run_tags.get(RUN_TYPE_TAG) == GENAI_EVALUATE
