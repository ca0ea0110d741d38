"""Run endpoints of MLflow's REST API: lifecycle, logging, search, inputs and outputs."""
from __future__ import annotations

from flask import Blueprint, request

from mltracker.service.api import field_checks
from mltracker.service.api.json_response import json_response
from mltracker.service.api.mlflow_json import run_info_json, run_json
from mltracker.service.api.request import message, to_int, to_number
from mltracker.service.api import run_links
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.logged_models import metrics as logged_model_metrics
from mltracker.service.search.runs import search_run_ids
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import inputs as run_io
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking import single_writes
from mltracker.service.tracking.metric_rows import fast_metric_rows
from mltracker.service.tracking.run_loading import load_new_run, load_runs
from mltracker.service.tracking.run_records import RunInfo
from mltracker.service.tracking.validation import MAX_BATCH_LOG_REQUEST_SIZE

bp = Blueprint("runs", __name__)


def _run_id(msg) -> str:
    return msg.string("run_id", required=True, aliases=("run_uuid",))


def _metric_point(item: dict) -> run_store.MetricPoint:
    return run_store.MetricPoint(
        key=item.get("key"),
        value=to_number(item.get("value")),
        timestamp=to_int(item.get("timestamp")),
        step=to_int(item.get("step", 0)) if item.get("step") is not None else 0,
    )


@bp.post("/runs/create")
def create_run():
    msg = message()
    project_id = current_project_id()
    ci_link = run_links.link_for_new_run(project_id, msg.objects("tags"))
    with services().db.write() as conn:
        experiment_id = exps.resolve_experiment_id(conn, project_id, msg.string("experiment_id") or "0",
                                                   create=True)
        run_id = run_store.create_run(
            conn,
            project_id,
            experiment_id,
            user_id=msg.string("user_id"),
            start_time=msg.integer("start_time"),
            run_tags=msg.objects("tags"),
            run_name=msg.string("run_name"),
        )
        run_links.record_link(conn, project_id, run_id, ci_link)
        run = load_new_run(conn, run_id)
    return json_response({"run": run_json(run)})


@bp.get("/runs/get")
def get_run():
    return json_response(get_run_payload(message()))


def get_run_payload(msg) -> dict:
    run_id = _run_id(msg)
    with services().db.read() as conn:
        run_store.get_run_row(conn, current_project_id(), run_id)
        return {"run": run_json(load_runs(conn, [run_id])[0])}


@bp.post("/runs/update")
def update_run():
    msg = message()
    run_id = _run_id(msg)
    with services().db.write() as conn:
        run_store.update_run(
            conn, current_project_id(), run_id,
            status=msg.string("status"), end_time=msg.integer("end_time"), run_name=msg.string("run_name"),
        )
        row = run_store.get_run_row(conn, current_project_id(), run_id)
    return json_response({"run_info": run_info_json(RunInfo.from_row(row))})


@bp.post("/runs/delete")
def delete_run():
    run_id = _run_id(message())
    with services().db.write() as conn:
        run_store.set_lifecycle(conn, current_project_id(), run_id, exps.DELETED)
    return json_response({})


@bp.post("/runs/restore")
def restore_run():
    run_id = _run_id(message())
    with services().db.write() as conn:
        run_store.set_lifecycle(conn, current_project_id(), run_id, exps.ACTIVE)
    return json_response({})


@bp.post("/runs/log-metric")
def log_metric():
    batch, model_point = metric_request(message())
    if model_point is not None:
        run_store.store_batch(services().db, current_project_id(), batch,
                              also=lambda conn: _record_model_metrics(conn, batch.run_id, [model_point]))
    else:
        single_writes.log_metric(services().db, current_project_id(), batch)
    return json_response({})


