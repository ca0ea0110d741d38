"""Model version sources: what a new version points at, checked as MLflow's server checks it.

A source is one of
- `models:/m-<id>`: a logged model of this project (the request's model_id must name it); the
  version's storage location becomes the logged model's artifact location;
- `models:/<name>/<version|stage|latest>` or `models:/<name>@<alias>`: another registered model
  version of this project (copied lineage);
- `runs:/<run_id>/<path>`: the request's run_id must be that run, and not another project's;
- `mlflow-artifacts:/…` (or an http(s) URL into the artifact proxy): must lie inside the artifact
  root of the request's run (or logged model), which must belong to this project;
- any other remote URI (s3://, gs://, …), free of relative path segments.
Local paths are refused: this server's artifacts are never on the client's file system.
"""
from __future__ import annotations

import posixpath
import re
import urllib.parse
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mltracker.service.db.schema import runs
from mltracker.service.errors import MlflowError, invalid
from mltracker.service.logged_models import store as logged_model_store
from mltracker.service.registry import host_addressed


@dataclass(frozen=True)
class ResolvedSource:
    source: str
    storage_location: str
    run_id: str | None
    model_id: str | None


@dataclass(frozen=True)
class ModelUri:
    model_id: str | None = None
    name: str | None = None
    version: str | None = None  # digits, a stage name, or None for "latest"
    alias: str | None = None


def improper_model_uri(uri: str) -> MlflowError:
    return invalid(
        f"Not a proper models:/ URI: {uri}. Models URIs must be of the form 'models:/name/suffix' "
        "or 'models:/name@alias' where suffix is a version, stage, or the string 'latest'."
    )


def parse_model_uri(uri: str) -> ModelUri:
    parsed = urllib.parse.urlparse(uri, allow_fragments=False)
    path = parsed.path
    if parsed.scheme != "models" or not path.startswith("/") or len(path) <= 1:
        raise improper_model_uri(uri)
    parts = path.lstrip("/").split("/")
    if len(parts) > 2 or not parts[0].strip():
        raise improper_model_uri(uri)
    if len(parts) == 2:
        if not parts[1].strip():
            raise improper_model_uri(uri)
        suffix = parts[1]
        return ModelUri(name=parts[0], version=None if suffix.lower() == "latest" else suffix)
    if "@" in path:
        name, _, alias = parts[0].rpartition("@")
        if not alias.strip():
            raise improper_model_uri(uri)
        return ModelUri(name=name, alias=alias)
    return ModelUri(model_id=parts[0])


def check_source_pattern(source: str, pattern: str | None) -> None:
    """The server's own rule for sources (MLflow's MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX)."""
    if source and pattern and not re.search(pattern, source):
        raise invalid(f"Invalid model version source: '{source}'.")


def _not_identified(source: str, id_name: str) -> MlflowError:
    return invalid(
        f"Invalid model version source: '{source}'. The {id_name} request parameter must "
        "identify the resource that contains the source."
    )


def _check_no_relative_paths(source: str) -> None:
    message = invalid(
        f"Invalid model version source: '{source}'. If supplying a source as an http, https, "
        "local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be "
        "provided without relative path references present. Please provide an absolute path."
    )
    decoded = source
    while (unquoted := urllib.parse.unquote_plus(decoded)) != decoded:
        decoded = unquoted
    path = re.sub(r"/+", "/", urllib.parse.urlparse(decoded).path.rstrip("/"))
    if "\x00" in path or ".." in decoded.split("/"):
        raise message
    if path and posixpath.normpath(path) != path and path != "/":
        raise message


