"""MLflow 3 scorer endpoints (/api/3.0/mlflow/scorers/…): register, list, versions, get, delete."""
from __future__ import annotations

from flask import Blueprint

from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.api.scorer_json import registered_json, scorer_json
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError
from mltracker.service.scorers import store
from mltracker.service.tracking import experiments as exps

bp = Blueprint("scorers", __name__)


def _experiment_id(conn, msg) -> int:
    return exps.resolve_experiment_id(conn, current_project_id(), msg.string("experiment_id", required=True))


@bp.post("/scorers/register")
def register_scorer():
    msg = message()
    name = msg.string("name", required=True)
    serialized = msg.string("serialized_scorer", required=True)
    with services().db.write() as conn:
        version = store.register(conn, current_project_id(), _experiment_id(conn, msg), name, serialized)
    return json_response(registered_json(version))


@bp.get("/scorers/list")
def list_scorers():
    msg = message()
    with services().db.read() as conn:
        found = store.list_latest(conn, current_project_id(), _experiment_id(conn, msg))
    return json_response({"scorers": [scorer_json(s) for s in found]} if found else {})


@bp.get("/scorers/versions")
def list_scorer_versions():
    msg = message()
    name = msg.string("name", required=True)
    with services().db.read() as conn:
        found = store.list_versions(conn, current_project_id(), _experiment_id(conn, msg), name)
    return json_response({"scorers": [scorer_json(s) for s in found]} if found else {})


@bp.get("/scorers/get")
def get_scorer():
    msg = message()
    name = msg.string("name", required=True)
    with services().db.read() as conn:
        found = store.get(conn, current_project_id(), _experiment_id(conn, msg), name, msg.integer("version"))
    return json_response({"scorer": scorer_json(found)})


@bp.delete("/scorers/delete")
def delete_scorer():
    msg = message()
    name = msg.string("name", required=True)
    with services().db.write() as conn:
        store.delete_scorer(conn, current_project_id(), _experiment_id(conn, msg), name, msg.integer("version"))
    return json_response({})


@bp.get("/scorers/online-configs")
def get_online_scoring_configs():
    """No scorer runs on this server, so none has an online configuration."""
    return json_response({"configs": []})


@bp.put("/scorers/online-config")
def upsert_online_scoring_config():
    raise MlflowError("Online scoring (scorers that run on the server as traces arrive) is not available on "
                      "this server; run mlflow.genai.evaluate in your pipeline instead.", "NOT_IMPLEMENTED")