def metric_request(msg) -> tuple[run_store.Batch, dict | None]:
    """log-metric's fields, checked as MLflow checks them: the one-point batch, and the point to
    keep under a logged model too when it names a model or dataset (else None)."""
    run_id = _run_id(msg)
    key = msg.string("key", required=True)
    value, timestamp, step = msg.raw("value"), msg.raw("timestamp"), msg.raw("step")
    field_checks.require(value, "value")
    field_checks.floatlike(value, "value")
    field_checks.intlike(timestamp, "timestamp")
    field_checks.require(timestamp, "timestamp")
    field_checks.intlike(step, "step")
    point = _metric_point({"key": key, "value": value, "timestamp": timestamp, "step": step})
    batch = run_store.prepare_batch(run_id, [point], [], [])
    model_point = {"key": key, "value": point.value, "timestamp": point.timestamp, "step": point.step,
                   "model_id": msg.string("model_id"), "dataset_name": msg.string("dataset_name"),
                   "dataset_digest": msg.string("dataset_digest")}
    if any(model_point[name] for name in ("model_id", "dataset_name", "dataset_digest")):
        return batch, model_point
    return batch, None


def _record_model_metrics(conn, run_id: str, points: list[dict]) -> None:
    """Points naming a logged model are also kept under the model (MLflow 3's model metrics)."""
    if any(p.get("model_id") for p in points):
        row = run_store.get_run_row(conn, current_project_id(), run_id)
        logged_model_metrics.record(conn, current_project_id(), run_id, row.experiment_id, points)


@bp.post("/runs/log-parameter")
def log_param():
    store_param(services().db, current_project_id(), param_request(message()))
    return json_response({})


def param_request(msg) -> run_store.Batch:
    run_id = _run_id(msg)
    item = {"key": msg.string("key", required=True), "value": msg.string("value", default="")}
    return run_store.prepare_batch(run_id, [], [item], [])


def store_param(db, project_id: int, batch: run_store.Batch) -> None:
    (param,) = batch.params
    try:
        single_writes.log_param(db, project_id, batch.run_id, param["key"], str(param["value"]))
    except single_writes.StoredConcurrently:
        run_store.store_batch(db, project_id, batch)


@bp.post("/runs/set-tag")
def set_tag():
    item, batch = tag_request(message())
    ci_link = run_links.link_for_logged_tags(current_project_id(), batch.run_id, [item])
    (tag,) = batch.tags
    if ci_link is None and tag["key"] != run_store.RUN_NAME_TAG:
        store_plain_tag(services().db, current_project_id(), batch)
    else:
        run_store.store_batch(services().db, current_project_id(), batch,
                              also=lambda conn: run_links.record_link(conn, current_project_id(), batch.run_id,
                                                                      ci_link))
    return json_response({})


def tag_request(msg) -> tuple[dict, run_store.Batch]:
    """set-tag's fields: the tag as sent, and the one-tag batch."""
    run_id = _run_id(msg)
    item = {"key": msg.string("key", required=True), "value": msg.string("value", default="")}
    return item, run_store.prepare_batch(run_id, [], [], [item])


def plain_tag(item: dict) -> bool:
    """A tag written as it is, whatever the caller's grant: not the run's name (which renames the
    run) and not one of the gitlab.* tags that CI linking checks."""
    return item["key"] != run_store.RUN_NAME_TAG and not run_links.names_gitlab_tags([item])


def store_plain_tag(db, project_id: int, batch: run_store.Batch) -> None:
    (tag,) = batch.tags
    single_writes.set_tag(db, project_id, batch.run_id, tag["key"], tag.get("value") or "")


@bp.post("/runs/delete-tag")
def delete_tag():
    msg = message()
    run_id = _run_id(msg)
    key = msg.string("key", required=True)
    run_links.check_tag_deletion(key)
    with services().db.write() as conn:
        run_store.delete_tag(conn, current_project_id(), run_id, key)
    return json_response({})


