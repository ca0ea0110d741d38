"""Source experiments mapped onto target experiments of the project.

Experiment ids are per server, so they may change: the mapping is kept in the ledger and the source
id recorded on the target experiment as a tag. An experiment of the same name already in the
project is used as it is (its runs and the imported ones sit side by side); otherwise one is
created with the source's name, tags, times and lifecycle stage.
"""
from __future__ import annotations

from sqlalchemy import select, update

from mltracker.service.db.schema import experiment_tags, experiments
from mltracker.service.db.upsert import upsert_rows
from mltracker.service.importer import ledger as lg
from mltracker.service.importer.context import ImportContext
from mltracker.service.tracking import experiments as exps

SOURCE_ID_TAG = "mltracker.import.source_experiment_id"
SOURCE_TAG = "mltracker.import.source"


def import_experiment(ctx: ImportContext, experiment: dict) -> int | None:
    """The target experiment id (None in a dry run when it does not exist yet)."""
    source_id = str(experiment["experiment_id"])
    name = experiment["name"]
    fingerprint = lg.fingerprint(experiment)
    if ctx.db is None:
        ctx.summary.plan(f"create experiment {name!r} (source id {source_id})")
        ctx.summary.add("experiments_created")
        return None
    with ctx.db.read() as conn:
        entry = ctx.ledger.get(conn, lg.EXPERIMENT, source_id)
        mapped = _existing(conn, ctx.project_id, int(entry.target_key)) if entry else None
        by_name = conn.execute(select(experiments.c.experiment_id).where(
            experiments.c.project_id == ctx.project_id, experiments.c.name == name)).scalar()
    target_id = mapped if mapped is not None else by_name
    if entry is not None and mapped is not None and entry.fingerprint == fingerprint:
        ctx.summary.add("experiments_existing")
        return mapped
    if ctx.dry_run:
        ctx.summary.plan(f"create experiment {name!r} (source id {source_id})" if target_id is None
                         else f"update experiment {name!r} (id {target_id}) from source id {source_id}")
        ctx.summary.add("experiments_created" if target_id is None else "experiments_existing")
        return target_id
    with ctx.db.write() as conn:
        if target_id is None:
            target_id = exps.create_experiment(conn, ctx.project_id, name)
            conn.execute(update(experiments).where(experiments.c.experiment_id == target_id).values(
                creation_time=int(experiment.get("creation_time") or 0),
                last_update_time=int(experiment.get("last_update_time") or experiment.get("creation_time") or 0),
                lifecycle_stage=experiment.get("lifecycle_stage") or exps.ACTIVE,
            ))
            ctx.summary.add("experiments_created")
        else:
            ctx.summary.add("experiments_existing")
        tags = {t["key"]: t.get("value", "") for t in experiment.get("tags") or []}
        tags[SOURCE_ID_TAG] = source_id
        tags[SOURCE_TAG] = ctx.ledger.source
        upsert_rows(conn, experiment_tags,
                    [{"experiment_id": target_id, "key": k, "value": v} for k, v in tags.items()],
                    ["experiment_id", "key"], ["value"])
        ctx.ledger.record(conn, lg.EXPERIMENT, source_id, str(target_id), lg.DONE, fingerprint)
    return target_id


def _existing(conn, project_id: int, experiment_id: int) -> int | None:
    return conn.execute(select(experiments.c.experiment_id).where(
        experiments.c.project_id == project_id, experiments.c.experiment_id == experiment_id)).scalar()
