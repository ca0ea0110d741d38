"""Model registry endpoints of MLflow's REST API: registered models, versions, tags, aliases."""
from __future__ import annotations

from flask import Blueprint

from mltracker.service.api.json_response import json_response
from mltracker.service.api.registry_json import model_version_json, registered_model_json
from mltracker.service.api.request import DOCS_HINT, message
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.logged_models import store as logged_model_store
from mltracker.service.registry import aliases
from mltracker.service.registry import gitlab_compat
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import search, sources, versions
from mltracker.service.registry.records import load_registered_models, load_versions
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking.validation import missing_value

bp = Blueprint("registry", __name__)


def _model_payload(conn, name: str) -> dict:
    return _models_json(conn, [rms.get_row(conn, current_project_id(), name)])[0]


def _version_payload(conn, row) -> dict:
    return _versions_json(conn, [row])[0]


def _models_json(conn, rows: list) -> list[dict]:
    return [registered_model_json(m) for m in load_registered_models(conn, rows)]


def _versions_json(conn, rows: list) -> list[dict]:
    return [model_version_json(v) for v in load_versions(conn, rows)]


def _max_results(msg, limit: int):
    value = msg.integer("max_results")
    if value is not None and value > limit:
        raise msg._type_error("max_results", msg.raw("max_results"))
    return value


# ---------------------------------------------------------------- registered models

@bp.post("/registered-models/create")
def create_registered_model():
    msg = message()
    name = msg.string("name", required=True)
    with services().db.write() as conn:
        row = rms.create(conn, current_project_id(), name, msg.objects("tags"), msg.string("description"))
        return json_response({"registered_model": _models_json(conn, [row])[0]})


@bp.get("/registered-models/get")
def get_registered_model():
    name = message().string("name", required=True)
    with services().db.read() as conn:
        return json_response({"registered_model": _model_payload(conn, name)})


@bp.post("/registered-models/rename")
def rename_registered_model():
    msg = message()
    name = msg.string("name", required=True)
    new_name = msg.string("new_name", required=True)
    with services().db.write() as conn:
        row = rms.rename(conn, current_project_id(), name, new_name)
        return json_response({"registered_model": _models_json(conn, [row])[0]})


@bp.patch("/registered-models/update")
def update_registered_model():
    msg = message()
    name = msg.string("name", required=True)
    with services().db.write() as conn:
        row = rms.update_description(conn, current_project_id(), name, msg.string("description"))
        return json_response({"registered_model": _models_json(conn, [row])[0]})


@bp.delete("/registered-models/delete")
def delete_registered_model():
    name = message().string("name", required=True)
    with services().db.write() as conn:
        rms.delete_model(conn, current_project_id(), name)
    return json_response({})


@bp.route("/registered-models/search", methods=["GET", "POST"])
def search_registered_models():
    msg = message()
    with services().db.read() as conn:
        rows, token = search.search_registered_models(
            conn, current_project_id(),
            filter_string=msg.string("filter"),
            max_results=_max_results(msg, search.REGISTERED_MODEL_MAX_RESULTS),
            order_by=msg.strings("order_by"),
            page_token=msg.string("page_token"),
        )
        payload = {}
        if rows:
            payload["registered_models"] = _models_json(conn, rows)
    if token:
        payload["next_page_token"] = token
    return json_response(payload)


@bp.route("/registered-models/get-latest-versions", methods=["POST", "GET"])
def get_latest_versions():
    msg = message()
    name = msg.string("name", required=True)
    with services().db.read() as conn:
        rows = versions.latest_versions(conn, current_project_id(), name, msg.strings("stages"))
        payload = {"model_versions": _versions_json(conn, rows)} if rows else {}
    return json_response(payload)


@bp.post("/registered-models/set-tag")
def set_registered_model_tag():
    msg = message()
    name = msg.string("name", required=True)
    key = msg.string("key", required=True)
    with services().db.write() as conn:
        rms.set_tag(conn, current_project_id(), name, key, msg.string("value"))
    return json_response({})


@bp.delete("/registered-models/delete-tag")
def delete_registered_model_tag():
    msg = message()
    name = msg.string("name", required=True)
    key = msg.string("key", required=True)
    with services().db.write() as conn:
        rms.delete_tag(conn, current_project_id(), name, key)
    return json_response({})


@bp.post("/registered-models/alias")
def set_registered_model_alias():
    msg = message()
    name = msg.string("name", required=True)
    alias = msg.string("alias", required=True)
    version = msg.string("version", required=True)
    with services().db.write() as conn:
        aliases.set_alias(conn, current_project_id(), name, alias, version)
    return json_response({})


@bp.delete("/registered-models/alias")
def delete_registered_model_alias():
    msg = message()
    name = msg.string("name", required=True)
    alias = msg.string("alias", required=True)
    with services().db.write() as conn:
        aliases.delete_alias(conn, current_project_id(), name, alias)
    return json_response({})


