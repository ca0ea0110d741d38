"""Artifact endpoints MLflow's web UI calls: the legacy downloads `GET /get-artifact` and
`GET /model-versions/get-artifact` (served next to the UI, not under an API prefix) and
`POST …/upload-artifact` (small files added from the UI)."""
from __future__ import annotations

import io
import posixpath
import urllib.parse

from flask import Blueprint, request

from mltracker.service.artifacts.keys import proxied_root_path
from mltracker.service.api.artifacts import project_key, stream_artifact
from mltracker.service.api.json_response import json_response
from mltracker.service.artifacts.paths import join_key, safe_relative_path
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid
from mltracker.service.registry import versions
from mltracker.service.tracking.runs import get_run_row
from mltracker.service.tracking.validation import missing_value

downloads = Blueprint("ui_downloads", __name__)
uploads = Blueprint("ui_uploads", __name__)

MAX_UI_UPLOAD_BYTES = 10 * 1024 * 1024
_TOO_LARGE = "Artifact size is too large. Max size is 10MB."


def _required_path() -> str:
    raw = request.args.get("path")
    if raw is None:
        raise invalid(missing_value("path"))
    path = safe_relative_path(raw)
    if not path:
        raise invalid(f"Artifact path refers to a directory, not a file: '{raw}'")
    return path


def _run_root(run_id: str | None) -> str:
    if not run_id:
        raise invalid(missing_value("run_id"))
    with services().db.read() as conn:
        run = get_run_row(conn, current_project_id(), run_id)
    return proxied_root_path(run.artifact_uri)


@downloads.get("/get-artifact")
def get_run_artifact():
    path = _required_path()
    root = _run_root(request.args.get("run_id") or request.args.get("run_uuid"))
    return stream_artifact(project_key(join_key(root, path)), path)


@downloads.get("/model-versions/get-artifact")
def get_model_version_artifact():
    path = _required_path()
    with services().db.read() as conn:
        uri = versions.download_uri(conn, current_project_id(), request.args.get("name"), request.args.get("version"))
    return stream_artifact(project_key(join_key(_stored_root(uri), path)), path)


def _stored_root(uri: str) -> str:
    """The artifact-proxy path of a version's files; a runs:/<run_id>/<path> source is looked up."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "runs" and not parsed.netloc:
        run_id, _, inner = parsed.path.lstrip("/").partition("/")
        return join_key(_run_root(run_id), safe_relative_path(inner))
    return proxied_root_path(uri)


@uploads.post("/upload-artifact")
def upload_run_artifact():
    run_id = request.args.get("run_uuid")
    if not run_id:
        raise invalid("Request must specify run_uuid.")
    raw_path = request.args.get("path")
    if not raw_path:
        raise invalid("Request must specify path.")
    path = safe_relative_path(raw_path)
    if not path or not posixpath.basename(path):
        raise invalid("Request must specify path.")
    if request.content_length and request.content_length > MAX_UI_UPLOAD_BYTES:
        raise invalid(_TOO_LARGE)
    data = request.stream.read(MAX_UI_UPLOAD_BYTES + 1)
    if not data:
        raise invalid("Request must specify data.")
    if len(data) > MAX_UI_UPLOAD_BYTES:
        raise invalid(_TOO_LARGE)
    root = _run_root(run_id)
    services().artifacts.write(project_key(join_key(root, path)), io.BytesIO(data))
    return json_response({})
