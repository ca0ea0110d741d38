"""The web UI: server-rendered Jinja2 pages (autoescaped), no front-end build step.

Mounted per project under /projects/<id>/ (and at / in local mode); sign-in, static files and the
project list live at the root (/-/…).
"""
from __future__ import annotations

from flask import Flask

from mltracker.service.settings import Settings


def install_ui(app: Flask, settings: Settings) -> None:
    from mltracker.service.ui import site, views  # noqa: F401 - views attach their routes to the blueprint
    from mltracker.service.ui.blueprint import bp, install_html_not_found
    from mltracker.service.ui.mlflow_ui import install_mlflow_ui
    from mltracker.service.ui.security import configure_sessions, install_security_headers

    configure_sessions(app, settings)
    install_security_headers(app)
    app.register_blueprint(site.bp)
    app.register_blueprint(bp, url_prefix="/projects/<int:project_id>", name="ui_p")
    if settings.local_mode:
        app.register_blueprint(bp, url_prefix=None, name="ui")
    else:
        app.add_url_rule("/", endpoint="ui_projects", view_func=site.projects)
    install_mlflow_ui(app, settings)
    install_html_not_found(app)