@bp.get("/registered-models/alias")
def get_model_version_by_alias():
    msg = message()
    name = msg.string("name", required=True)
    alias = msg.string("alias", required=True)
    project_id = current_project_id()
    with services().db.read() as conn:
        number = rms.alias_version(conn, project_id, name, alias)
        row = versions.get_version_row(conn, project_id, name, number)
        return json_response({"model_version": _version_payload(conn, row)})


# ---------------------------------------------------------------- model versions

@bp.post("/model-versions/create")
def create_model_version():
    msg = message()
    name = msg.string("name", required=True)
    source = msg.string("source")
    if source is None:
        raise invalid(missing_value("source") + DOCS_HINT)
    sources.check_source_pattern(source, services().settings.model_version_source_regex)
    model_id = msg.string("model_id") or None
    run_id = msg.string("run_id")
    tags = msg.objects("tags")
    project_id = current_project_id()
    with services().db.write() as conn:
        gitlab_compat.check_semantic_version(conn, project_id, name, tags)
        if not model_id and gitlab_compat.is_gitlab_style(source, tags):
            rms.get_row(conn, project_id, name)
            if run_id:
                source = run_store.get_run_row(conn, project_id, run_id).artifact_uri
            else:
                run_id, source = gitlab_compat.candidate_run(
                    conn, project_id, name, gitlab_compat.semantic_version(tags))
        row = versions.create(
            conn, project_id, name, source,
            run_id=run_id,
            model_id=model_id,
            tags=tags,
            run_link=msg.string("run_link"),
            description=msg.string("description"),
            allowed_schemes=services().settings.allowed_host_addressed_schemes,
        )
        if row.model_id:
            logged_model_store.record_model_version(conn, project_id, row.model_id, row.name, row.version)
        return json_response({"model_version": _version_payload(conn, row)})


@bp.get("/model-versions/get")
def get_model_version():
    msg = message()
    name = msg.string("name", required=True)
    version = msg.string("version", required=True)
    with services().db.read() as conn:
        row = versions.get_version_row(conn, current_project_id(), name, version)
        return json_response({"model_version": _version_payload(conn, row)})


@bp.patch("/model-versions/update")
def update_model_version():
    msg = message()
    name = msg.string("name", required=True)
    version = msg.string("version", required=True)
    with services().db.write() as conn:
        row = versions.update_description(conn, current_project_id(), name, version, msg.string("description"))
        return json_response({"model_version": _version_payload(conn, row)})


@bp.post("/model-versions/transition-stage")
def transition_model_version_stage():
    msg = message()
    name = msg.string("name", required=True)
    version = msg.string("version", required=True)
    stage = msg.string("stage", required=True)
    archive = msg.boolean("archive_existing_versions")
    with services().db.write() as conn:
        row = versions.transition_stage(conn, current_project_id(), name, version, stage, archive)
        return json_response({"model_version": _version_payload(conn, row)})


@bp.delete("/model-versions/delete")
def delete_model_version():
    msg = message()
    name = msg.string("name", required=True)
    version = msg.string("version", required=True)
    with services().db.write() as conn:
        versions.delete_version(conn, current_project_id(), name, version)
    return json_response({})


@bp.get("/model-versions/get-download-uri")
def get_model_version_download_uri():
    msg = message()
    with services().db.read() as conn:
        uri = versions.download_uri(conn, current_project_id(), msg.string("name"), msg.string("version"))
    return json_response({"artifact_uri": uri})


@bp.route("/model-versions/search", methods=["GET", "POST"])
def search_model_versions():
    return json_response(search_model_versions_payload(message()))


def search_model_versions_payload(msg) -> dict:
    with services().db.read() as conn:
        rows, token = search.search_model_versions(
            conn, current_project_id(),
            filter_string=msg.string("filter"),
            max_results=_max_results(msg, search.MODEL_VERSION_MAX_RESULTS),
            order_by=msg.strings("order_by"),
            page_token=msg.string("page_token"),
        )
        payload = {"model_versions": _versions_json(conn, rows)} if rows else {}
    if token:
        payload["next_page_token"] = token
    return payload


@bp.post("/model-versions/set-tag")
def set_model_version_tag():
    msg = message()
    name = msg.string("name", required=True)
    version = msg.string("version", required=True)
    key = msg.string("key", required=True)
    with services().db.write() as conn:
        versions.set_tag(conn, current_project_id(), name, version, key, msg.string("value", default=""))
    return json_response({})


@bp.delete("/model-versions/delete-tag")
def delete_model_version_tag():
    msg = message()
    name = msg.string("name", required=True)
    version = msg.string("version", required=True)
    key = msg.string("key", required=True)
    with services().db.write() as conn:
        versions.delete_tag(conn, current_project_id(), name, version, key)
    return json_response({})
