"""The tracking API's GET /artifacts/list: a run's artifacts, with paths relative to its root."""
from __future__ import annotations

import posixpath

from flask import Blueprint

from mltracker.service.api.artifacts import file_info_json, project_key
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.artifacts.keys import proxied_root_path
from mltracker.service.artifacts.paths import join_key, safe_relative_path
from mltracker.service.context import current_project_id, services
from mltracker.service.tracking.runs import get_run_row

bp = Blueprint("artifact_list", __name__)




@bp.get("/artifacts/list")
def list_run_artifacts():
    return json_response(list_artifacts_payload(message()))


def list_artifacts_payload(msg) -> dict:
    run_id = msg.string("run_id", required=True, aliases=("run_uuid",))
    raw_path = msg.string("path")
    relative = safe_relative_path(raw_path)
    with services().db.read() as conn:
        run = get_run_row(conn, current_project_id(), run_id)
    root = proxied_root_path(run.artifact_uri)
    infos = services().artifacts.list_dir(project_key(join_key(root, relative)))
    files = [
        file_info_json(info, posixpath.join(relative, info.path) if relative else info.path)
        for info in infos
    ]
    return {"root_uri": run.artifact_uri, "files": files}
