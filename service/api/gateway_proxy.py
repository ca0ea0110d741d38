"""`/ajax-api/2.0/mlflow/gateway-proxy`: MLflow's UI lists a deployments server's endpoints and
invokes one through the tracking server. Without MLFLOW_DEPLOYMENTS_TARGET there is no deployments
server and the list is empty (as `mlflow server` answers); with it, the two request shapes MLflow
allows are forwarded there, bounded in time and size."""
from __future__ import annotations

import json
import re
import urllib.parse

import requests
from flask import Blueprint, request

from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.context import services
from mltracker.service.errors import MlflowError, invalid

bp = Blueprint("gateway_proxy", __name__)
TIMEOUT_S, MAX_ANSWER = 120.0, 16 * 1024 * 1024
_INVOCATION = re.compile(r"gateway/[^/]+/invocations")


def _check_path(method: str, path) -> str:
    if not path or not isinstance(path, str):
        raise invalid("Deployments proxy request must specify a gateway_path.")
    allowed = path.strip("/") == "api/2.0/endpoints" if method == "GET" else _INVOCATION.fullmatch(path.strip("/"))
    if not allowed:
        raise invalid(f"Invalid gateway_path: {path[:500]} for method: {method}")
    return path.strip("/")


@bp.route("/gateway-proxy", methods=["GET", "POST"])
def gateway_proxy():
    target = services().settings.deployments_target
    if not target:
        return json_response({"endpoints": []})
    msg = message()
    path = _check_path(request.method, msg.raw("gateway_path"))
    url = f"{target}/{urllib.parse.quote(path, safe='/')}"
    try:
        with requests.request(request.method, url, json=msg.raw("json_data"), timeout=TIMEOUT_S, stream=True,
                              allow_redirects=False) as answer:
            body = answer.raw.read(MAX_ANSWER + 1, decode_content=True)
    except requests.RequestException as exc:
        raise MlflowError(f"Deployments proxy request failed: {type(exc).__name__}", "INTERNAL_ERROR") from None
    if len(body) > MAX_ANSWER:
        raise MlflowError("Deployments proxy answer is larger than this server relays (16 MiB).", "INTERNAL_ERROR")
    if answer.status_code != 200:
        raise MlflowError(f"Deployments proxy request failed with error code {answer.status_code}. "
                          f"Error message: {body[:2000].decode(errors='replace')}", "INTERNAL_ERROR")
    try:
        return json_response(json.loads(body))
    except ValueError:
        raise MlflowError("Deployments proxy answer is not JSON.", "INTERNAL_ERROR") from None
