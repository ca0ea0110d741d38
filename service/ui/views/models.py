"""Models: the project's registered models, and a model's versions, aliases and source candidates."""
from __future__ import annotations

from flask import render_template

from mltracker.service.context import current_project_id, services
from mltracker.service.errors import not_found
from mltracker.service.ui import registry_view
from mltracker.service.ui.blueprint import bp


@bp.get("/models")
def models():
    with services().db.read() as conn:
        found = registry_view.models_of_project(conn, current_project_id())
    return render_template("ui/models.html", models=found, available=registry_view.available())


@bp.get("/models/<path:name>")
def model(name: str):
    with services().db.read() as conn:
        detail = registry_view.model_detail(conn, current_project_id(), name)
    if detail is None:
        raise not_found(f"No model named '{name}' in this project.")
    found, versions = detail
    return render_template("ui/model.html", model=found, versions=versions)
