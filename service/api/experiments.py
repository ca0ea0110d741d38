"""Experiment endpoints of MLflow's REST API."""
from __future__ import annotations

from flask import Blueprint

from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.tracking.inputs import dataset_summaries
from mltracker.service.errors import MlflowError
from mltracker.service.search.experiments import search_experiment_ids
from mltracker.service.tracking import experiments as exps
from mltracker.service.api.mlflow_json import dataset_summary_json, experiment_json

bp = Blueprint("experiments", __name__)


def _experiment_payload(conn, row) -> dict:
    return experiment_json(row, exps.experiment_tags_of(conn, [row.experiment_id])[row.experiment_id])


@bp.post("/experiments/create")
def create_experiment():
    msg = message()
    name = msg.string("name", required=True)
    artifact_location = msg.string("artifact_location")
    tags = msg.objects("tags")
    exps.refuse_artifact_location(artifact_location)
    with services().db.write() as conn:
        experiment_id = exps.create_experiment(conn, current_project_id(), name, tags)
    return json_response({"experiment_id": str(experiment_id)})


@bp.get("/experiments/get")
def get_experiment():
    return json_response(get_experiment_payload(message()))


def get_experiment_payload(msg) -> dict:
    raw_id = msg.string("experiment_id", required=True)
    try:
        with services().db.read() as conn:
            experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id)
            row = exps.get_experiment_row(conn, current_project_id(), experiment_id)
            return {"experiment": _experiment_payload(conn, row)}
    except MlflowError as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST" or not exps.is_default_alias(raw_id):
            raise
    # "0" is the project's Default experiment, created on first use (as on runs/create).
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id, create=True)
        row = exps.get_experiment_row(conn, current_project_id(), experiment_id)
        return {"experiment": _experiment_payload(conn, row)}


@bp.get("/experiments/get-by-name")
def get_experiment_by_name():
    name = message().string("experiment_name", required=True)
    with services().db.read() as conn:
        row = exps.get_experiment_by_name(conn, current_project_id(), name)
        return json_response({"experiment": _experiment_payload(conn, row)})


@bp.route("/experiments/search", methods=["GET", "POST"])
def search_experiments():
    msg = message()
    with services().db.read() as conn:
        ids, next_token = search_experiment_ids(
            conn,
            project_id=current_project_id(),
            filter_string=msg.string("filter"),
            view_type=msg.string("view_type") or "ACTIVE_ONLY",
            max_results=msg.integer("max_results", default=1000),
            order_by=msg.strings("order_by"),
            page_token=msg.string("page_token"),
        )
        rows = exps.get_experiment_rows(conn, ids)
        tags = exps.experiment_tags_of(conn, ids)
        payload = {"experiments": [experiment_json(rows[i], tags[i]) for i in ids]}
    if next_token:
        payload["next_page_token"] = next_token
    return json_response(payload)


@bp.post("/experiments/update")
def update_experiment():
    msg = message()
    raw_id = msg.string("experiment_id", required=True)
    new_name = msg.string("new_name")
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id)
        if new_name is not None:
            exps.rename_experiment(conn, current_project_id(), experiment_id, new_name)
    return json_response({})


@bp.post("/experiments/delete")
def delete_experiment():
    raw_id = message().string("experiment_id", required=True)
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id)
        exps.delete_experiment(conn, current_project_id(), experiment_id)
    return json_response({})


@bp.post("/experiments/restore")
def restore_experiment():
    raw_id = message().string("experiment_id", required=True)
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id)
        exps.restore_experiment(conn, current_project_id(), experiment_id)
    return json_response({})


@bp.post("/experiments/set-experiment-tag")
def set_experiment_tag():
    msg = message()
    raw_id = msg.string("experiment_id", required=True)
    key = msg.string("key", required=True)
    value = msg.string("value", default="")
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id)
        exps.set_experiment_tag(conn, current_project_id(), experiment_id, key, value)
    return json_response({})


@bp.post("/experiments/delete-experiment-tag")
def delete_experiment_tag():
    msg = message()
    raw_id = msg.string("experiment_id", required=True)
    key = msg.string("key", required=True)
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, current_project_id(), raw_id)
        exps.delete_experiment_tag(conn, current_project_id(), experiment_id, key)
    return json_response({})


MAX_EXPERIMENTS_PER_DATASET_SEARCH = 20


@bp.post("/experiments/search-datasets")
def search_datasets():
    """The datasets the experiments' runs used (MLflow's UI offers them as run filters)."""
    return json_response(search_datasets_payload(message()))


def search_datasets_payload(msg) -> dict:
    raw_ids = msg.strings("experiment_ids")
    if not raw_ids:
        raise invalid("SearchDatasets request must specify at least one experiment_id.")
    if len(raw_ids) > MAX_EXPERIMENTS_PER_DATASET_SEARCH:
        raise invalid(
            f"SearchDatasets request cannot specify more than {MAX_EXPERIMENTS_PER_DATASET_SEARCH}"
            f" experiment_ids. Received {len(raw_ids)} experiment_ids."
        )
    project_id = current_project_id()
    with services().db.read() as conn:
        ids = [exps.resolve_experiment_id(conn, project_id, raw) for raw in raw_ids]
        owned = [i for i, row in exps.get_experiment_rows(conn, ids).items() if row.project_id == project_id]
        return {"dataset_summaries": [dataset_summary_json(d) for d in dataset_summaries(conn, owned)]}


@bp.get("/experiments/list")
def list_experiments():
    """MLflow 1.x's ListExperiments, which GitLab's built-in tracker still serves (lib/api/ml/mlflow/
    experiments.rb): every experiment of the project, active ones unless view_type says otherwise."""
    msg = message()
    view_type = msg.string("view_type") or "ACTIVE_ONLY"
    with services().db.read() as conn:
        ids = exps.list_experiment_ids(conn, current_project_id(), view_type)
        rows = exps.get_experiment_rows(conn, ids)
        tags = exps.experiment_tags_of(conn, ids)
        return json_response({"experiments": [experiment_json(rows[i], tags[i]) for i in ids]})
