"""Health, version and the capability document MLflow 3 clients read."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import text

from mltracker.service.api.json_response import json_response
from mltracker.service.api.presigned_downloads import multipart_downloads_enabled
from mltracker.service.version import mltracker_version
from mltracker.service.context import services

bp = Blueprint("server_info", __name__)
log = logging.getLogger("mltracker")

# The MLflow release whose REST API this server implements. The stock client reads `/version` to
# decide which calls it may make (for example `log_spans` needs 3.4 or later), so this is what
# `/version` answers; mltracker's own version is at `/api/mltracker/version` and in a header.
MLFLOW_API_VERSION = "3.6.0"
VERSION_HEADER = "X-Mltracker-Version"


@bp.get("/health")
def health():
    """Liveness: the process answers. With ?deep=1, readiness (as /ready)."""
    if request.args.get("deep", "").lower() in ("1", "true", "yes"):
        return ready()
    return Response("OK", mimetype="text/plain")


@bp.get("/ready")
def ready():
    """Readiness: the database answers a query and the artifact store is reachable, each within
    the configured timeouts. 503 names the part that failed (never why: no internals leak)."""
    checks = {"database": _check_database, "artifacts": lambda: services().artifacts.probe()}
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            # No traceback: the endpoint needs no sign-in, and a probe loop must not flood the log.
            log.warning("readiness check failed: %s (%s)", name, type(exc).__name__)
            results[name] = "unavailable"
    ok = all(value == "ok" for value in results.values())
    return json_response({"status": "ok" if ok else "unavailable", **results}, 200 if ok else 503)


def _check_database() -> None:
    with services().db.read() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


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
        "multipart_downloads_enabled": multipart_downloads_enabled(),
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    })
