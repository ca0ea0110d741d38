"""Parallel downloads for the stock MLflow client (3.x): `/server-info` says
`multipart_downloads_enabled`, the client asks `GET /mlflow-artifacts/presigned/<path>` for
`{url, headers, file_size}` and fetches the file from that URL in byte ranges, several at a time.

The URL is the store's own presigned URL where it has one (S3), else a link to this server signed
for the one storage key and a few minutes (service.artifacts.download_links), served at the root
by `links` without any other credential: the presigned request itself was authorized as a download
of that project's artifact (the per-project API's hook), and the signature stands for that.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Blueprint, request

from mltracker.service.api.artifacts import checked_file_path, project_key, refuse_encoded_traversal, stream_artifact
from mltracker.service.api.json_response import json_response
from mltracker.service.artifacts.download_links import LinkExpired, LinkRefused
from mltracker.service.artifacts.paths import invalid_path, safe_relative_path
from mltracker.service.artifacts.storage import ArtifactNotFound
from mltracker.service.context import services
from mltracker.service.errors import MlflowError, not_found

bp = Blueprint("presigned_downloads", __name__)
links = Blueprint("artifact_links", __name__)

bp.before_request(refuse_encoded_traversal)
links.before_request(refuse_encoded_traversal)

LINKS_PATH = "/api/mltracker/artifact-links"
# mlflow.exceptions._UnsupportedMultipartDownloadException: the client falls back on a 501.
MULTIPART_DOWNLOAD_UNSUPPORTED = "Multipart download is not supported for the current artifact repository"


def multipart_downloads_enabled() -> bool:
    """As configured; by default where the store presigns its own URLs (see Settings)."""
    chosen = services().settings.multipart_downloads
    return services().artifacts.presigns_downloads if chosen is None else chosen


@bp.get("/presigned/<path:artifact_path>")
def presigned_download(artifact_path: str):
    path = checked_file_path(artifact_path)
    settings = services().settings
    if not multipart_downloads_enabled():
        raise MlflowError(MULTIPART_DOWNLOAD_UNSUPPORTED, "NOT_IMPLEMENTED")
    key = project_key(path)
    try:
        presigned = services().artifacts.presign_download(key, settings.presigned_download_ttl)
    except ArtifactNotFound:
        raise not_found(f"Artifact not found: {path}") from None
    url = presigned.url or _signed_link(key, settings.presigned_download_ttl)
    return json_response({"url": url, "headers": {}, "file_size": presigned.size})


def _signed_link(key: str, ttl: int) -> str:
    link = services().download_links.sign(key, ttl)
    query = urlencode({"expires": link.expires, "signature": link.signature})
    # MLTRACKER_PUBLIC_URL when set (a proxy may not forward the Host clients use), else the
    # address this request reached (behind trusted proxies: what they forwarded).
    base = services().settings.public_url or request.url_root
    return f"{base.rstrip('/')}{LINKS_PATH}/{quote(key, safe='/')}?{query}"


@links.get(f"{LINKS_PATH}/<path:key>")
def download_by_link(key: str):
    key = safe_relative_path(key)
    project, _, path = key.partition("/")
    if not (project.isascii() and project.isdigit()) or not path:
        raise invalid_path()
    try:
        services().download_links.check(key, request.args.get("expires"), request.args.get("signature"))
    except LinkExpired:
        raise MlflowError("The download link has expired", "PERMISSION_DENIED") from None
    except LinkRefused:
        raise MlflowError("Invalid download link", "PERMISSION_DENIED") from None
    return stream_artifact(key, path)
