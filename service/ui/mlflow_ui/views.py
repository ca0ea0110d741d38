"""MLflow's own web UI, served from the installed mlflow package at /mlflow/ (local mode) and at
/projects/<id>/mlflow/, behind the same sign-in as mltracker's pages.

The UI asks for everything relative to its page (`ajax-api/2.0/mlflow/…`, `graphql`,
`get-artifact`, …); `paths.MlflowUiPaths` hands those requests to the project's API.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, send_from_directory, url_for

from mltracker.service.context import current_project_id
from mltracker.service.ui.access import local_mode, project_access
from mltracker.service.ui.blueprint import access_denied_page, sign_in_redirect
from mltracker.service.ui.gitlab_access import AccessDenied, SignInRequired
from mltracker.service.ui.mlflow_ui.bundle import INSTALL_HINT, find_bundle
from mltracker.service.ui.security import csrf_token

bp = Blueprint("mlflow_ui", __name__)
bp.register_error_handler(SignInRequired, sign_in_redirect)
bp.register_error_handler(AccessDenied, access_denied_page)

# The UI copies cookies named mlflow-request-header-<Name> into a request header <Name> on every
# call it makes; the API accepts the browser's session there only with this header (CSRF).
CSRF_COOKIE = "mlflow-request-header-X-CSRF-Token"
# File names under static-files/ carry a content hash: they never change.
STATIC_MAX_AGE_S = 28 * 24 * 3600


@bp.get("/")
def index():
    bundle = find_bundle()
    if bundle is None:
        return _not_installed()
    if not local_mode() and request.blueprint == "mlflow_ui_root":
        return redirect("/")  # GitLab mode: MLflow's UI is per project; choose one first
    g_access = None if local_mode() else project_access(current_project_id())
    home = url_for("ui.index") if local_mode() else url_for("ui_p.index", project_id=g_access.project_id)
    script = url_for("ui_site.static", filename="mlflow-ui-link.js")
    response = make_response(bundle.page(home, script))
    response.headers["Cache-Control"] = "no-store"
    if not local_mode():
        response.set_cookie(CSRF_COOKIE, csrf_token(), path=request.path, samesite="Strict",
                            secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/static-files/<path:filename>")
def static_file(filename: str):
    bundle = find_bundle()
    if bundle is None:
        abort(404)
    return send_from_directory(bundle.root, filename, max_age=STATIC_MAX_AGE_S)


@bp.get("/<path:_rest>")
def _unknown(_rest: str):
    if find_bundle() is None:
        return _not_installed()
    abort(404)


def _not_installed():
    return render_template(
        "ui/error.html", status=404, title="MLflow's web UI is not installed",
        message="This server can show MLflow's own web UI next to its own pages when the mlflow "
                "package is installed in its environment.",
        hint=f"Install it with: {INSTALL_HINT} — then restart the server.",
    ), 404


def mlflow_ui_url(fragment: str = "") -> str | None:
    """Where MLflow's UI for this request's project is (with an optional "#/…" route), or None
    when it is not installed."""
    if find_bundle() is None:
        return None
    if local_mode():
        return url_for("mlflow_ui_root.index") + fragment
    return url_for("mlflow_ui_p.index", project_id=current_project_id()) + fragment
