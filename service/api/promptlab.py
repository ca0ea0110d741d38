"""`POST /ajax-api/2.0/mlflow/runs/create-promptlab-run`: MLflow's UI records a Prompt Lab try."""
from __future__ import annotations

import io
import logging

from flask import Blueprint, request

from mltracker.service.api.artifacts import project_key
from mltracker.service.api.json_response import json_response
from mltracker.service.api.mlflow_json import run_json
from mltracker.service.api.request import message
from mltracker.service.artifacts.keys import proxied_root_path
from mltracker.service.artifacts.paths import join_key
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import promptlab
from mltracker.service.tracking import runs as run_store
from mltracker.service.tracking.clock import now_ms
from mltracker.service.tracking.run_loading import load_runs

log = logging.getLogger("mltracker")
bp = Blueprint("promptlab", __name__)


def _pairs(msg, name: str) -> list[tuple[str, str]]:
    return [(str(p.get("key")), str(p.get("value"))) for p in msg.objects(name)]


@bp.post("/runs/create-promptlab-run")
def create_promptlab_run():
    if request.mimetype != "application/json":
        raise invalid(f"Invalid content type: '{request.content_type}'. Must be 'application/json'.")
    msg = message()
    for name in promptlab.REQUIRED:
        if not msg.raw(name):
            raise invalid(f"CreatePromptlabRun request must specify {name}.")
    project_id = current_project_id()
    with services().db.write() as conn:
        attempt = promptlab.PromptlabTry(
            experiment_id=exps.resolve_experiment_id(conn, project_id, msg.string("experiment_id")),
            run_name=msg.string("run_name"), tags=msg.objects("tags"),
            prompt_template=msg.string("prompt_template"), prompt_parameters=_pairs(msg, "prompt_parameters"),
            model_route=msg.string("model_route"), model_parameters=_pairs(msg, "model_parameters"),
            model_input=msg.string("model_input"), model_output=msg.string("model_output"),
            model_output_parameters=_pairs(msg, "model_output_parameters"),
            user_id=msg.string("user_id") or "unknown", start_time=msg.integer("start_time") or now_ms())
        run_id = promptlab.start(conn, project_id, attempt)
        artifact_uri = run_store.get_run_row(conn, project_id, run_id).artifact_uri
    written = True
    try:
        key = project_key(join_key(proxied_root_path(artifact_uri), promptlab.EVAL_TABLE))
        services().artifacts.write(key, io.BytesIO(promptlab.eval_table(attempt)))
    except Exception:
        log.exception("could not write the evaluation table of Prompt Lab run %s", run_id)
        written = False
    with services().db.write() as conn:
        promptlab.finish(conn, project_id, run_id, written)
        run = load_runs(conn, [run_id])[0]
    return json_response({"run": run_json(run)})
