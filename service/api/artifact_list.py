"""The tracking API's GET /artifacts/list: a run's artifacts, with paths relative to its root."""
from __future__ import annotations

import posixpath
from urllib.parse import urlparse

from flask import Blueprint

from mltracker.service.api.artifacts import file_info_json, project_key
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.artifacts.paths import join_key, safe_relative_path
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.tracking.runs import get_run_row

bp = Blueprint("artifact_list", __name__)

_HTTP_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"


def proxied_root_path(artifact_uri: str) -> str:
    """The artifact-proxy path of a run's root: mlflow-artifacts:/3/abc/artifacts → 3/abc/artifacts."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "mlflow-artifacts":
        root = parsed.path
    elif parsed.scheme in ("http", "https") and _HTTP_ANCHOR in parsed.path:
        root = parsed.path.split(_HTTP_ANCHOR, 1)[1]
    else:
        raise invalid(f"The artifacts of this run are not served by this server ({parsed.scheme or 'no'} scheme)")
    return safe_relative_path(root.lstrip("/"))


@bp.get("/artifacts/list")
def list_run_artifacts():
    msg = message()
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
    return json_response({"root_uri": run.artifact_uri, "files": files})
