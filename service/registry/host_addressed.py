"""Sources whose scheme names a host to connect to (ftp, http, hdfs, ...), refused as `mlflow server`
3.17 refuses them (mlflow/store/artifact/host_policy.py): a version's files are served from this
server's own artifact store, never fetched from a host a client named.

MLflow's knob MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES (comma-separated schemes) is honoured:
it reaches here as `allowed`, from Settings.
"""
from __future__ import annotations

import urllib.parse

from mltracker.service.errors import MlflowError, invalid

HOST_ADDRESSED_SCHEMES = frozenset({
    "ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2", "b2", "abfss",
})
ALLOW_VARIABLE = "MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES"


def _scheme(uri: str) -> str:
    return urllib.parse.urlparse(uri).scheme.lower()


def _names_a_host(uri: str) -> bool:
    scheme = _scheme(uri)
    if scheme not in HOST_ADDRESSED_SCHEMES:
        return False
    # mlflow-artifacts:/path resolves against this server itself
    return scheme != "mlflow-artifacts" or bool(urllib.parse.urlparse(uri).netloc)


def refusal(uri: str, field_name: str, allowed: frozenset[str] = frozenset()) -> MlflowError | None:
    if not _names_a_host(uri) or _scheme(uri) in allowed:
        return None
    scheme = _scheme(uri)
    return invalid(
        f"'{field_name}' cannot use the '{scheme}' scheme: the '{scheme}' scheme addresses a host other "
        "than the tracking server's configured artifact storage, so the server would connect to the host "
        f"named in the URI. Set the {ALLOW_VARIABLE} environment variable on the server to allow it."
    )
