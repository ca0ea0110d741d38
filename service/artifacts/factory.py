"""Choose the artifact storage adapter from MLTRACKER_ARTIFACTS_DESTINATION."""
from __future__ import annotations

from mltracker.service.artifacts.storage import ArtifactStorage
from mltracker.service.settings import S3Options


def storage_from_destination(destination: str, s3: S3Options | None = None) -> ArtifactStorage:
    """s3://bucket/prefix → S3Storage (reached as `s3` says: Settings.s3); a folder path (or
    file:// URI) → LocalStorage."""
    if destination.startswith("s3://"):
        from mltracker.service.artifacts.s3 import S3Storage

        return S3Storage.from_uri(destination, options=s3)
    from mltracker.service.artifacts.local import LocalStorage

    if destination.startswith("file://"):
        from urllib.parse import unquote, urlparse

        destination = unquote(urlparse(destination).path)
    return LocalStorage(destination)
