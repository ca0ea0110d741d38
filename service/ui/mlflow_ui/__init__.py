"""MLflow's own web UI next to mltracker's pages (when the mlflow package is installed)."""
from __future__ import annotations

from flask import Flask

from mltracker.service.settings import Settings


def install_mlflow_ui(app: Flask, settings: Settings) -> None:
    from mltracker.service.auth.flask_auth import BROWSER_CREDENTIAL
    from mltracker.service.ui.mlflow_ui.browser_auth import browser_credential
    from mltracker.service.ui.mlflow_ui.paths import MlflowUiPaths
    from mltracker.service.ui.mlflow_ui.views import bp, mlflow_ui_url

    app.register_blueprint(bp, url_prefix="/projects/<int:project_id>/mlflow", name="mlflow_ui_p")
    app.register_blueprint(bp, url_prefix="/mlflow", name="mlflow_ui_root")
    app.add_template_global(mlflow_ui_url, "mlflow_ui_url")
    app.wsgi_app = MlflowUiPaths(app.wsgi_app)
    if not settings.local_mode:
        app.extensions[BROWSER_CREDENTIAL] = browser_credential
