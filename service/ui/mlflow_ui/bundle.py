"""MLflow's bundled web UI (the React build inside the installed `mlflow` package), found without
importing mlflow: mltracker's core never needs the package, the optional extra brings it."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

INSTALL_HINT = "pip install 'mltracker[mlflow-ui]'"

# A small fixed link back to mltracker, added to MLflow's page. Its script (served by mltracker)
# keeps the link pointing at the experiment or run the MLflow UI shows.
BACK_LINK = (
    '<a id="mltracker-link" href="{home}" data-base="{home}" '
    'style="position:fixed;right:72px;bottom:16px;z-index:2147483000;padding:6px 12px;'
    'border-radius:16px;background:#1f75cb;color:#fff;font:13px/1.4 system-ui,sans-serif;'
    'text-decoration:none;box-shadow:0 1px 4px rgba(0,0,0,.3)">Open in mltracker</a>'
    '<script src="{script}" defer></script>'
)


@dataclass(frozen=True)
class Bundle:
    root: Path  # mlflow/server/js/build
    version: str | None

    @property
    def index_html(self) -> str:
        return _read_index(self.root / "index.html")

    def page(self, home: str, script: str) -> str:
        """index.html with the link back to mltracker before </body>."""
        link = BACK_LINK.format(home=_attr(home), script=_attr(script))
        html = self.index_html
        return html.replace("</body>", link + "</body>", 1) if "</body>" in html else html + link


@lru_cache(maxsize=4)
def _read_index(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@lru_cache(maxsize=1)
def find_bundle() -> Bundle | None:
    """The installed mlflow's UI build, or None (mlflow missing, or mlflow-skinny without the UI)."""
    try:
        spec = importlib.util.find_spec("mlflow")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        root = Path(location) / "server" / "js" / "build"
        if (root / "index.html").is_file():
            return Bundle(root, _installed_version())
    return None


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlflow")
    except PackageNotFoundError:
        return None
