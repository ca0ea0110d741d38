"""Health, version and the capability document MLflow 3 clients read."""
from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response

from mltracker.service.api.json_response import json_response
from mltracker.service.context import services

bp = Blueprint("server_info", __name__)

# The MLflow release whose REST API this server implements. The stock client reads `/version` to
# decide which calls it may make (for example `log_spans` needs 3.4 or later), so this is what
# `/version` answers; mltracker's own version is at `/api/mltracker/version` and in a header.
MLFLOW_API_VERSION = "3.6.0"
VERSION_HEADER = "X-Mltracker-Version"


@cache
def mltracker_version() -> str:
    try:
        return version("mltracker")
    except PackageNotFoundError:
        return "0.0.0"


@bp.get("/health")
def health():
    return Response("OK", mimetype="text/plain")


@bp.get("/version")
def get_version():
    return Response(MLFLOW_API_VERSION, mimetype="text/plain")


@bp.get("/api/mltracker/version")
def get_mltracker_version():
    return json_response({"mltracker": mltracker_version(), "mlflow_api": MLFLOW_API_VERSION})


@bp.after_app_request
def add_version_header(response):
    response.headers[VERSION_HEADER] = mltracker_version()
    return response


def server_info():
    return json_response({
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": services().artifacts.supports_multipart,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    })
