"""MLflow's UI calls the server relative to its page: from /projects/5/mlflow/ it asks for
/projects/5/mlflow/ajax-api/2.0/mlflow/runs/search, /projects/5/mlflow/graphql, … This WSGI
middleware hands those requests to the project's API (/projects/5/ajax-api/…) and marks them as
coming from that page, where the API may accept the browser's sign-in (see browser_auth)."""
from __future__ import annotations

import re

# <project root>/mlflow/<what the UI calls>; the project root is "" (local mode) or /projects/<id>.
UI_API_PATH = re.compile(
    r"^(?P<root>(?:/projects/\d{1,18})?)/mlflow/"
    r"(?P<api>(?:ajax-api|api)/.*|graphql|get-artifact|model-versions/get-artifact)$",
    re.DOTALL,
)
FROM_MLFLOW_UI = "mltracker.from_mlflow_ui"


class MlflowUiPaths:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if "/mlflow/" in path[:40]:
            match = UI_API_PATH.match(path)
            if match:
                environ["PATH_INFO"] = f"{match['root']}/{match['api']}"
                environ[FROM_MLFLOW_UI] = True
        return self.app(environ, start_response)


def from_mlflow_ui(environ) -> bool:
    return bool(environ.get(FROM_MLFLOW_UI))