@bp.post("/runs/log-batch")
def log_batch():
    size = request.content_length or len(request.get_data(cache=True))  # chunked: as read
    if size > MAX_BATCH_LOG_REQUEST_SIZE:
        raise invalid(
            f"Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, got a "
            f"request of size {size}."
        )
    msg = message()
    run_id = _run_id(msg)
    items = msg.objects("metrics")
    rows = fast_metric_rows(run_id, items)
    if rows is None:
        field_checks.require_keys(items, "metrics", ("key", "value", "timestamp"))
    param_items, tag_items = msg.objects("params"), msg.objects("tags")
    field_checks.require_keys(param_items, "params", ("key",))
    field_checks.require_keys(tag_items, "tags", ("key",))
    metrics = [] if rows is not None else [_metric_point(m) for m in items]
    params = [_string_pair(p) for p in param_items]
    tags = [_string_pair(t) for t in tag_items]
    batch = run_store.prepare_batch(run_id, metrics, params, tags, metric_rows=rows)
    ci_link = run_links.link_for_logged_tags(current_project_id(), run_id, tags)
    model_points = [_model_point(m) for m in items if isinstance(m, dict) and m.get("model_id")]

    db = services().db
    if not db.is_sqlite and batch.metric_rows and not (params or tags or model_points):
        single_writes.log_metric_batch(db, current_project_id(), batch)
        return json_response({})

    def also(conn):
        run_links.record_link(conn, current_project_id(), run_id, ci_link)
        _record_model_metrics(conn, run_id, model_points)

    run_store.store_batch(db, current_project_id(), batch, also=also)
    return json_response({})


def _model_point(item: dict) -> dict:
    point = _metric_point(item)
    return {"key": point.key, "value": point.value, "timestamp": point.timestamp, "step": point.step,
            **{k: item.get(k) for k in ("model_id", "dataset_name", "dataset_digest")}}


def _string_pair(item: dict) -> dict:
    value = item.get("value")
    if value is not None and not isinstance(value, str):
        value = str(value)
    return {"key": item.get("key"), "value": value}


@bp.route("/runs/search", methods=["GET", "POST"])
def search_runs():
    return json_response(search_runs_payload(message()))


def search_runs_payload(msg) -> dict:
    project_id = current_project_id()
    with services().db.read() as conn:
        experiment_ids = [exps.resolve_experiment_id(conn, project_id, e) for e in msg.strings("experiment_ids")]
        owned = exps.get_experiment_rows(conn, experiment_ids)
        experiment_ids = [e for e in experiment_ids if e in owned and owned[e].project_id == project_id]
        run_ids, next_token = search_run_ids(
            conn,
            experiment_ids=experiment_ids,
            filter_string=msg.string("filter"),
            run_view_type=msg.string("run_view_type") or "ACTIVE_ONLY",
            max_results=msg.integer("max_results", default=1000),
            order_by=msg.strings("order_by"),
            page_token=msg.string("page_token"),
        )
        payload = {"runs": [run_json(r) for r in load_runs(conn, run_ids)]}
    if next_token:
        payload["next_page_token"] = next_token
    return payload


@bp.post("/runs/log-inputs")
def log_inputs():
    msg = message()
    run_id = _run_id(msg)
    dataset_inputs = msg.objects("datasets")
    model_inputs = msg.objects("models")
    run_io.validate_dataset_inputs(dataset_inputs)
    with services().db.write() as conn:
        row = run_store.get_active_run_row(conn, current_project_id(), run_id)
        run_io.log_dataset_inputs(conn, row.experiment_id, run_id, dataset_inputs)
        run_io.log_models(conn, run_id, model_inputs, "input")
    return json_response({})


@bp.post("/runs/outputs")
def log_outputs():
    msg = message()
    run_id = _run_id(msg)
    models = msg.objects("models")
    with services().db.write() as conn:
        run_store.get_active_run_row(conn, current_project_id(), run_id)
        run_io.log_models(conn, run_id, models, "output")
    return json_response({})


@bp.post("/runs/log-model")
def log_model():
    msg = message()
    run_id = _run_id(msg)
    model_json = msg.string("model_json", required=True)
    with services().db.write() as conn:
        run_store.record_logged_model(conn, current_project_id(), run_id, model_json)
    return json_response({})
