"""Where a client's artifact path lives in storage, and how a download names and types itself.

Shared by the artifact proxy API, the tracking API's listings, logged models, the registry's
source checks and the web UI: one set of rules for every door into the artifact store.
"""
from __future__ import annotations

import mimetypes
import posixpath
import unicodedata
from urllib.parse import quote, urlparse

from werkzeug.http import quote_header_value

from mltracker.service.artifacts.paths import join_key, safe_relative_path
from mltracker.service.errors import invalid

_HTTP_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"
# The extensions (and extensionless names) MLflow serves as text/plain (mlflow/utils/mime_type_utils.py).
_TEXT_NAMES = {"txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon",
               "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "ipynb",
               "MLmodel", "mlproject"}  # MLflow's MLPROJECT_FILE_NAME is lower-case


def project_storage_key(project_id: int, relative_path: str) -> str:
    """The storage key of a client path in a project: "<project>/<path>"."""
    return join_key(str(project_id), relative_path)


def proxied_root_path(artifact_uri: str) -> str:
    """The artifact-proxy path of a run's root: mlflow-artifacts:/3/abc/artifacts → 3/abc/artifacts."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "mlflow-artifacts":
        root = parsed.path
    elif parsed.scheme in ("http", "https") and _HTTP_ANCHOR in parsed.path:
        root = parsed.path.split(_HTTP_ANCHOR, 1)[1]
    else:
        raise invalid(f"The artifacts of this run are not served by this server ({parsed.scheme or 'no'} scheme)")
    return safe_relative_path(root.lstrip("/"))


def guess_mime_type(name: str) -> str:
    extension = posixpath.splitext(name)[1].replace(".", "") or name
    if extension in _TEXT_NAMES:
        return "text/plain"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def content_disposition(name: str) -> str:
    """As MLflow writes it: a token or quoted file name, plus an RFC 5987 UTF-8 form when not ASCII."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or "download"
        encoded = quote(name, safe="!#$&+-.^_`|~")
        return f"attachment; filename={quote_header_value(fallback, allow_token=True)}; filename*=UTF-8''{encoded}"
    return f"attachment; filename={quote_header_value(name, allow_token=True)}"
