"""Where the API blueprints are mounted: per project (under one parent blueprint, which carries the
API's authentication in GitLab mode), and at the root in local mode."""
from __future__ import annotations

import re

from flask import Blueprint, Flask, g, request

from mltracker.service.api.json_response import json_response

PROJECT_PREFIX = "/projects/<int:project_id>"
ROOT_API_PATH = re.compile(r"^/(?:ajax-)?api/")


def project_api_blueprint() -> Blueprint:
    """The parent of every per-project API blueprint (one per app)."""
    return Blueprint("project_api", __name__, url_prefix=PROJECT_PREFIX)


def mount(app: Flask, project_api: Blueprint, blueprint: Blueprint, prefixes: list[str]) -> None:
    """Register one blueprint under every prefix, per project and (in local mode) at the root."""
    for index, prefix in enumerate(prefixes):
        project_api.register_blueprint(blueprint, url_prefix=prefix, name=f"{blueprint.name}_p{index}")
        if app.config["MLTRACKER_LOCAL_MODE"]:
            app.register_blueprint(blueprint, url_prefix=prefix or None, name=f"{blueprint.name}_r{index}")


def install_project_scope(app: Flask) -> None:
    @app.url_value_preprocessor
    def _pop_project(_endpoint, values):
        if values and "project_id" in values:
            g.project_id = values.pop("project_id")


def install_root_api_hint(app: Flask) -> None:
    """GitLab mode: the API is only served per project; say so to a client pointed at the root."""
    @app.before_request
    def _hint():
        if request.url_rule is None and ROOT_API_PATH.match(request.path):
            return json_response({
                "error_code": "ENDPOINT_NOT_FOUND",
                "message": "This server runs in GitLab mode: the API is served per project. Use "
                           "MLFLOW_TRACKING_URI=<server>/projects/<gitlab-project-id>.",
            }, 404)
        return None
