"""Artifacts copied file by file, each streamed from the source's artifact proxy into our storage
(never whole in memory). A file already stored with the same size is skipped, so a resumed import
does not download again what an interrupted one finished; storage writes are atomic, so a file cut
off midway was never stored."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

from mltracker.service.artifacts.paths import join_key, safe_relative_path
from mltracker.service.artifacts.storage import ArtifactStorage
from mltracker.service.importer.source import SourceClient
from mltracker.service.importer.summary import Summary

_PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"
# GitLab's built-in tracker: a candidate's artifact_uri is its package; the MLflow artifact routes
# of the tracking URI serve the same files under "candidate:<iid>", or under the version's id for
# the candidate of a model version (lib/api/entities/ml/mlflow/run_info.rb, model_version_uri).
_GITLAB_CANDIDATE_PACKAGE = re.compile(r"/packages/ml_models/(candidate:\d+|\d+)/files/?$")


def proxied_path(artifact_uri: str | None) -> str | None:
    """The artifact-proxy path of a source artifact root, or None when the source does not serve it
    (artifacts stored straight in the user's own bucket are not readable over the MLflow API)."""
    if not artifact_uri:
        return None
    parts = urlsplit(artifact_uri)
    if parts.scheme == "mlflow-artifacts":
        return unquote(parts.path).strip("/")
    if parts.scheme in ("http", "https") and _PROXY_ANCHOR in parts.path:
        return unquote(parts.path.split(_PROXY_ANCHOR, 1)[1]).strip("/")
    package = _GITLAB_CANDIDATE_PACKAGE.search(unquote(parts.path)) if parts.scheme in ("http", "https") else None
    if package:
        return package.group(1)
    return None


class _CountingStream:
    """A file-like view of the download that counts the bytes read."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.bytes += len(data)
        return data


def copy_tree(source: SourceClient, storage: ArtifactStorage, source_root: str, target_root_key: str,
              summary: Summary) -> None:
    """Copy everything under source_root (a proxy path) to the storage keys under target_root_key."""
    pending = [""]
    while pending:
        relative = pending.pop()
        listed = source.list_artifacts(join_key(source_root, relative))
        present = {info.path: info for info in storage.list_dir(join_key(target_root_key, relative))}
        for entry in listed:
            # MLflow lists names inside the directory; GitLab lists the whole tree from the root.
            name = safe_relative_path(entry.path if "/" in entry.path else posixpath.basename(entry.path))
            child = join_key(relative, name)
            if entry.is_dir:
                pending.append(child)
                continue
            stored = present.get(name)
            if stored is not None and not stored.is_dir and (stored.file_size or 0) == (entry.size or 0):
                summary.add("artifact_files_present")
                continue
            _copy_file(source, storage, join_key(source_root, child), join_key(target_root_key, child), summary)


def _copy_file(source: SourceClient, storage: ArtifactStorage, source_path: str, key: str, summary: Summary) -> None:
    response = source.open_artifact(source_path)
    try:
        stream = _CountingStream(response.raw)
        storage.write(key, stream)
    finally:
        response.close()
    summary.add("artifact_files")
    summary.add("artifact_bytes", stream.bytes)
