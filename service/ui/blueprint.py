"""The project-scoped UI blueprint, its URL helper, template globals and HTML error pages."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, NotFound

from mltracker.service.version import mltracker_version
from mltracker.service.context import current_project_id
from mltracker.service.errors import MlflowError
from mltracker.service.ui import formatting
from mltracker.service.ui.access import current_viewer, local_mode, project_access
from mltracker.service.ui.gitlab_access import AccessDenied, SignInRequired
from mltracker.service.ui.security import check_csrf, csrf_token

bp = Blueprint("ui", __name__, template_folder="templates")

API_PREFIXES = ("/api/", "/ajax-api/", "/projects/")


def ui_url(endpoint: str, **values) -> str:
    """URL of a project page, under the same mount (root or /projects/<id>) as this request."""
    name = request.blueprint if request.blueprint in ("ui", "ui_p") else ("ui" if local_mode() else "ui_p")
    if name == "ui_p":
        values.setdefault("project_id", current_project_id())
    return url_for(f"{name}.{endpoint}", **values)


def project_url(project_id: int) -> str:
    return url_for("ui_p.index", project_id=project_id)


@bp.before_request
def _authorize():
    """Every page: CSRF on forms, then the viewer's access to the project (in GitLab mode the
    API's Authorizer decides, with the signed-in user's credential); refusals render as HTML."""
    check_csrf()
    g.access = project_access(current_project_id())


@bp.app_context_processor
def _globals():
    return {
        "ui_url": ui_url,
        "project_url": project_url,
        "csrf_token": csrf_token,
        "viewer": current_viewer(),
        "local_mode": local_mode(),
        "access": g.get("access"),
        "mltracker_version": mltracker_version(),
    }


for _name, _filter in formatting.FILTERS.items():
    bp.add_app_template_filter(_filter, _name)
bp.add_app_template_global(formatting.duration_text, "duration")


def error_page(status: int, title: str, message: str, hint: str | None = None):
    return render_template("ui/error.html", status=status, title=title, message=message, hint=hint), status


@bp.errorhandler(MlflowError)
def _mlflow_error(exc: MlflowError):
    if exc.http_status == 404:
        return error_page(404, "Not found", exc.message, "It may have been deleted. Go back to the experiments list.")
    if exc.http_status == 403:
        return error_page(403, "Not allowed", exc.message)
    return error_page(exc.http_status if exc.http_status < 500 else 500, "Something went wrong", exc.message)


@bp.errorhandler(SignInRequired)
def sign_in_redirect(_exc):
    return redirect(url_for("ui_site.sign_in", next=request.full_path.rstrip("?")))


@bp.errorhandler(AccessDenied)
def access_denied_page(exc: AccessDenied):
    if exc.status >= 500:
        page, status = error_page(exc.status, "GitLab is unavailable", str(exc), "Reload the page in a moment.")
        return page, status, ({"Retry-After": str(exc.retry_after)} if exc.retry_after else {})
    hint = "Ask a maintainer of the GitLab project for access, or sign in as another user."
    return error_page(exc.status, "Not found" if exc.status == 404 else "Not allowed", str(exc), hint)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Not allowed"}
    return error_page(exc.code or 500, titles.get(exc.code, exc.name), exc.description or exc.name)


def install_html_not_found(app: Flask) -> None:
    """Browsers get an HTML page for unknown URLs outside the API; API clients keep MLflow JSON."""
    api_handler = app.error_handler_spec[None][404].get(NotFound)

    def _not_found(exc):
        accept = request.accept_mimetypes
        html = accept.quality("text/html") > accept.quality("application/json")  # browsers, not API clients
        api_path = any(p in request.path for p in ("/api/", "/ajax-api/", "/webhooks/"))
        if html and not api_path:
            home = "/" if not current_app.config["MLTRACKER_LOCAL_MODE"] else url_for("ui.index")
            return render_template(
                "ui/error.html", status=404, title="Page not found",
                message=f"There is no page at {request.path}.", hint=None, home=home,
            ), 404
        return api_handler(exc) if api_handler else exc

    app.register_error_handler(NotFound, _not_found)
