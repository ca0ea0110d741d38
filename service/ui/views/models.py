"""Models: the project's registered models, a model's versions, aliases and source candidates, and a
version's page (source, candidate, CI links, aliases, tags)."""
from __future__ import annotations

from flask import g, render_template

from mltracker.service.context import current_project_id, services
from mltracker.service.errors import not_found
from mltracker.service.ui import registry_view
from mltracker.service.ui.blueprint import bp
from mltracker.service.ui.links import ci_links


@bp.get("/models")
def models():
    with services().db.read() as conn:
        found = registry_view.models_of_project(conn, current_project_id())
    return render_template("ui/models.html", models=found)


@bp.get("/models/<path:name>")
def model(name: str):
    with services().db.read() as conn:
        detail = registry_view.model_detail(conn, current_project_id(), name)
    if detail is None:
        raise not_found(f"No model named '{name}' in this project.")
    return render_template("ui/model.html", model=detail.model, versions=detail.versions, run_names=detail.run_names)


@bp.get("/models/<path:name>/versions/<int:version>")
def model_version(name: str, version: int):
    with services().db.read() as conn:
        detail = registry_view.version_detail(conn, current_project_id(), name, version)
    if detail is None:
        raise not_found(f"Model {name} has no version {version} in this project.")
    access = g.get("access")
    ci = ci_links(detail.candidate_tags, services().settings.gitlab_url, access.path if access else None)
    return render_template("ui/model_version.html", v=detail.version, run_name=detail.run_name, ci=ci)
