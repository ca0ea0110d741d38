"""Where the API blueprints are mounted: per project, and at the root in local mode."""
from __future__ import annotations

from flask import Blueprint, Flask, g

PROJECT_PREFIX = "/projects/<int:project_id>"


def mount(app: Flask, blueprint: Blueprint, prefixes: list[str]) -> None:
    """Register one blueprint under every prefix, per project and (in local mode) at the root."""
    for index, prefix in enumerate(prefixes):
        app.register_blueprint(
            blueprint, url_prefix=PROJECT_PREFIX + prefix, name=f"{blueprint.name}_p{index}"
        )
        if app.config["MLTRACKER_LOCAL_MODE"]:
            app.register_blueprint(blueprint, url_prefix=prefix or None, name=f"{blueprint.name}_r{index}")


def install_project_scope(app: Flask) -> None:
    @app.url_value_preprocessor
    def _pop_project(_endpoint, values):
        if values and "project_id" in values:
            g.project_id = values.pop("project_id")
