"""The artifact browser: folders with sizes, previews of text/JSON/images, downloads of a file and
of a whole folder as a zip, streamed (nothing holds a whole artifact or archive in memory)."""
from __future__ import annotations

import json
import posixpath
import time
import zipfile
from dataclasses import dataclass

from flask import Response, render_template, stream_with_context
from werkzeug.exceptions import NotFound

from mltracker.service.artifacts.keys import (
    content_disposition,
    guess_mime_type,
    project_storage_key,
    proxied_root_path,
)
from mltracker.service.artifacts.paths import join_key, safe_relative_path
from mltracker.service.artifacts.storage import ArtifactNotFound
from mltracker.service.context import current_project_id, services
from mltracker.service.errors import MlflowError
from mltracker.service.tracking.experiments import get_experiment_row
from mltracker.service.tracking.runs import get_run_row
from mltracker.service.ui.blueprint import bp

PREVIEW_BYTES = 256 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "image/bmp"}
TEXT_TYPES = {"application/json", "application/xml", "application/x-yaml", "application/yaml",
              "application/javascript", "application/toml"}
# User content served inline cannot run script or reach anything, even when opened directly.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Entry:
    name: str
    path: str  # relative to the run's artifact root
    is_dir: bool
    size: int | None


def _root_key(run_row, relative: str) -> str:
    return project_storage_key(current_project_id(), join_key(proxied_root_path(run_row.artifact_uri), relative))


def list_artifacts(run, relative: str) -> tuple[list[Entry], str | None]:
    try:
        infos = services().artifacts.list_dir(_root_key(run, relative))
    except MlflowError as exc:
        return [], exc.message
    entries = [Entry(i.path, posixpath.join(relative, i.path) if relative else i.path, i.is_dir, i.file_size)
               for i in infos]
    entries.sort(key=lambda e: (not e.is_dir, e.name.lower()))
    return entries, None


def _run(run_id: str):
    with services().db.read() as conn:
        return get_run_row(conn, current_project_id(), run_id)


def _experiment_name(experiment_id: int) -> str:
    with services().db.read() as conn:
        return get_experiment_row(conn, current_project_id(), experiment_id).name


def _preview_kind(name: str) -> tuple[str, str]:
    mime = guess_mime_type(name)
    if mime in IMAGE_TYPES:
        return "image", mime
    if mime.startswith("text/") or mime in TEXT_TYPES or name.endswith((".json", ".yaml", ".yml")):
        return "text", mime
    return "binary", mime


def _read_prefix(key: str, limit: int) -> tuple[bytes, int | None, bool]:
    handle = services().artifacts.open_read(key)
    data = bytearray()
    try:
        for chunk in handle.chunks:
            data += chunk
            if len(data) > limit:
                break
    finally:
        close = getattr(handle.chunks, "close", None)
        if close:
            close()
    return bytes(data[:limit]), handle.size, len(data) > limit


@bp.get("/candidates/<run_id>/artifacts/", defaults={"path": ""})
@bp.get("/candidates/<run_id>/artifacts/<path:path>")
def artifacts(run_id: str, path: str):
    run = _run(run_id)
    relative = safe_relative_path(path)
    entries, error = list_artifacts(run, relative)
    crumbs = []
    parts = relative.split("/") if relative else []
    for i, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: i + 1])))
    preview = None
    if relative and not entries and not error:
        kind, mime = _preview_kind(parts[-1])
        try:
            if kind == "text":
                data, size, truncated = _read_prefix(_root_key(run, relative), PREVIEW_BYTES)
                text = data.decode("utf-8", errors="replace")
                if mime == "application/json" or relative.endswith(".json"):
                    try:
                        if not truncated:
                            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
                    except ValueError:
                        pass
                preview = {"kind": "text", "text": text, "size": size, "truncated": truncated}
            else:
                handle = services().artifacts.open_read(_root_key(run, relative))
                close = getattr(handle.chunks, "close", None)
                if close:
                    close()
                preview = {"kind": kind, "size": handle.size, "mime": mime}
        except ArtifactNotFound:
            raise NotFound(f"This candidate has no artifact at {relative}.") from None
    return render_template(
        "ui/artifacts.html", run=run, relative=relative, entries=entries, error=error, crumbs=crumbs,
        preview=preview, name=parts[-1] if parts else None, experiment_name=_experiment_name(run.experiment_id),
    )


def _stream_file(run, relative: str, attachment: bool) -> Response:
    if not relative:
        raise NotFound("Choose a file to download.")
    try:
        handle = services().artifacts.open_read(_root_key(run, relative))
    except ArtifactNotFound:
        raise NotFound(f"This candidate has no file at {relative}.") from None
    name = posixpath.basename(relative)
    mime = guess_mime_type(name)
    if not attachment and mime not in IMAGE_TYPES:
        mime = "text/plain; charset=utf-8" if _preview_kind(name)[0] == "text" else "application/octet-stream"
        attachment = mime == "application/octet-stream"
    response = Response(handle.chunks, mimetype=mime, direct_passthrough=True)
    if handle.size is not None:
        response.headers["Content-Length"] = str(handle.size)
    response.headers["Content-Disposition"] = content_disposition(name) if attachment else "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    return response


@bp.get("/candidates/<run_id>/raw/<path:path>")
def artifact_raw(run_id: str, path: str):
    return _stream_file(_run(run_id), safe_relative_path(path), attachment=False)


@bp.get("/candidates/<run_id>/download/<path:path>")
def artifact_download(run_id: str, path: str):
    return _stream_file(_run(run_id), safe_relative_path(path), attachment=True)


class _ZipSink:
    """A write-only, non-seekable file for zipfile; the bytes written so far are taken in pieces."""

    def __init__(self):
        self.pending = bytearray()

    def write(self, data) -> int:
        self.pending += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.pending = bytes(self.pending), bytearray()
        return data


def _walk(run, relative: str):
    """(path relative to the run root, is_dir) for every file under a folder, depth first."""
    storage = services().artifacts
    stack = [relative]
    while stack:
        folder = stack.pop()
        for info in storage.list_dir(_root_key(run, folder)):
            path = posixpath.join(folder, info.path) if folder else info.path
            if info.is_dir:
                stack.append(path)
            else:
                yield path


def zip_stream(run, relative: str):
    storage = services().artifacts
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in _walk(run, relative):
            name = path[len(relative):].lstrip("/") if relative else path
            handle = storage.open_read(_root_key(run, path))
            info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as out:
                for chunk in handle.chunks:
                    out.write(chunk)
                    if len(sink.pending) >= 1024 * 1024:
                        yield sink.take()
            yield sink.take()
    yield sink.take()


@bp.get("/candidates/<run_id>/zip/", defaults={"path": ""})
@bp.get("/candidates/<run_id>/zip/<path:path>")
def artifact_zip(run_id: str, path: str):
    run = _run(run_id)
    relative = safe_relative_path(path)
    if not list_artifacts(run, relative)[0]:
        raise NotFound("This folder is empty or does not exist.")
    label = posixpath.basename(relative) if relative else f"{run.name or run.run_uuid}-artifacts"
    response = Response(stream_with_context(zip_stream(run, relative)), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(label + ".zip")
    return response
