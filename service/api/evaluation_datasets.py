"""MLflow 3 evaluation dataset endpoints (/api/3.0/mlflow/datasets/…): create, get, delete, search,
tags, records (upsert, pages, delete) and the experiments a dataset is linked to."""
from __future__ import annotations

from flask import Blueprint

from mltracker.service.api.evaluation_dataset_json import dataset_json, records_text
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.context import current_project_id, services
from mltracker.service.evaluation_datasets import records, search, store
from mltracker.service.tracking import experiments as exps

bp = Blueprint("evaluation_datasets", __name__)


def _dataset_response(conn, dataset_id: str) -> dict:
    return {"dataset": dataset_json(store.load_dataset(conn, current_project_id(), dataset_id))}


@bp.post("/datasets/create")
def create_dataset():
    msg = message()
    name = msg.string("name", required=True)
    tags = store.parse_tags(msg.string("tags"))
    project_id = current_project_id()
    with services().db.write() as conn:
        experiment_ids = store.resolve_experiments(conn, project_id, msg.strings("experiment_ids"))
        dataset_id = store.create(conn, project_id, name, tags, experiment_ids)
        return json_response(_dataset_response(conn, dataset_id))


@bp.get("/datasets/<dataset_id>")
def get_dataset(dataset_id: str):
    with services().db.read() as conn:
        return json_response(_dataset_response(conn, dataset_id))


@bp.delete("/datasets/<dataset_id>")
def delete_dataset(dataset_id: str):
    with services().db.write() as conn:
        store.delete_dataset(conn, current_project_id(), dataset_id)
    return json_response({})


@bp.post("/datasets/search")
def search_datasets():
    msg = message()
    project_id = current_project_id()
    with services().db.read() as conn:
        experiment_ids = [exps.resolve_experiment_id(conn, project_id, e) for e in msg.strings("experiment_ids")]
        rows, token = search.search(
            conn, project_id, experiment_ids, msg.string("filter_string") or None, msg.integer("max_results"),
            msg.strings("order_by"), msg.string("page_token") or None,
        )
        payload = {"datasets": [dataset_json(d) for d in store.load_datasets(conn, rows)]} if rows else {}
    if token:
        payload["next_page_token"] = token
    return json_response(payload)


@bp.patch("/datasets/<dataset_id>/tags")
def set_dataset_tags(dataset_id: str):
    tags = store.parse_tags(message().string("tags", required=True))
    with services().db.write() as conn:
        store.set_tags(conn, current_project_id(), dataset_id, tags)
    return json_response({})


@bp.delete("/datasets/<dataset_id>/tags/<path:key>")
def delete_dataset_tag(dataset_id: str, key: str):
    with services().db.write() as conn:
        store.delete_tag(conn, current_project_id(), dataset_id, key)
    return json_response({})


@bp.post("/datasets/<dataset_id>/records")
def upsert_dataset_records(dataset_id: str):
    new_records = records.parse_records(message().string("records", required=True))
    with services().db.write() as conn:
        inserted, updated = records.upsert(conn, current_project_id(), dataset_id, new_records)
    return json_response({"inserted_count": inserted, "updated_count": updated})


@bp.get("/datasets/<dataset_id>/records")
def get_dataset_records(dataset_id: str):
    msg = message()
    with services().db.read() as conn:
        page, token = records.page(conn, current_project_id(), dataset_id, msg.integer("max_results"),
                                   msg.string("page_token") or None)
    payload = {"records": records_text(page)}
    if token:
        payload["next_page_token"] = token
    return json_response(payload)


@bp.delete("/datasets/<dataset_id>/records")
def delete_dataset_records(dataset_id: str):
    record_ids = message().strings("dataset_record_ids")
    with services().db.write() as conn:
        deleted = records.delete_records(conn, current_project_id(), dataset_id, record_ids)
    return json_response({"deleted_count": deleted})


@bp.get("/datasets/<dataset_id>/experiment-ids")
def get_dataset_experiment_ids(dataset_id: str):
    with services().db.read() as conn:
        store.get_row(conn, current_project_id(), dataset_id)
        linked = store.experiment_ids_of(conn, [dataset_id])[dataset_id]
    return json_response({"experiment_ids": [str(e) for e in linked]} if linked else {})


@bp.post("/datasets/<dataset_id>/add-experiments")
def add_dataset_to_experiments(dataset_id: str):
    raw_ids = message().strings("experiment_ids")
    project_id = current_project_id()
    with services().db.write() as conn:
        experiment_ids = store.resolve_experiments(conn, project_id, raw_ids)
        store.add_experiments(conn, project_id, dataset_id, experiment_ids)
        return json_response(_dataset_response(conn, dataset_id))


@bp.post("/datasets/<dataset_id>/remove-experiments")
def remove_dataset_from_experiments(dataset_id: str):
    raw_ids = message().strings("experiment_ids")
    project_id = current_project_id()
    with services().db.write() as conn:
        experiment_ids = [exps.resolve_experiment_id(conn, project_id, e) for e in raw_ids]
        store.remove_experiments(conn, project_id, dataset_id, experiment_ids)
        return json_response(_dataset_response(conn, dataset_id))
