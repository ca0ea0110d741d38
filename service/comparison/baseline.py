"""What a pipeline's candidates are measured against:

1. the candidates of the newest pipeline on the target branch in the same experiment (the best of
   them by the compared metric);
2. else the model version holding the `champion` alias, for a model fed by that experiment;
3. else none: the report shows values without deltas, the gate passes saying so.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from mltracker.service.comparison.best import best_candidate
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.db.registry_schema import model_versions, registered_model_aliases, registered_models
from mltracker.service.db.schema import latest_metrics, metrics, runs
from mltracker.service.linking.links import latest_pipeline_on_ref, runs_of_pipeline

CHAMPION = "champion"


@dataclass(frozen=True)
class Baseline:
    run_id: str
    label: str  # "main", or "churn@champion"
    pipeline_id: int | None = None
    run_ids: tuple[str, ...] = ()  # every candidate it was chosen from


def select_baseline(
    conn: Connection, project_id: int, experiment_id: int, target_branch: str, rules: ComparisonRules,
    exclude_pipeline_id: int | None = None, metric: str | None = None,
) -> Baseline | None:
    """`metric` ranks the target branch's candidates; default: the experiment's primary metric."""
    pipeline_id = latest_pipeline_on_ref(conn, project_id, experiment_id, target_branch, exclude_pipeline_id)
    if pipeline_id is not None:
        run_ids = runs_of_pipeline(conn, project_id, pipeline_id, experiment_id)
        if run_ids:
            best = _best_run(conn, run_ids, rules, metric)
            return Baseline(run_id=best, label=target_branch, pipeline_id=pipeline_id, run_ids=tuple(run_ids))
    return _champion(conn, project_id, experiment_id)


def _best_run(conn: Connection, run_ids: list[str], rules: ComparisonRules, metric: str | None) -> str:
    metric = metric or next(iter(rules.primary_metrics(_first_logged(conn, run_ids))), None)
    if not metric:
        return run_ids[-1]  # nothing measured: the newest candidate
    values = dict(conn.execute(
        select(latest_metrics.c.run_uuid, latest_metrics.c.value).where(
            latest_metrics.c.run_uuid.in_(run_ids), latest_metrics.c.key == metric,
            latest_metrics.c.is_nan.is_(False),
        )
    ).all())
    statuses = dict(conn.execute(select(runs.c.run_uuid, runs.c.status).where(runs.c.run_uuid.in_(run_ids))).all())
    best = best_candidate(run_ids, [metric], {metric: rules.direction(metric)},
                          value=lambda r, _: values.get(r), status=lambda r: statuses.get(r, ""))
    return best if best is not None else run_ids[-1]


def _first_logged(conn: Connection, run_ids: list[str]) -> list[str]:
    first = conn.execute(
        select(metrics.c.key).where(metrics.c.run_uuid.in_(run_ids))
        .group_by(metrics.c.key).order_by(func.min(metrics.c.timestamp), metrics.c.key).limit(1)
    ).scalar()
    return [first] if first else []


def _champion(conn: Connection, project_id: int, experiment_id: int) -> Baseline | None:
    query = (
        select(registered_models.c.name, model_versions.c.run_id)
        .select_from(
            registered_models
            .join(registered_model_aliases, registered_model_aliases.c.registered_model_id == registered_models.c.id)
            .join(model_versions, and_(
                model_versions.c.registered_model_id == registered_models.c.id,
                model_versions.c.version == registered_model_aliases.c.version,
            ))
            .join(runs, runs.c.run_uuid == model_versions.c.run_id)
        )
        .where(
            registered_models.c.project_id == project_id,
            registered_model_aliases.c.alias == CHAMPION,
            runs.c.experiment_id == experiment_id,
        )
        .order_by(registered_models.c.name)
        .limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    return Baseline(run_id=row.run_id, label=f"{row.name}@{CHAMPION}", run_ids=(row.run_id,))
