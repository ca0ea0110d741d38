"""The artifact storage port: what the artifact proxy needs from a local folder or an S3 bucket.

Paths are relative POSIX keys ("<project>/<experiment>/<run>/artifacts/model/MLmodel"),
already checked by service.artifacts.paths; adapters never see user input unchecked.
Adapters raise service.errors.MlflowError (RESOURCE_DOES_NOT_EXIST, NOT_IMPLEMENTED, ...) so the
API layer can pass their errors straight to the client.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Protocol

from mltracker.service.errors import MlflowError

# Downloads are streamed, and S3 parts read, in pieces this size. (Uploads to the local folder go
# through service.artifacts.file_copy, in 1 MiB buffers.)
CHUNK_SIZE = 64 * 1024

# MLflow clients recognise this message (prefix) and fall back to a single PUT.
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"


@dataclass(frozen=True)
class FileInfo:
    path: str  # the entry's name inside the listed directory
    is_dir: bool
    file_size: int | None = None


@dataclass(frozen=True)
class PartUploadUrl:
    part_number: int
    url: str
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MultipartUpload:
    upload_id: str
    parts: list[PartUploadUrl]


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    etag: str


@dataclass(frozen=True)
class PresignedDownload:
    size: int
    # A URL the store itself serves the object from, byte ranges included, until it expires; None
    # when the store cannot presign (a local folder: mltracker signs a link to itself instead).
    url: str | None


@dataclass
class ReadHandle:
    """An open object: its chunks (closing the iterator releases the object) and its size.
    file: the open local file behind the chunks, if there is one, so the WSGI server can send it
    with sendfile(2) instead of through Python."""

    chunks: Iterator[bytes]
    size: int | None
    file: BinaryIO | None = None


class ArtifactStorage(Protocol):
    supports_multipart: bool
    presigns_downloads: bool  # presign_download gives URLs of the store's own

    def probe(self) -> None:
        """Raise unless the store can be used now (readiness checks)."""

    def write(self, path: str, stream: BinaryIO) -> None:
        """Store the stream at path atomically: readers see the old object or the whole new one.
        If reading the stream fails, nothing is left behind."""

    def open_read(self, path: str) -> ReadHandle:
        """The object at path, streamed; ArtifactNotFound when absent or a directory."""

    def presign_download(self, path: str, expires_in: int) -> PresignedDownload:
        """The size of the file at path and, when the store can make one, a URL to fetch it from for
        expires_in seconds; ArtifactNotFound when absent or a directory."""

    def list_dir(self, path: str) -> list[FileInfo]:
        """Immediate children of the directory at path, sorted by name; [] for a file or nothing."""

    def delete(self, path: str) -> None:
        """Delete the object or the whole directory at path; nothing there is not an error."""

    def create_multipart_upload(self, path: str, num_parts: int) -> MultipartUpload: ...

    def complete_multipart_upload(self, path: str, upload_id: str, parts: list[UploadedPart]) -> None: ...

    def abort_multipart_upload(self, path: str, upload_id: str) -> None: ...


def multipart_unsupported() -> MlflowError:
    return MlflowError(MULTIPART_UNSUPPORTED, "NOT_IMPLEMENTED")


class ArtifactNotFound(LookupError):
    """No object at the given key (the API layer words the error with the client's path)."""
