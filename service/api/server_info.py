"""Health, version and the capability document MLflow 3 clients read."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response

from service.api.json_response import json_response
from service.context import services

bp = Blueprint("server_info", __name__)


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
    return Response(mltracker_version(), mimetype="text/plain")


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
