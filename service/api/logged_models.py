"""MLflow 3 logged-model endpoints: /logged-models (create, get, finalize, delete, tags, params,
search). Their artifacts live under the experiment's artifact root and go through the proxy."""
from __future__ import annotations

import posixpath

from flask import Blueprint, request

from mltracker.service.artifacts.keys import proxied_root_path
from mltracker.service.api.artifacts import file_info_json, project_key, stream_artifact
from mltracker.service.api.json_response import json_response
from mltracker.service.api.mlflow_json import logged_model_json
from mltracker.service.api.request import DOCS_HINT, message
from mltracker.service.artifacts.paths import invalid_path, join_key, safe_relative_path
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError, invalid
from mltracker.service.logged_models import search as model_search
from mltracker.service.logged_models import store
from mltracker.service.logged_models.records import load_model, load_models
from mltracker.service.logged_models.status import parse_status
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking.validation import missing_value

bp = Blueprint("logged_models", __name__)


@bp.post("/logged-models")
def create_logged_model():
    msg = message()
    raw_experiment_id = msg.string("experiment_id", required=True)
    project_id = current_project_id()
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, project_id, raw_experiment_id)
        model_id = store.create(
            conn, project_id, experiment_id,
            name=msg.string("name") or None,
            model_type=msg.string("model_type"),
            source_run_id=msg.string("source_run_id"),
            params=msg.objects("params"),
            tags=msg.objects("tags"),
        )
        return json_response({"model": logged_model_json(load_model(conn, model_id))})


@bp.get("/logged-models/<model_id>")
def get_logged_model(model_id: str):
    allow_deleted = request.args.get("allow_deleted", "false").lower() == "true"
    with services().db.read() as conn:
        store.get_row(conn, current_project_id(), model_id, allow_deleted=allow_deleted)
        return json_response({"model": logged_model_json(load_model(conn, model_id))})


@bp.patch("/logged-models/<model_id>")
def finalize_logged_model(model_id: str):
    msg = message()
    status = msg.raw("status")
    if status is None or status == "":
        raise invalid(missing_value("status") + DOCS_HINT)
    with services().db.write() as conn:
        store.finalize(conn, current_project_id(), model_id, parse_status(status))
        return json_response({"model": logged_model_json(load_model(conn, model_id))})


@bp.delete("/logged-models/<model_id>")
def delete_logged_model(model_id: str):
    with services().db.write() as conn:
        store.delete_model(conn, current_project_id(), model_id)
    return json_response({})


@bp.patch("/logged-models/<model_id>/tags")
def set_logged_model_tags(model_id: str):
    tags = message().objects("tags")
    with services().db.write() as conn:
        store.set_tags(conn, current_project_id(), model_id, tags)
    return json_response({})


@bp.delete("/logged-models/<model_id>/tags/<path:tag_key>")
def delete_logged_model_tag(model_id: str, tag_key: str):
    with services().db.write() as conn:
        store.delete_tag(conn, current_project_id(), model_id, tag_key)
    return json_response({})


@bp.post("/logged-models/<model_id>/params")
def log_logged_model_params(model_id: str):
    params = message().objects("params")
    with services().db.write() as conn:
        store.log_params(conn, current_project_id(), model_id, params)
    return json_response({})


def _datasets(items: list[dict]) -> list[dict] | None:
    """As mlflow server passes them on: a dataset given without a digest matches the metrics
    that have none."""
    return [{"dataset_name": d.get("dataset_name") or None, "dataset_digest": d.get("dataset_digest") or None}
            for d in items] or None


@bp.post("/logged-models/search")
def search_logged_models():
    msg = message()
    raw_ids = msg.strings("experiment_ids")
    if not raw_ids:
        raise invalid(missing_value("experiment_ids") + DOCS_HINT)
    project_id = current_project_id()
    with services().db.read() as conn:
        experiment_ids = [exps.resolve_experiment_id(conn, project_id, e) for e in raw_ids]
        rows, token = model_search.search(
            conn, project_id, experiment_ids,
            filter_string=msg.string("filter") or None,
            order_by=msg.objects("order_by") or None,
            max_results=msg.integer("max_results"),
            page_token=msg.string("page_token") or None,
            datasets=_datasets(msg.objects("datasets")),
        )
        payload = {"models": [logged_model_json(m) for m in load_models(conn, rows)]} if rows else {}
    if token:
        payload["next_page_token"] = token
    return json_response(payload)


@bp.get("/logged-models/<model_id>/artifacts/directories")
def list_logged_model_artifacts(model_id: str):
    """A logged model's artifacts, with paths relative to its artifact root (as /artifacts/list)."""
    relative = safe_relative_path(request.args.get("artifact_directory_path"))
    with services().db.read() as conn:
        row = store.get_row(conn, current_project_id(), model_id)
    root = proxied_root_path(row.artifact_location)
    infos = services().artifacts.list_dir(project_key(join_key(root, relative)))
    files = [file_info_json(i, posixpath.join(relative, i.path) if relative else i.path) for i in infos]
    return json_response({"root_uri": row.artifact_location, "files": files})


@bp.get("/logged-models/<model_id>/artifacts/files")
def get_logged_model_artifact(model_id: str):
    """One file of a logged model (`artifact_file_path` relative to its artifact root)."""
    raw = request.args.get("artifact_file_path")
    if not raw:
        raise MlflowError('Request must include the "artifact_file_path" query parameter.', "BAD_REQUEST")
    path = safe_relative_path(raw)
    if not path:
        raise invalid_path()
    with services().db.read() as conn:
        row = store.get_row(conn, current_project_id(), model_id)
    return stream_artifact(project_key(join_key(proxied_root_path(row.artifact_location), path)), path)
