"""promote: turn a candidate (run) into a model version — the service the UI and the bot call.

    promotion = promote(conn, storage, project_id, run_id, "churn", alias="champion",
                        actor="alice", source_mr=42)

Only a version that `mlflow.pyfunc.load_model("models:/<name>@<alias>")` can load is made: its
source is one of the candidate's loadable models (`model_sources`): an output logged model that
finished uploading (MLflow 3 `log_model`), or a folder of the candidate's artifacts holding an
`MLmodel` file (MLflow 2 `log_model`, or a model uploaded with `log_artifacts`). A candidate with
neither is refused with the reason.

Runs inside the caller's write transaction: the registered model (created when missing), the
version, its tags and the alias move all land together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.artifacts.storage import ArtifactStorage

from mltracker.service.db.schema import runs
from mltracker.service.errors import MlflowError, invalid, not_found
from mltracker.service.logged_models import store as logged_model_store
from mltracker.service.registry import aliases
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import versions
from mltracker.service.registry.model_sources import ModelSource, model_sources
from mltracker.service.tracking.experiments import DELETED

PROMOTED_BY_TAG = "mltracker.promoted_by"
SOURCE_MR_TAG = "mltracker.source_mr"
CANDIDATE_TAG = "mltracker.candidate"


@dataclass(frozen=True)
class Promotion:
    name: str
    version: int
    source: str
    run_id: str
    model_id: str | None
    alias: str | None
    created_registered_model: bool


def promote(
    conn: Connection,
    storage: ArtifactStorage,
    project_id: int,
    candidate_run_id: str,
    model_name: str,
    alias: str | None = None,
    *,
    actor: str,
    source_mr: int | str | None = None,
    force: bool = False,
    source: str | None = None,
) -> Promotion:
    """Register one of the candidate's loadable models as a new version of `model_name`.

    `source` is the `ModelSource.choice` to register; by default the first of `model_sources`
    (the latest output logged model, else the first artifact folder holding an MLmodel).
    Refused: an unknown candidate, a candidate of another project, a deleted candidate, a FAILED
    candidate unless `force`, a candidate with no loadable model, and a `source` that is not one.
    """
    run = _candidate(conn, project_id, candidate_run_id, force)
    chosen = choose_source(model_sources(conn, storage, project_id, run), run, source)
    created = _ensure_registered_model(conn, project_id, model_name)
    tags = [{"key": PROMOTED_BY_TAG, "value": actor}, {"key": CANDIDATE_TAG, "value": run.run_uuid}]
    if source_mr is not None and str(source_mr) != "":
        tags.append({"key": SOURCE_MR_TAG, "value": str(source_mr)})
    row = versions.create(
        conn, project_id, model_name, chosen.uri, run_id=run.run_uuid, model_id=chosen.model_id, tags=tags,
        user_id=actor,
    )
    if chosen.model_id is not None:
        logged_model_store.record_model_version(conn, project_id, chosen.model_id, model_name, row.version)
    if alias:
        aliases.set_alias(conn, project_id, model_name, alias, row.version)
    return Promotion(model_name, row.version, row.source, run.run_uuid, chosen.model_id, alias or None, created)


def choose_source(options: list[ModelSource], run, wanted: str | None) -> ModelSource:
    if not options:
        raise invalid(no_model_reason(run))
    if wanted is None:
        return options[0]
    for option in options:
        if option.choice == wanted:
            return option
    offered = "; ".join(o.label for o in options)
    raise invalid(f"{wanted!r} is not a loadable model of candidate {run.name or run.run_uuid}. It has: {offered}.")


def no_model_reason(run) -> str:
    """Why a candidate (a runs row) without a loadable model cannot be promoted."""
    return (
        f"Candidate {run.name or run.run_uuid} ({run.run_uuid}) has no model to register: it logged no model "
        "(mlflow.<flavor>.log_model) and none of its artifact folders holds an MLmodel file, so "
        "mlflow.pyfunc.load_model could not load the version. Log a model in the run, then promote it."
    )


def _candidate(conn: Connection, project_id: int, run_id: str, force: bool):
    run = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first() if run_id else None
    if run is None:
        raise not_found(f"Candidate {run_id} not found.")
    if run.project_id != project_id:
        raise MlflowError(
            f"Candidate {run_id} belongs to another project; it cannot be promoted in project {project_id}.",
            "PERMISSION_DENIED",
        )
    if run.lifecycle_stage == DELETED:
        raise invalid(f"Candidate {run_id} is deleted; restore it before promoting it.")
    if run.status == "FAILED" and not force:
        raise invalid(f"Candidate {run_id} FAILED; promote it with force to register it anyway.")
    return run


def _ensure_registered_model(conn: Connection, project_id: int, name: str) -> bool:
    """Create the registered model unless it exists; True when this call created it."""
    try:
        rms.get_row(conn, project_id, name)
        return False
    except MlflowError as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    try:
        rms.create(conn, project_id, name)
        return True
    except MlflowError as exc:  # created by a concurrent promote in between
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return False