def _is_local(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("", "file")


def _uri_parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parsed = urllib.parse.urlsplit(uri)
    parts = []
    for part in parsed.path.split("/"):
        while (unquoted := urllib.parse.unquote(part)) != part:
            part = unquoted
        if part:
            parts.append(part)
    return parsed.scheme.lower(), parsed.netloc.lower(), tuple(parts)


def is_artifact_proxy_uri(source: str) -> bool:
    scheme, _, parts = _uri_parts(source)
    if scheme == "mlflow-artifacts":
        return True
    route = ("api", "2.0", "mlflow-artifacts", "artifacts")
    return scheme in ("http", "https") and any(
        parts[i : i + len(route)] == route for i in range(len(parts) - len(route) + 1)
    )


def _within(source: str, root: str) -> bool:
    s_scheme, s_host, s_parts = _uri_parts(source)
    r_scheme, r_host, r_parts = _uri_parts(root)
    return (s_scheme, s_host) == (r_scheme, r_host) and bool(r_parts) and s_parts[: len(r_parts)] == r_parts


def _run_artifact_uri(conn: Connection, project_id: int, run_id: str, source: str) -> str:
    row = conn.execute(select(runs.c.artifact_uri, runs.c.project_id).where(runs.c.run_uuid == run_id)).first()
    if row is None or row.project_id != project_id:
        raise _not_identified(source, "run_id")
    return row.artifact_uri


def _refuse_other_projects_run(conn: Connection, project_id: int, run_id: str, source: str) -> None:
    """A runs:/ source may name a run that does not exist (as in mlflow server: nothing is read
    through it until the run is there, and reads are checked against the project then); a run of
    another project is refused."""
    owner = conn.execute(select(runs.c.project_id).where(runs.c.run_uuid == run_id)).scalar()
    if owner is not None and owner != project_id:
        raise _not_identified(source, "run_id")


def _logged_model(conn: Connection, project_id: int, model_id: str, source: str):
    try:
        return logged_model_store.get_row(conn, project_id, model_id)
    except MlflowError as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise _not_identified(source, "model_id") from None
        raise


def _local_refused(source: str, id_name: str, owner: str, id_given: bool) -> MlflowError:
    # With an id, MLflow names the path it resolved: a file: URI's path (our paths stay unresolved:
    # the server's working directory is none of the client's business).
    shown = urllib.parse.urlparse(source).path if id_given and source.startswith("file:") else source
    return invalid(
        f"Invalid model version source: '{shown}'. To use a local path as a model version "
        f"source, the {id_name} request parameter has to be specified and the local path has to be "
        f"contained within the artifact directory of the {owner}."
    )


def resolve(
    conn: Connection,
    project_id: int,
    source: str,
    run_id: str | None,
    model_id: str | None,
    lookup_version=None,
    allowed_schemes: frozenset[str] = frozenset(),
) -> ResolvedSource:
    """Check `source` against the request's run_id / model_id and work out where it is stored.

    `lookup_version(name, ModelUri) -> model_versions row` resolves registered-model sources.
    """
    if (refused := host_addressed.refusal(source, "source", allowed_schemes)) is not None:
        raise refused
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "models":
        if parsed.netloc:
            raise invalid(
                f"Invalid model version source: '{source}'. Registered model sources must use the "
                "active model registry."
            )
        try:
            uri = parse_model_uri(source)
        except MlflowError:
            raise _not_identified(source, "model_id") from None
        if uri.model_id is None:
            return _from_registered_version(source, uri, run_id, model_id, lookup_version)
        if not model_id or model_id != uri.model_id:
            raise _not_identified(source, "model_id")
        model = _logged_model(conn, project_id, model_id, source)
        return ResolvedSource(source, model.artifact_location, run_id or model.source_run_id, model_id)

    if model_id:
        model = _logged_model(conn, project_id, model_id, source)
        if _is_local(source):
            raise _local_refused(source, "model_id", "run specified by the model_id", id_given=True)
        _check_no_relative_paths(source)
        if parsed.scheme == "runs":
            raise _not_identified(source, "model_id")
        if is_artifact_proxy_uri(source) and not _within(source, model.artifact_location):
            raise _not_identified(source, "model_id")
        return ResolvedSource(source, source, run_id or model.source_run_id, model_id)

    if _is_local(source):
        raise _local_refused(source, "run_id", "run specified by the run_id", id_given=bool(run_id))
    _check_no_relative_paths(source)
    if parsed.scheme == "runs":
        source_run = parsed.path.lstrip("/").split("/", 1)[0] if not parsed.netloc else None
        if not source_run or source_run != run_id:
            raise _not_identified(source, "run_id")
        _refuse_other_projects_run(conn, project_id, run_id, source)
    elif is_artifact_proxy_uri(source):
        if not run_id or not _within(source, _run_artifact_uri(conn, project_id, run_id, source)):
            raise _not_identified(source, "run_id")
    return ResolvedSource(source, source, run_id or None, None)


def _from_registered_version(source, uri: ModelUri, run_id, model_id, lookup_version) -> ResolvedSource:
    row = lookup_version(uri)
    if (run_id is not None and run_id != (row.run_id or "")) or (
        model_id is not None and model_id != (row.model_id or "")
    ):
        raise invalid(
            f"Invalid model version source: '{source}'. The run_id and model_id request "
            "parameters must match the referenced model version."
        )
    return ResolvedSource(
        f"models:/{row.name}/{row.version}",
        row.storage_location,
        run_id if run_id is not None else row.run_id,
        model_id if model_id is not None else row.model_id,
    )
