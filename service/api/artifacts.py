"""The artifact proxy (MLflow's /api/2.0/mlflow-artifacts API), scoped to the request's project.

The client's path "<experiment>/<run>/artifacts/x.txt" is stored under "<project>/<that path>".
Bodies are streamed both ways; nothing holds a whole artifact in memory.
"""
from __future__ import annotations

import posixpath
from typing import BinaryIO

from flask import Blueprint, Response, request
from werkzeug.wsgi import wrap_file

from mltracker.service.api.byte_ranges import ByteRange, RangeNotSatisfiable, requested_range
from mltracker.service.api.json_response import json_response
from mltracker.service.api.request import message
from mltracker.service.api.request_body import request_body
from mltracker.service.artifacts.keys import content_disposition, guess_mime_type, project_storage_key
from mltracker.service.artifacts.paths import check_raw_request_path, invalid_path, join_key, safe_file_name, safe_relative_path
from mltracker.service.artifacts.storage import CHUNK_SIZE, ArtifactNotFound, FileInfo, UploadedPart
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import invalid, not_found

bp = Blueprint("artifacts", __name__)

MAX_PARTS = 10_000


@bp.before_request
def refuse_encoded_traversal():
    check_raw_request_path(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"))


def project_key(relative_path: str) -> str:
    """The storage key of a client path in the current project."""
    return project_storage_key(current_project_id(), relative_path)


def file_info_json(info: FileInfo, path: str | None = None) -> dict:
    entry = {"path": path if path is not None else info.path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size:  # MLflow leaves a 0-byte size out, like proto3 defaults
        entry["file_size"] = info.file_size
    return entry


def checked_file_path(artifact_path: str) -> str:
    path = safe_relative_path(artifact_path)
    if not path:
        raise invalid_path()
    return path


@bp.get("/artifacts")
def list_artifacts():
    path = safe_relative_path(request.args.get("path"))
    infos = services().artifacts.list_dir(project_key(path))
    return json_response({"files": [file_info_json(info) for info in infos]})


@bp.get("/artifacts/<path:artifact_path>")
def download_artifact(artifact_path: str):
    path = checked_file_path(artifact_path)
    return stream_artifact(project_key(path), path)


def stream_artifact(key: str, shown_path: str) -> Response:
    """The stored object at key, streamed as a download; errors name the client's path. A local
    file honours one byte range of a Range header (206), as MLflow's download of a local file does."""
    try:
        handle = services().artifacts.open_read(key)
    except ArtifactNotFound:
        raise not_found(f"Artifact not found: {shown_path}") from None
    status, span = 200, None
    if handle.file is not None and handle.size is not None:
        try:
            span = requested_range(request.headers.get("Range"), handle.size)
        except RangeNotSatisfiable:
            handle.file.close()
            return _range_not_satisfiable(handle.size)
    name = posixpath.basename(shown_path)
    if span is not None:
        # Only the span: gunicorn sends it with sendfile(2) from its start, Content-Length long.
        body = wrap_file(request.environ, _FileSpan(handle.file, span), CHUNK_SIZE)
        status = 206
    elif handle.file is not None:
        # A local file goes to the WSGI server's file wrapper: gunicorn sends it with sendfile(2).
        body = wrap_file(request.environ, handle.file, CHUNK_SIZE)
    else:
        body = handle.chunks
    response = Response(body, status=status, direct_passthrough=True)
    response.headers["Content-Type"] = guess_mime_type(name)  # exactly, without a charset, as MLflow
    if span is not None:
        response.content_length = span.length
        response.headers["Content-Range"] = span.content_range(handle.size)
    elif handle.size is not None:
        response.content_length = handle.size
    if handle.file is not None:
        response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _range_not_satisfiable(size: int) -> Response:
    response = json_response({"error_code": "INVALID_PARAMETER_VALUE",
                              "message": f"Requested range not satisfiable: the artifact has {size} bytes"}, 416)
    response.headers["Content-Range"] = f"bytes */{size}"
    return response


class _FileSpan:
    """One byte range of an open file: read() stops at its end (for a server without sendfile), and
    the file's position is the span's start, where gunicorn's sendfile(2) begins."""

    def __init__(self, file: BinaryIO, span: ByteRange):
        file.seek(span.start)
        self._file = file
        self._left = span.length

    def fileno(self) -> int:
        return self._file.fileno()

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._file.read(self._left if size is None or size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


@bp.put("/artifacts/<path:artifact_path>")
def upload_artifact(artifact_path: str):
    path = checked_file_path(artifact_path)
    with request_body() as body:
        services().artifacts.write(project_key(path), body)
    return json_response({})


@bp.delete("/artifacts/<path:artifact_path>")
def delete_artifact(artifact_path: str):
    path = checked_file_path(artifact_path)
    services().artifacts.delete(project_key(path))
    return json_response({})


# ---------------------------------------------------------------- multipart (S3)
# As in MLflow: the URL names the destination directory, the body's "path" the client's local
# file, whose base name completes the key.

def _multipart_target(artifact_path: str, msg) -> str:
    directory = safe_relative_path(artifact_path)
    local_file = msg.string("path", required=True)
    name = safe_file_name(local_file.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])
    return project_key(join_key(directory, name))


def _upload_id(msg) -> str:
    return msg.string("upload_id", required=True)


@bp.post("/mpu/create/<path:artifact_path>")
def create_multipart_upload(artifact_path: str):
    storage = services().artifacts
    msg = message()
    key = _multipart_target(artifact_path, msg)
    num_parts = msg.integer("num_parts", default=1)
    if not 1 <= num_parts <= MAX_PARTS:
        raise invalid(f"num_parts must be between 1 and {MAX_PARTS}, got {num_parts}")
    upload = storage.create_multipart_upload(key, num_parts)
    return json_response({
        "upload_id": upload.upload_id,
        "credentials": [
            {"url": part.url, "part_number": part.part_number, "headers": dict(part.headers)}
            for part in upload.parts
        ],
    })


@bp.post("/mpu/complete/<path:artifact_path>")
def complete_multipart_upload(artifact_path: str):
    storage = services().artifacts
    msg = message()
    key = _multipart_target(artifact_path, msg)
    upload_id = _upload_id(msg)
    parts = []
    for item in msg.objects("parts"):
        number, etag = item.get("part_number"), item.get("etag")
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise invalid("Each part needs an integer 'part_number' and a string 'etag'")
        parts.append(UploadedPart(part_number=number, etag=etag))
    if not parts:
        raise invalid("Missing value for required parameter 'parts'")
    storage.complete_multipart_upload(key, upload_id, sorted(parts, key=lambda p: p.part_number))
    return json_response({})


@bp.post("/mpu/abort/<path:artifact_path>")
def abort_multipart_upload(artifact_path: str):
    storage = services().artifacts
    msg = message()
    key = _multipart_target(artifact_path, msg)
    storage.abort_multipart_upload(key, _upload_id(msg))
    return json_response({})
